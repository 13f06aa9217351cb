/**
 * The SCIM Group resource (RFC 7643 §4.2) as Warta keeps a group: `displayName` is the
 * group's name, `externalId` the directory's id for it, `members` the people directly
 * in it (`value` a user's id). SCIM has no hierarchy: a group's parent is not shown,
 * and a group a directory creates is a top-level one (an admin may move it under
 * another). Members are people only: a group's groups are the hierarchy an admin
 * builds, never a member.
 */
import { createHash } from 'node:crypto';
import { invalidSyntax, invalidValue } from './errors.js';
import { canonical } from './user-resource.js';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** The groups service's limits (src/groups/service.ts). */
export const MAX_GROUP_NAME = 100;
export const MAX_GROUP_EXTERNAL_ID = 200;
/**
 * How many member values one POST, PUT or PATCH may carry: a directory sends large
 * groups in several PATCHes (Entra ID and Okta do), and every change is an audit entry
 * written while the group is locked.
 */
export const MAX_MEMBERS_PER_REQUEST = 1000;

/** What Warta keeps of a Group: what a POST or PUT sets and a PATCH changes. */
export interface ScimGroupFields {
  displayName: string;
  externalId: string | null;
  /** User ids, without repeats. */
  members: string[];
}

/** A group as the SCIM answers show it. */
export interface ScimGroup {
  id: string;
  name: string;
  external_id: string | null;
  created_at: Date;
  updated_at: Date;
  /** A digest of the member ids, so the version changes with the members even when they are not shown. */
  members_digest: string;
}

export interface ScimMember {
  id: string;
  display_name: string;
}

const WRITABLE = ['schemas', 'displayName', 'externalId', 'members'] as const;
const READ_ONLY = ['id', 'meta'] as const;
const MEMBER_PARTS = ['value', 'display', '$ref', 'type'] as const;

const keyOf = (object: Record<string, unknown>, name: string) => Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase());
const get = (object: Record<string, unknown>, name: string) => {
  const key = keyOf(object, name);
  return key === undefined ? undefined : object[key];
};

export function displayNameOf(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidValue('displayName is required');
  const name = value.trim();
  if (name.length > MAX_GROUP_NAME) throw invalidValue(`displayName is longer than ${MAX_GROUP_NAME} characters`);
  if (name.includes('/')) throw invalidValue('displayName cannot contain "/": Warta names a group by its path, /parent/child');
  return name;
}

export function externalIdOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidValue('externalId must be a string');
  const trimmed = value.trim();
  if (trimmed.length > MAX_GROUP_EXTERNAL_ID) throw invalidValue(`externalId is longer than ${MAX_GROUP_EXTERNAL_ID} characters`);
  return trimmed === '' ? null : trimmed;
}

/** The user ids of a `members` value: an array of `{value, display?, $ref?, type?}` (or one such object, as some PATCHes send). */
export function memberIdsOf(value: unknown, where = 'members'): string[] {
  if (value === undefined || value === null) return [];
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length > MAX_MEMBERS_PER_REQUEST) throw invalidValue(`at most ${MAX_MEMBERS_PER_REQUEST} members in one request: send a large group in several PATCHes`);
  return entries.map((entry, index) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw invalidValue(`${where}[${index}] must be an object with a value`);
    const member = entry as Record<string, unknown>;
    const unknown = Object.keys(member).filter((key) => !canonical(key, MEMBER_PARTS));
    if (unknown.length) throw invalidSyntax(`${where}[${index}] has attributes Warta does not keep: ${unknown.slice(0, 5).join(', ')}`);
    const type = get(member, 'type');
    if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'user')) throw invalidValue(`${where}[${index}]: a group's members are users; groups under a group are an admin's to arrange`);
    const id = get(member, 'value');
    if (typeof id !== 'string' || id === '' || id.length > 64) throw invalidValue(`${where}[${index}].value must be a user's id`);
    return id;
  });
}

/** A Group body of a POST or PUT as the fields Warta keeps; anything else is refused, never dropped. */
export function groupFieldsOf(body: Record<string, unknown>): ScimGroupFields {
  const unknown = Object.keys(body).filter((key) => !canonical(key, WRITABLE) && !canonical(key, READ_ONLY));
  if (unknown.length) throw invalidSyntax(`Group has attributes Warta does not keep: ${unknown.slice(0, 5).join(', ')}`);
  return { displayName: displayNameOf(get(body, 'displayName')), externalId: externalIdOf(get(body, 'externalId')), members: [...new Set(memberIdsOf(get(body, 'members')))] };
}

/** `excludedAttributes` (RFC 7644 §3.4.2.5) names `members`: Entra ID asks so, to spare reading a large group. */
export function excludesMembers(excludedAttributes: string | undefined): boolean {
  if (excludedAttributes === undefined) return false;
  const prefix = `${GROUP_SCHEMA.toLowerCase()}:`;
  return excludedAttributes.split(',').some((name) => {
    const attribute = name.trim().toLowerCase();
    return (attribute.startsWith(prefix) ? attribute.slice(prefix.length) : attribute) === 'members';
  });
}

/** The resource's version (RFC 7644 §3.14): a hash of what it shows, its members included, and when it last changed. */
export function groupVersion(group: ScimGroup): string {
  const digest = createHash('sha256').update(JSON.stringify([group.id, group.name, group.external_id, group.members_digest, group.updated_at.toISOString()])).digest('base64url');
  return `W/"${digest.slice(0, 22)}"`;
}

/** The resource; `members` undefined leaves the attribute out (`excludedAttributes=members`). */
export function groupResource(group: ScimGroup, members: readonly ScimMember[] | undefined, baseUrl: string) {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(group.external_id ? { externalId: group.external_id } : {}),
    displayName: group.name,
    ...(members ? { members: members.map((m) => ({ value: m.id, $ref: `${baseUrl}/Users/${m.id}`, display: m.display_name })) } : {}),
    meta: { resourceType: 'Group', created: group.created_at.toISOString(), lastModified: group.updated_at.toISOString(), location: `${baseUrl}/Groups/${group.id}`, version: groupVersion(group) },
  };
}
