/**
 * An organisation's groups: a hierarchy (ministry → department → unit) of named
 * groups, and the people directly in each. A group's parent is in the same
 * organisation (the database's composite foreign key); a move (move.ts) refuses to
 * make a cycle. A group is named in claims by its
 * path, its ancestors' names and its own joined by `/` ("/ministry/department/unit");
 * sibling names are unique, so a path names one group.
 *
 * The model is kept simple for the directory (SCIM Groups): `id`, `organisation_id`,
 * `parent_id`, `name`, `external_id` (nullable, unique per organisation) and the
 * membership table `group_members (group_id, user_id)`.
 *
 * Every change is audited in its transaction; who may change them is the
 * organisation's admins (the admin API) and the operator (the CLI). Joining or
 * leaving a sensitive group (sensitive.ts) takes a second admin: one admin's ask
 * opens a change request (src/change-requests/).
 */
import type { Kysely, Transaction } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import { type Approval, approvalDetails, askerOf, auditingPersonRequired, type AwaitingApproval, openChangeRequest } from '../change-requests/requests.js';
import { newId } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { conflict, invalidRequest, notFound } from '../errors.js';
import type { PeopleActor } from '../people/authority.js';
import { pathsOf } from './paths.js';
import { organisationGroups, sensitiveGroupsAmong } from './sensitive.js';

export { pathsOf };

export type GroupDeps = { db: Kysely<Database> } & AuditWriter;

export interface GroupView {
  id: string;
  name: string;
  path: string;
  parent_id: string | null;
  external_id: string | null;
  /** Flagged sensitive itself; a group under a flagged one, or one a client requires, is sensitive too (sensitive.ts). */
  sensitive: boolean;
  members: number;
}

export const GROUP_NAME = /^[^/\p{Cc}]{1,100}$/u;
const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
export const groupNotFound = () => notFound('group_not_found', 'no such group in your organisation');

export async function listGroups(db: Kysely<Database>, organisationId: string): Promise<GroupView[]> {
  const groups = await db
    .selectFrom('groups')
    .select(['id', 'name', 'parent_id', 'external_id', 'sensitive'])
    .select((eb) => eb.selectFrom('group_members').select(eb.fn.countAll<string>().as('n')).whereRef('group_members.group_id', '=', 'groups.id').as('members'))
    .where('organisation_id', '=', organisationId)
    .execute();
  const paths = pathsOf(groups);
  return groups.map((g) => ({ id: g.id, name: g.name, path: paths.get(g.id)!, parent_id: g.parent_id, external_id: g.external_id, sensitive: g.sensitive, members: Number(g.members ?? 0) })).sort((a, b) => a.path.localeCompare(b.path));
}

/** The group of `organisationId` that `reference` names: its id, or its path. */
export async function findGroup(db: Kysely<Database>, organisationId: string, reference: string): Promise<GroupView> {
  const groups = await listGroups(db, organisationId);
  const group = groups.find((g) => g.id === reference) ?? groups.find((g) => g.path.toLowerCase() === reference.toLowerCase());
  if (!group) throw groupNotFound();
  return group;
}

export async function createGroup(deps: GroupDeps, context: AuditContext, input: { organisationId: string; name: string; parentId?: string | null; externalId?: string | null; sensitive?: boolean }): Promise<GroupView> {
  const name = input.name.trim();
  if (!GROUP_NAME.test(name)) throw invalidRequest('a group name is 1 to 100 characters, without "/" or control characters');
  const externalId = input.externalId?.trim() || null;
  if (externalId !== null && externalId.length > 200) throw invalidRequest('external_id is at most 200 characters');
  const parentId = input.parentId ?? null;
  if (parentId !== null && !isUuid(parentId)) throw notFound('parent_not_found', 'no such parent group in your organisation');
  return deps.db.transaction().execute(async (trx) => {
    if (parentId !== null) {
      const parent = await trx.selectFrom('groups').select('id').where('id', '=', parentId).where('organisation_id', '=', input.organisationId).executeTakeFirst();
      if (!parent) throw notFound('parent_not_found', 'no such parent group in your organisation');
    }
    const created = await trx
      .insertInto('groups')
      .values({ id: newId(), organisation_id: input.organisationId, parent_id: parentId, name, external_id: externalId, sensitive: input.sensitive === true, created_at: deps.clock.now() })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!created) throw conflict('group_exists', 'a group with this name already exists under that parent, or another group has this external_id');
    const group = (await listGroups(trx, input.organisationId)).find((g) => g.id === created.id)!;
    await appendAudit(trx, deps, context, { action: 'group.created', subject: `group:${group.id}`, details: { organisation_id: input.organisationId, path: group.path, ...(externalId === null ? {} : { external_id: externalId }), ...(group.sensitive ? { sensitive: true } : {}) } });
    return group;
  });
}

async function memberOfOrganisation(db: Kysely<Database>, organisationId: string, userId: string): Promise<void> {
  const user = isUuid(userId) ? await db.selectFrom('users').select('id').where('id', '=', userId).where('organisation_id', '=', organisationId).executeTakeFirst() : undefined;
  if (!user) throw notFound('person_not_found', 'no such person in your organisation');
}

