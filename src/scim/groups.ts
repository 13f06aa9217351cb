/**
 * The directory's acts on an organisation's groups (RFC 7644 §3.3–3.6), each in one
 * transaction through the groups service (src/groups/), whose audit entries they write
 * as `client:<id>`: `group.created`, `group.renamed`, `group.external_id_changed`,
 * `group.member_added`, `group.member_removed`, `group.deleted`. A directory sees every
 * group of its organisation (also those an admin made or placed under another) and no
 * other organisation's: those are 404.
 *
 * A sensitive group (src/groups/sensitive.ts) is a person's to change with a second
 * admin: the directory joining people to it, taking them out, renaming it or deleting it
 * is refused (403 `person_required`, audited as `authority.refused`), and nothing of the
 * request changes. A rename that would give a group a path a client requires is refused
 * the same way (src/groups/move.ts).
 */
import { type Kysely, sql } from 'kysely';
import type { AuditContext } from '../audit/audit.js';
import { auditingPersonRequired } from '../authority/change-requests.js';
import type { Database } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { WartaError } from '../errors.js';
import { moveGroup } from '../groups/move.js';
import { organisationGroups } from '../groups/sensitive.js';
import { changeGroupMembers, createGroup, deleteGroup, setGroupExternalId } from '../groups/service.js';
import type { ScimClient } from './authenticate.js';
import { invalidValue, scimError } from './errors.js';
import { assertIfMatch } from './etag.js';
import { type GroupComparison, likeLiteral } from './filter.js';
import { groupVersion, type ScimGroup, type ScimGroupFields, type ScimMember } from './group-resource.js';
import type { ScimDeps } from './users.js';

export const groupNotFound = () => new WartaError(404, 'not_found', 'no such group in your organisation');

/**
 * The groups service's refusals in SCIM's words (RFC 7644 §3.12). A person_required
 * refusal is audited here, outside the transaction it rolled back (the service's own
 * entry went with it).
 */
async function asScimRefusal<T>(deps: ScimDeps, context: AuditContext, client: ScimClient, act: string, run: () => Promise<T>): Promise<T> {
  try {
    return await auditingPersonRequired(deps, context, client, act, run);
  } catch (error) {
    if ((error as { code?: unknown }).code === '23505') throw scimError(409, 'uniqueness', 'displayName or externalId is taken');
    if (!(error instanceof WartaError)) throw error;
    if (error.code === 'group_exists') throw scimError(409, 'uniqueness', error.description);
    if (error.code === 'person_not_found') throw invalidValue(`members: ${error.description}`);
    if (error.code === 'group_not_found') throw groupNotFound();
    if (error.code === 'invalid_request') throw invalidValue(error.description);
    throw error;
  }
}

