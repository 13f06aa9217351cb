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
import { type Approval, approvalDetails, askerOf, auditingPersonRequired, type AwaitingApproval, openChangeRequest } from '../authority/change-requests.js';
import { newId } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { withinTransaction } from '../db/transaction.js';
import { conflict, invalidRequest, notFound, WartaError } from '../errors.js';
import type { PeopleActor } from '../authority/people.js';
import { type GroupNode, pathsOf } from './paths.js';
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
  const now = deps.clock.now();
  return withinTransaction(deps.db, async (trx) => {
    if (parentId !== null) {
      const parent = await trx.selectFrom('groups').select('id').where('id', '=', parentId).where('organisation_id', '=', input.organisationId).executeTakeFirst();
      if (!parent) throw notFound('parent_not_found', 'no such parent group in your organisation');
    }
    const created = await trx
      .insertInto('groups')
      .values({ id: newId(), organisation_id: input.organisationId, parent_id: parentId, name, external_id: externalId, sensitive: input.sensitive === true, created_at: now, updated_at: now })
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
  if (changed) await touchGroup(trx, deps, group.id);
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

/** A group's `updated_at` (its SCIM `meta.lastModified`), when its name, external id or members change. */
async function touchGroup(trx: Transaction<Database>, deps: Pick<GroupDeps, 'clock'>, groupId: string): Promise<void> {
  await trx.updateTable('groups').set({ updated_at: deps.clock.now() }).where('id', '=', groupId).execute();
}

/**
 * The group `reference` names, with the organisation's groups locked until the
 * transaction ends (FOR UPDATE, in id order, as a move locks them): the change, its
 * sensitivity and its audit entry see one hierarchy, and taking every lock in one
 * order keeps two changes from waiting on each other.
 */
async function lockGroup(trx: Transaction<Database>, organisationId: string, reference: string): Promise<{ group: GroupView; groups: GroupNode[] }> {
  const groups = await organisationGroups(trx, organisationId, 'update');
  return { group: await findGroup(trx, organisationId, reference), groups };
}

/** Sets or clears the directory's id for a group (SCIM `externalId`), unique in the organisation. It names no one's authority, so one admin or the directory changes it. */
export async function setGroupExternalId(deps: GroupDeps, context: AuditContext, input: { organisationId: string; groupId: string; externalId: string | null }): Promise<GroupView> {
  const externalId = input.externalId?.trim() || null;
  if (externalId !== null && externalId.length > 200) throw invalidRequest('external_id is at most 200 characters');
  const taken = () => conflict('group_exists', 'another group of the organisation has this external_id');
  return withinTransaction(deps.db, async (trx) => {
    const { group } = await lockGroup(trx, input.organisationId, input.groupId);
    if (group.external_id === externalId) return group;
    if (externalId !== null) {
      const other = await trx.selectFrom('groups').select('id').where('organisation_id', '=', input.organisationId).where('external_id', '=', externalId).where('id', '<>', group.id).executeTakeFirst();
      if (other) throw taken();
    }
    try {
      await trx.updateTable('groups').set({ external_id: externalId, updated_at: deps.clock.now() }).where('id', '=', group.id).execute();
    } catch (error) {
      // Two writers racing for one external id: the unique index decides, and the loser hears 409, not 500.
      if ((error as { code?: unknown }).code === '23505') throw taken();
      throw error;
    }
    await appendAudit(trx, deps, context, { action: 'group.external_id_changed', subject: `group:${group.id}`, details: { organisation_id: input.organisationId, path: group.path, before: group.external_id, after: externalId } });
    return { ...group, external_id: externalId };
  });
}

/**
 * Deletes a group with no groups under it (409 `group_has_children` otherwise: deleting a
 * department must not silently delete its units). Its members leave it, each audited as
 * `group.member_removed` under the person, so their own record says so.
 *
 * A sensitive group (sensitive.ts) is the operator's to delete: deleting it takes
 * everyone out at once, and once gone its path could be made again without its flag and
 * filled by one admin, so neither an admin (`operator_required`) nor a machine
 * (`person_required`) deletes one.
 */
export async function deleteGroup(deps: GroupDeps, context: AuditContext, input: { actor: PeopleActor; organisationId: string; groupId: string }): Promise<{ id: string; path: string; deleted: true; members: number }> {
  return auditingPersonRequired(deps, context, input.actor, 'group.delete', () =>
    withinTransaction(deps.db, async (trx) => {
      const { group, groups } = await lockGroup(trx, input.organisationId, input.groupId);
      if (groups.some((g) => g.parent_id === group.id)) throw conflict('group_has_children', `${group.path} has groups under it: delete or move them first`);
      if ((await sensitiveGroupsAmong(trx, input.organisationId, groups)).has(group.id) && askerOf(input.actor) !== null)
        throw new WartaError(403, 'operator_required', `${group.path} is sensitive: the instance operator deletes it (warta group delete)`);
      const members = await trx.deleteFrom('group_members').where('group_id', '=', group.id).returning('user_id').execute();
      await trx.deleteFrom('groups').where('id', '=', group.id).execute();
      for (const { user_id } of members)
        await appendAudit(trx, deps, context, { action: 'group.member_removed', subject: `user:${user_id}`, details: { organisation_id: input.organisationId, group_id: group.id, path: group.path, reason: 'group deleted' } });
      await appendAudit(trx, deps, context, {
        action: 'group.deleted',
        subject: `group:${group.id}`,
        details: { organisation_id: input.organisationId, path: group.path, ...(group.external_id === null ? {} : { external_id: group.external_id }), members: members.length },
      });
      return { id: group.id, path: group.path, deleted: true as const, members: members.length };
    }),
  );
}

/** How many people one call to changeGroupMembers adds and removes at most: it holds the organisation's groups locked while it writes an audit entry for each. */
export const MAX_MEMBER_CHANGES = 1000;

/**
 * Puts the people `add` names in a group and takes those `remove` names out, all or
 * nothing, each change audited as applyMembership audits it. For a directory (SCIM),
 * whose one request may carry many, and the operator. Someone not of the organisation,
 * or who has left it (offboarded), is refused (`person_not_found`) and nothing changes;
 * removing someone who is not in the group changes nothing. A sensitive group's
 * members are a person's to change with a second admin's approval: a directory is
 * refused (`person_required`), the operator's CLI applies at once (askerOf).
 */
export async function changeGroupMembers(
  deps: GroupDeps,
  context: AuditContext,
  input: { actor: Extract<PeopleActor, { kind: 'client' | 'cli' }>; organisationId: string; groupId: string; add: readonly string[]; remove: readonly string[] },
): Promise<{ group: GroupView; added: string[]; removed: string[] }> {
  const add = [...new Set(input.add)];
  const remove = [...new Set(input.remove)];
  if (add.length + remove.length > MAX_MEMBER_CHANGES) throw invalidRequest(`at most ${MAX_MEMBER_CHANGES} membership changes at once`);
  if (add.some((id) => remove.includes(id))) throw invalidRequest('a person cannot be both added to and removed from a group at once');
  return auditingPersonRequired(deps, context, input.actor, 'group.change_members', () =>
    withinTransaction(deps.db, async (trx) => {
      const { group, groups } = await lockGroup(trx, input.organisationId, input.groupId);
      // askerOf refuses a directory here (person_required); the operator's CLI goes on.
      if ((await sensitiveGroupsAmong(trx, input.organisationId, groups)).has(group.id) && askerOf(input.actor) !== null) throw new WartaError(403, 'person_required', 'this group is sensitive');
      const candidates = add.filter(isUuid);
      const known = candidates.length
        ? new Set((await trx.selectFrom('users').select('id').where('id', 'in', candidates).where('organisation_id', '=', input.organisationId).where('status', '<>', 'offboarded').execute()).map((u) => u.id))
        : new Set<string>();
      const unknown = add.filter((id) => !known.has(id));
      if (unknown.length) throw notFound('person_not_found', `no such person in your organisation: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ' …' : ''}`);
      const now = deps.clock.now();
      const added = add.length
        ? (await trx.insertInto('group_members').values(add.map((user_id) => ({ group_id: group.id, user_id, added_at: now }))).onConflict((oc) => oc.doNothing()).returning('user_id').execute()).map((r) => r.user_id)
        : [];
      const removable = remove.filter(isUuid);
      const removed = removable.length ? (await trx.deleteFrom('group_members').where('group_id', '=', group.id).where('user_id', 'in', removable).returning('user_id').execute()).map((r) => r.user_id) : [];
      if (added.length || removed.length) await touchGroup(trx, deps, group.id);
      const details = { organisation_id: input.organisationId, group_id: group.id, path: group.path };
      for (const userId of added) await appendAudit(trx, deps, context, { action: 'group.member_added', subject: `user:${userId}`, details });
      for (const userId of removed) await appendAudit(trx, deps, context, { action: 'group.member_removed', subject: `user:${userId}`, details });
      return { group, added, removed };
    }),
  );
}

export interface GroupMembership {
  id: string;
  path: string;
  /** `direct`: the person was put in this group; `inherited`: they are in a group under it. */
  membership: 'direct' | 'inherited';
  /** When they were put in it (direct memberships only). */
  added_at: Date | null;
}

/** The groups `userId` is in, directly or through a group under them, by path (groupPathsOf with how). */
export async function groupMembershipsOf(db: Kysely<Database>, userId: string): Promise<GroupMembership[]> {
  const user = await db.selectFrom('users').select('organisation_id').where('id', '=', userId).executeTakeFirst();
  if (!user) return [];
  const groups = await db.selectFrom('groups').select(['id', 'parent_id', 'name']).where('organisation_id', '=', user.organisation_id).execute();
  if (groups.length === 0) return [];
  const direct = new Map((await db.selectFrom('group_members').select(['group_id', 'added_at']).where('user_id', '=', userId).execute()).map((m) => [m.group_id, m.added_at]));
  const byId = new Map(groups.map((g) => [g.id, g]));
  const paths = pathsOf(groups);
  const memberships = new Map<string, GroupMembership>();
  for (const groupId of direct.keys()) {
    for (let id: string | null = groupId; id !== null && byId.has(id); id = byId.get(id)!.parent_id) {
      const added = direct.get(id);
      if (!memberships.has(id) || added !== undefined) memberships.set(id, { id, path: paths.get(id)!, membership: added === undefined ? 'inherited' : 'direct', added_at: added ?? null });
    }
  }
  return [...memberships.values()].sort((a, b) => a.path.localeCompare(b.path));
}
