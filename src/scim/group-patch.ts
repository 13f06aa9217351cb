/**
 * PATCH of a Group (RFC 7644 §3.5.2) in the shapes directories send:
 *
 * - RFC 7644 §3.5.2.1 and Okta: `{"op":"add","path":"members","value":[{"value":"<user id>"}]}`;
 * - RFC 7644 §3.5.2.2 and Okta: `{"op":"remove","path":"members[value eq \"<user id>\"]"}`;
 * - Entra ID: `{"op":"Remove","path":"members","value":[{"value":"<user id>"}]}` (a remove
 *   naming its values; without a value, `remove` of `members` empties the group);
 * - `{"op":"replace","path":"members","value":[…]}`: the members become those listed;
 * - `{"op":"Replace","path":"displayName","value":"…"}` (Entra ID), and Okta's
 *   `{"op":"replace","value":{"id":"<the group's id>","displayName":"…"}}`.
 *
 * The operations apply in order to the group as it is; the result is checked like a PUT.
 */
import { invalidValue, scimError } from './errors.js';
import { displayNameOf, externalIdOf, GROUP_SCHEMA, MAX_MEMBERS_PER_REQUEST, memberIdsOf, type ScimGroupFields } from './group-resource.js';
import type { patchOperations } from './patch.js';
import { canonical } from './user-resource.js';

type Operation = ReturnType<typeof patchOperations>[number];
const ATTRIBUTES = ['displayName', 'externalId', 'members'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

const invalidPath = (detail: string) => scimError(400, 'invalidPath', detail);
// members[value eq "…"], the only value filter a group's path takes.
const MEMBER_FILTER = /^members\[\s*value\s+eq\s+("(?:[^"\\]|\\.)*")\s*\]$/i;

interface GroupState {
  displayName: string | null;
  externalId: string | null;
  members: Set<string>;
}

function parsePath(raw: string): { attribute: Attribute; member?: string } {
  const path = raw.toLowerCase().startsWith(`${GROUP_SCHEMA.toLowerCase()}:`) ? raw.slice(GROUP_SCHEMA.length + 1) : raw;
  const filtered = MEMBER_FILTER.exec(path.trim());
  if (filtered) {
    let member: unknown;
    try {
      member = JSON.parse(filtered[1]!);
    } catch {
      throw scimError(400, 'invalidFilter', "the value in the path's filter is not a valid JSON string");
    }
    return { attribute: 'members', member: member as string };
  }
  const attribute = canonical(path.trim(), ATTRIBUTES);
  if (!attribute) throw invalidPath(`"${raw.slice(0, 100)}" is not a path of a Warta group: displayName, externalId, members or members[value eq "…"]`);
  return { attribute };
}

/** Applies `operations`, in order, to the group as it is (`current`), for the group `groupId`. */
export function applyGroupPatch(groupId: string, current: ScimGroupFields, operations: readonly Operation[]): ScimGroupFields {
  const state: GroupState = { displayName: current.displayName, externalId: current.externalId, members: new Set(current.members) };
  let memberValues = 0;
  const membersIn = (value: unknown, where: string) => {
    const ids = memberIdsOf(value, where);
    memberValues += ids.length;
    if (memberValues > MAX_MEMBERS_PER_REQUEST) throw invalidValue(`at most ${MAX_MEMBERS_PER_REQUEST} members in one request: send a large group in several PATCHes`);
    return ids;
  };

  operations.forEach(({ op, path, value }, index) => {
    const where = `Operations[${index}]`;
    if (path === undefined) {
      if (op === 'remove') throw scimError(400, 'noTarget', 'remove needs a path');
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidValue(`${where}: ${op} without a path takes an object of attributes`);
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        // Okta sends the group's own id alongside; it names this group, it changes nothing.
        if (key.toLowerCase() === 'id') {
          if (item !== groupId) throw scimError(400, 'mutability', 'id is assigned by Warta and never changes');
          continue;
        }
        setAt(state, parsePath(key), op, item, (v) => membersIn(v, `${where}.value.${key}`));
      }
      return;
    }
    const target = parsePath(path);
    if (op === 'remove') removeAt(state, target, value, (v) => membersIn(v, `${where}.value`));
    else setAt(state, target, op, value, (v) => membersIn(v, `${where}.value`));
  });

  if (state.displayName === null) throw invalidValue('displayName is required');
  return { displayName: state.displayName, externalId: state.externalId, members: [...state.members] };
}

function setAt(state: GroupState, path: ReturnType<typeof parsePath>, op: 'add' | 'replace' | 'remove', value: unknown, membersIn: (value: unknown) => string[]): void {
  if (path.member !== undefined) throw invalidPath('members[value eq "…"] names a member to remove; add and replace take the path members');
  if (path.attribute === 'displayName') state.displayName = displayNameOf(value);
  else if (path.attribute === 'externalId') state.externalId = externalIdOf(value);
  else {
    const ids = membersIn(value);
    // add appends to a multi-valued attribute, replace replaces all its values (RFC 7644 §3.5.2.1, §3.5.2.3).
    if (op === 'replace') state.members.clear();
    for (const id of ids) state.members.add(id);
  }
}

function removeAt(state: GroupState, path: ReturnType<typeof parsePath>, value: unknown, membersIn: (value: unknown) => string[]): void {
  if (path.attribute === 'displayName') state.displayName = null;
  else if (path.attribute === 'externalId') state.externalId = null;
  else if (path.member !== undefined) state.members.delete(path.member);
  else if (value === undefined || value === null) state.members.clear();
  else for (const id of membersIn(value)) state.members.delete(id);
}
