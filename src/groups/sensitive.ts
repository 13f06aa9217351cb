/**
 * Which groups need a second admin to change (principle 8): a group is sensitive
 * when it or an ancestor is flagged `sensitive`, or when a client that signs in
 * the organisation's people requires it or an ancestor (src/authority/requirements-in-force.ts).
 * Joining, leaving, moving or renaming such a group is a two-admin change
 * (src/change-requests/). The directory (SCIM) asks isSensitiveGroup before it
 * applies a membership it is pushed.
 */
import type { Kysely } from 'kysely';
import { requirementsInForce } from '../authority/requirements-in-force.js';
import type { Database } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { type GroupNode, sensitiveGroupIds } from './paths.js';

/**
 * One organisation's groups. In a transaction, `lock` holds them: `update` for a
 * move (no other move can then make a cycle with it), `share` for a membership
 * change (it waits for a move in progress, and so sees the hierarchy after it).
 */
export async function organisationGroups(db: Kysely<Database>, organisationId: string, lock?: 'share' | 'update'): Promise<GroupNode[]> {
  let query = db.selectFrom('groups').select(['id', 'parent_id', 'name', 'sensitive']).where('organisation_id', '=', organisationId).orderBy('id');
  if (lock === 'update') query = query.forUpdate();
  if (lock === 'share') query = query.forShare();
  return query.execute();
}

/** The ids of the organisation's sensitive groups, given its groups as read. */
export async function sensitiveGroupsAmong(db: Kysely<Database>, organisationId: string, groups: readonly GroupNode[]): Promise<Set<string>> {
  return sensitiveGroupIds(groups, (await requirementsInForce(db, organisationId)).groupPaths);
}

/** Whether changing who is in `groupId` (of `organisationId`) takes a second admin; false for a group that is not the organisation's. */
export async function isSensitiveGroup(db: Kysely<Database>, organisationId: string, groupId: string): Promise<boolean> {
  if (!isUuid(groupId)) return false;
  return (await sensitiveGroupsAmong(db, organisationId, await organisationGroups(db, organisationId))).has(groupId);
}
