/**
 * An organisation's groups: a hierarchy (ministry → department → unit) of named
 * groups, and the people directly in each. A group's parent is in the same
 * organisation (the database's composite foreign key) and is fixed when the group is
 * made, so the hierarchy can never hold a cycle. A group is named in claims by its
 * path, its ancestors' names and its own joined by `/` ("/ministry/department/unit");
 * sibling names are unique, so a path names one group.
 *
 * The model is kept simple for the directory (SCIM Groups): `id`, `organisation_id`,
 * `parent_id`, `name`, `external_id` (nullable, unique per organisation) and the
 * membership table `group_members (group_id, user_id)`.
 *
 * Every change is audited in its transaction; who may change them is the
 * organisation's admins (the admin API) and the operator (the CLI).
 */
import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import { newId } from '../crypto/random.js';
import type { Database, Group } from '../db/schema.js';
import { conflict, invalidRequest, notFound } from '../errors.js';

export type GroupDeps = { db: Kysely<Database> } & AuditWriter;

export interface GroupView {
  id: string;
  name: string;
  path: string;
  parent_id: string | null;
  external_id: string | null;
  members: number;
}

const GROUP_NAME = /^[^/\p{Cc}]{1,100}$/u;
const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
const groupNotFound = () => notFound('group_not_found', 'no such group in your organisation');

/** Every group's path in `groups` (one organisation's), by id. */
export function pathsOf(groups: readonly Pick<Group, 'id' | 'parent_id' | 'name'>[]): Map<string, string> {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const group = byId.get(id)!;
    const path = `${group.parent_id === null ? '' : pathOf(group.parent_id)}/${group.name}`;
    paths.set(id, path);
    return path;
  };
  for (const group of groups) pathOf(group.id);
  return paths;
}

export async function listGroups(db: Kysely<Database>, organisationId: string): Promise<GroupView[]> {
  const groups = await db
    .selectFrom('groups')
    .select(['id', 'name', 'parent_id', 'external_id'])
    .select((eb) => eb.selectFrom('group_members').select(eb.fn.countAll<string>().as('n')).whereRef('group_members.group_id', '=', 'groups.id').as('members'))
    .where('organisation_id', '=', organisationId)
    .execute();
  const paths = pathsOf(groups);
  return groups.map((g) => ({ id: g.id, name: g.name, path: paths.get(g.id)!, parent_id: g.parent_id, external_id: g.external_id, members: Number(g.members ?? 0) })).sort((a, b) => a.path.localeCompare(b.path));
}

/** The group of `organisationId` that `reference` names: its id, or its path. */
export async function findGroup(db: Kysely<Database>, organisationId: string, reference: string): Promise<GroupView> {
  const groups = await listGroups(db, organisationId);
  const group = groups.find((g) => g.id === reference) ?? groups.find((g) => g.path.toLowerCase() === reference.toLowerCase());
  if (!group) throw groupNotFound();
  return group;
}

export async function createGroup(deps: GroupDeps, context: AuditContext, input: { organisationId: string; name: string; parentId?: string | null; externalId?: string | null }): Promise<GroupView> {
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
      .values({ id: newId(), organisation_id: input.organisationId, parent_id: parentId, name, external_id: externalId, created_at: deps.clock.now() })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!created) throw conflict('group_exists', 'a group with this name already exists under that parent, or another group has this external_id');
    const group = (await listGroups(trx, input.organisationId)).find((g) => g.id === created.id)!;
    await appendAudit(trx, deps, context, { action: 'group.created', subject: `group:${group.id}`, details: { organisation_id: input.organisationId, path: group.path, ...(externalId === null ? {} : { external_id: externalId }) } });
    return group;
  });
}

async function memberOfOrganisation(db: Kysely<Database>, organisationId: string, userId: string): Promise<void> {
  const user = isUuid(userId) ? await db.selectFrom('users').select('id').where('id', '=', userId).where('organisation_id', '=', organisationId).executeTakeFirst() : undefined;
  if (!user) throw notFound('person_not_found', 'no such person in your organisation');
}

export async function addGroupMember(deps: GroupDeps, context: AuditContext, input: { organisationId: string; groupId: string; userId: string }): Promise<{ group: string; user_id: string; added: boolean }> {
  const group = await findGroup(deps.db, input.organisationId, input.groupId);
  await memberOfOrganisation(deps.db, input.organisationId, input.userId);
  return deps.db.transaction().execute(async (trx) => {
    const inserted = await trx.insertInto('group_members').values({ group_id: group.id, user_id: input.userId, added_at: deps.clock.now() }).onConflict((oc) => oc.doNothing()).returning('user_id').executeTakeFirst();
    if (inserted) await appendAudit(trx, deps, context, { action: 'group.member_added', subject: `user:${input.userId}`, details: { organisation_id: input.organisationId, group_id: group.id, path: group.path } });
    return { group: group.path, user_id: input.userId, added: inserted !== undefined };
  });
}

export async function removeGroupMember(deps: GroupDeps, context: AuditContext, input: { organisationId: string; groupId: string; userId: string }): Promise<{ group: string; user_id: string; removed: boolean }> {
  const group = await findGroup(deps.db, input.organisationId, input.groupId);
  await memberOfOrganisation(deps.db, input.organisationId, input.userId);
  return deps.db.transaction().execute(async (trx) => {
    const deleted = await trx.deleteFrom('group_members').where('group_id', '=', group.id).where('user_id', '=', input.userId).returning('user_id').executeTakeFirst();
    if (deleted) await appendAudit(trx, deps, context, { action: 'group.member_removed', subject: `user:${input.userId}`, details: { organisation_id: input.organisationId, group_id: group.id, path: group.path } });
    return { group: group.path, user_id: input.userId, removed: deleted !== undefined };
  });
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