function groupsOf(db: Kysely<Database>, organisationId: string) {
  return db
    .selectFrom('groups')
    .select(['groups.id', 'groups.name', 'groups.external_id', 'groups.created_at', 'groups.updated_at'])
    .select((eb) =>
      eb
        .selectFrom('group_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .whereRef('m.group_id', '=', 'groups.id')
        .where('u.status', '<>', 'offboarded')
        .select(sql<string>`md5(coalesce(string_agg(m.user_id::text, ',' order by m.user_id), ''))`.as('digest'))
        .as('members_digest'),
    )
    .where('groups.organisation_id', '=', organisationId);
}

const asScimGroup = (row: Omit<ScimGroup, 'members_digest'> & { members_digest: string | null }): ScimGroup => ({ ...row, members_digest: row.members_digest ?? '' });

/** The people directly in each of `groupIds` (a person who left, offboarded, is no longer shown), by group. */
export async function membersOf(db: Kysely<Database>, groupIds: readonly string[]): Promise<Map<string, ScimMember[]>> {
  const members = new Map<string, ScimMember[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return members;
  const rows = await db
    .selectFrom('group_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.group_id', 'u.id', 'u.display_name'])
    .where('m.group_id', 'in', groupIds)
    .where('u.status', '<>', 'offboarded')
    .orderBy('u.id')
    .execute();
  for (const row of rows) members.get(row.group_id)!.push({ id: row.id, display_name: row.display_name });
  return members;
}

/** A group of the client's organisation. */
export async function findScimGroup(deps: Pick<ScimDeps, 'db'>, client: ScimClient, id: string): Promise<ScimGroup> {
  const row = isUuid(id) ? await groupsOf(deps.db, client.organisationId).where('groups.id', '=', id).executeTakeFirst() : undefined;
  if (!row) throw groupNotFound();
  return asScimGroup(row);
}

export async function listScimGroups(deps: Pick<ScimDeps, 'db'>, client: ScimClient, query: { filter: GroupComparison[]; startIndex: number; count: number }): Promise<{ total: number; groups: ScimGroup[] }> {
  let base = deps.db.selectFrom('groups').where('groups.organisation_id', '=', client.organisationId);
  for (const { attribute, operator, value } of query.filter) {
    // displayName is caseExact false (RFC 7643 §4.2) as Warta's sibling names are; externalId caseExact true (§3.1).
    const column = attribute === 'displayName' ? sql<string>`lower(groups.name)` : sql<string>`groups.external_id`;
    const operand = attribute === 'displayName' ? value.toLowerCase() : value;
    if (operator === 'eq') base = base.where(column, '=', operand);
    else base = base.where(column, 'like', operator === 'co' ? `%${likeLiteral(operand)}%` : `${likeLiteral(operand)}%`);
  }
  const { total } = await base.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow();
  if (query.count === 0) return { total: Number(total), groups: [] };
  const page = await base.select('groups.id').orderBy('groups.created_at').orderBy('groups.id').offset(query.startIndex - 1).limit(query.count).execute();
  const ids = page.map((g) => g.id);
  const rows = ids.length ? await groupsOf(deps.db, client.organisationId).where('groups.id', 'in', ids).execute() : [];
  const byId = new Map(rows.map((row) => [row.id, asScimGroup(row)]));
  return { total: Number(total), groups: ids.map((id) => byId.get(id)!).filter(Boolean) };
}

/** POST (RFC 7644 §3.3): a top-level group (SCIM has no hierarchy), with its members. */
export function createScimGroup(deps: ScimDeps, context: AuditContext, client: ScimClient, fields: ScimGroupFields): Promise<ScimGroup> {
  const organisationId = client.organisationId;
  return asScimRefusal(deps, context, client, 'scim.group_create', () =>
    deps.db.transaction().execute(async (trx) => {
      const scoped = { ...deps, db: trx };
      const group = await createGroup(scoped, context, { organisationId, name: fields.displayName, parentId: null, externalId: fields.externalId });
      if (fields.members.length) await changeGroupMembers(scoped, context, { actor: client, organisationId, groupId: group.id, add: fields.members, remove: [] });
      return findScimGroup(scoped, client, group.id);
    }),
  );
}

/**
 * The group, as the request's If-Match must find it, with the organisation's groups
 * locked as the groups service locks them (in one order, so two changes never wait
 * on each other), until the change is made.
 */
async function lockScimGroup(trx: Kysely<Database>, client: ScimClient, id: string, ifMatch: string | undefined): Promise<ScimGroup> {
  if (!isUuid(id)) throw groupNotFound();
  const groups = await organisationGroups(trx, client.organisationId, 'update');
  if (!groups.some((g) => g.id === id)) throw groupNotFound();
  const group = await findScimGroup({ db: trx }, client, id);
  assertIfMatch(groupVersion(group), ifMatch);
  return group;
}

/**
 * PUT (RFC 7644 §3.5.1), and the result of a PATCH: the group becomes `fields(current)`.
 * Only what differs is changed, so a directory resending the same group writes nothing.
 */
export function replaceScimGroup(deps: ScimDeps, context: AuditContext, client: ScimClient, input: { id: string; ifMatch: string | undefined; fields: (current: ScimGroupFields) => ScimGroupFields }): Promise<ScimGroup> {
  const organisationId = client.organisationId;
  return asScimRefusal(deps, context, client, 'scim.group_replace', () =>
    deps.db.transaction().execute(async (trx) => {
      const group = await lockScimGroup(trx, client, input.id, input.ifMatch);
      const members = (await membersOf(trx, [group.id])).get(group.id)!.map((m) => m.id);
      const next = input.fields({ displayName: group.name, externalId: group.external_id, members });
      const scoped = { ...deps, db: trx };
      if (next.displayName !== group.name) await moveGroup(scoped, context, { actor: client, organisationId, groupId: group.id, name: next.displayName });
      if (next.externalId !== group.external_id) await setGroupExternalId(scoped, context, { organisationId, groupId: group.id, externalId: next.externalId });
      const before = new Set(members);
      const after = new Set(next.members);
      const add = next.members.filter((id) => !before.has(id));
      const remove = members.filter((id) => !after.has(id));
      if (add.length || remove.length) await changeGroupMembers(scoped, context, { actor: client, organisationId, groupId: group.id, add, remove });
      return findScimGroup(scoped, client, group.id);
    }),
  );
}

/** DELETE (RFC 7644 §3.6): the group goes and its members leave it; a group with groups under it is 409 `group_has_children`. */
export function deleteScimGroup(deps: ScimDeps, context: AuditContext, client: ScimClient, input: { id: string; ifMatch: string | undefined }): Promise<void> {
  return asScimRefusal(deps, context, client, 'scim.group_delete', () =>
    deps.db.transaction().execute(async (trx) => {
      const group = await lockScimGroup(trx, client, input.id, input.ifMatch);
      await deleteGroup({ ...deps, db: trx }, context, { actor: client, organisationId: client.organisationId, groupId: group.id });
    }),
  );
}