export interface MembershipInput {
  actor: PeopleActor;
  organisationId: string;
  groupId: string;
  userId: string;
  reason?: string | null;
}

export type MemberAdded = { group: string; user_id: string; added: boolean };
export type MemberRemoved = { group: string; user_id: string; removed: boolean };

export async function addGroupMember(deps: GroupDeps, context: AuditContext, input: MembershipInput): Promise<MemberAdded | AwaitingApproval> {
  const change = await changeMembership(deps, context, input, 'add');
  return 'changed' in change ? { group: change.group, user_id: change.user_id, added: change.changed } : change;
}

export async function removeGroupMember(deps: GroupDeps, context: AuditContext, input: MembershipInput): Promise<MemberRemoved | AwaitingApproval> {
  const change = await changeMembership(deps, context, input, 'remove');
  return 'changed' in change ? { group: change.group, user_id: change.user_id, removed: change.changed } : change;
}

type MembershipChange = { group: string; user_id: string; changed: boolean };

async function changeMembership(deps: GroupDeps, context: AuditContext, input: MembershipInput, direction: 'add' | 'remove'): Promise<MembershipChange | AwaitingApproval> {
  const group = await findGroup(deps.db, input.organisationId, input.groupId);
  await memberOfOrganisation(deps.db, input.organisationId, input.userId);
  return auditingPersonRequired(deps, context, input.actor, `group.${direction}_member`, () =>
    deps.db.transaction().execute(async (trx) => {
      // Read under a share lock: a move in progress finishes first, so "sensitive" is judged on the hierarchy as it is.
      const groups = await organisationGroups(trx, input.organisationId, 'share');
      const member = await trx.selectFrom('group_members').select('user_id').where('group_id', '=', group.id).where('user_id', '=', input.userId).executeTakeFirst();
      if ((direction === 'add') === (member !== undefined)) return { group: group.path, user_id: input.userId, changed: false };
      if ((await sensitiveGroupsAmong(trx, input.organisationId, groups)).has(group.id)) {
        const requestedBy = askerOf(input.actor);
        if (requestedBy !== null)
          return openChangeRequest(trx, deps, context, {
            organisationId: input.organisationId,
            requestedBy,
            kind: direction === 'add' ? 'group.add_member' : 'group.remove_member',
            userId: input.userId,
            groupId: group.id,
            change: {},
            reason: input.reason ?? null,
            subject: `user:${input.userId}`,
            details: { group_id: group.id, path: group.path },
          });
      }
      return applyMembership(trx, deps, context, { organisationId: input.organisationId, group, userId: input.userId, direction });
    }),
  );
}

/** Puts the person in the group or takes them out, with its audit entry; `approval` when a second admin approved it. */
export async function applyMembership(
  trx: Transaction<Database>,
  deps: GroupDeps,
  context: AuditContext,
  input: { organisationId: string; group: Pick<GroupView, 'id' | 'path'>; userId: string; direction: 'add' | 'remove'; approval?: Approval },
): Promise<MembershipChange> {
  const { group, userId } = input;
  const changed =
    input.direction === 'add'
      ? await trx.insertInto('group_members').values({ group_id: group.id, user_id: userId, added_at: deps.clock.now() }).onConflict((oc) => oc.doNothing()).returning('user_id').executeTakeFirst()
      : await trx.deleteFrom('group_members').where('group_id', '=', group.id).where('user_id', '=', userId).returning('user_id').executeTakeFirst();
  if (changed)
    await appendAudit(trx, deps, context, {
      action: input.direction === 'add' ? 'group.member_added' : 'group.member_removed',
      subject: `user:${userId}`,
      details: { organisation_id: input.organisationId, group_id: group.id, path: group.path, ...approvalDetails(input.approval) },
    });
  return { group: group.path, user_id: userId, changed: changed !== undefined };
}

/**
 * The paths of the groups `userId` is in: those they are directly in and every
 * ancestor of them (a member of a unit is in its department and its ministry), sorted.
 */
export async function groupPathsOf(db: Kysely<Database>, userId: string): Promise<string[]> {
  const user = await db.selectFrom('users').select('organisation_id').where('id', '=', userId).executeTakeFirst();
  if (!user) return [];
  const groups = await db.selectFrom('groups').select(['id', 'parent_id', 'name']).where('organisation_id', '=', user.organisation_id).execute();
  if (groups.length === 0) return [];
  const direct = await db.selectFrom('group_members').select('group_id').where('user_id', '=', userId).execute();
  const byId = new Map(groups.map((g) => [g.id, g]));
  const paths = pathsOf(groups);
  const inGroups = new Set<string>();
  for (const { group_id } of direct) {
    for (let id: string | null = group_id; id !== null && !inGroups.has(id); id = byId.get(id)?.parent_id ?? null) inGroups.add(id);
  }
  return [...inGroups].map((id) => paths.get(id)!).sort();
}
