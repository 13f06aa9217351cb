/**
 * Moving a group under another parent of its organisation, and renaming it. The
 * move holds every group of the organisation (FOR UPDATE) while it checks, so two
 * moves at once cannot together make a cycle that neither makes alone; the cycle
 * check itself is a recursive query over the locked rows. A move or rename is a
 * two-admin change (src/change-requests/) when any group it carries (the group
 * and everything under it) is sensitive before it or would be after it: moving
 * into or out of a sensitive subtree, moving or renaming a sensitive group, or
 * giving a group a path that a client requires.
 */
import { sql, type Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { type Approval, approvalDetails, askerOf, auditingPersonRequired, type AwaitingApproval, openChangeRequest } from '../authority/change-requests.js';
import { requirementsInForce } from '../authority/requirements-in-force.js';
import type { Database } from '../db/schema.js';
import { withinTransaction } from '../db/transaction.js';
import { isUuid } from '../db/uuid.js';
import { conflict, invalidRequest, notFound } from '../errors.js';
import type { PeopleActor } from '../authority/people.js';
import { pathsOf, sensitiveGroupIds, subtreeOf } from './paths.js';
import { organisationGroups } from './sensitive.js';
import { findGroup, GROUP_NAME, type GroupDeps, groupNotFound, type GroupView } from './service.js';

export interface GroupMoveInput {
  actor: PeopleActor;
  organisationId: string;
  /** The group: its id or path. */
  groupId: string;
  /** The new parent's id, null for the top; undefined keeps the parent. */
  parentId?: string | null;
  /** The new name; undefined keeps it. */
  name?: string;
  reason?: string | null;
}

interface MovePlan {
  groupId: string;
  oldParentId: string | null;
  parentId: string | null;
  name: string;
  oldPath: string;
  newPath: string;
  unchanged: boolean;
  touchesSensitive: boolean;
}

const parentNotFound = () => notFound('parent_not_found', 'no such parent group in your organisation');

export async function moveGroup(deps: GroupDeps, context: AuditContext, input: GroupMoveInput): Promise<GroupView | AwaitingApproval> {
  const name = input.name?.trim();
  if (name !== undefined && !GROUP_NAME.test(name)) throw invalidRequest('a group name is 1 to 100 characters, without "/" or control characters');
  if (input.parentId != null && !isUuid(input.parentId)) throw parentNotFound();
  const group = await findGroup(deps.db, input.organisationId, input.groupId);
  return auditingPersonRequired(deps, context, input.actor, 'group.move', () =>
    withinTransaction(deps.db, async (trx) => {
      const plan = await planMove(trx, input.organisationId, group.id, { parentId: input.parentId === undefined ? group.parent_id : input.parentId, name: name ?? group.name });
      if (plan.unchanged) return findGroup(trx, input.organisationId, group.id);
      if (plan.touchesSensitive) {
        const requestedBy = askerOf(input.actor);
        if (requestedBy !== null)
          return openChangeRequest(trx, deps, context, {
            organisationId: input.organisationId,
            requestedBy,
            kind: 'group.move',
            groupId: group.id,
            change: { parent_id: plan.parentId, name: plan.name, old_path: plan.oldPath, new_path: plan.newPath },
            reason: input.reason ?? null,
            subject: `group:${group.id}`,
            details: { old_path: plan.oldPath, new_path: plan.newPath },
          });
      }
      return applyPlannedMove(trx, deps, context, input.organisationId, plan);
    }),
  );
}

/** Applies a move a second admin approved: checked again on the hierarchy as it is now. */
export async function applyGroupMove(
  trx: Transaction<Database>,
  deps: GroupDeps,
  context: AuditContext,
  input: { organisationId: string; groupId: string; parentId: string | null; name: string; approval: Approval },
): Promise<GroupView> {
  const plan = await planMove(trx, input.organisationId, input.groupId, { parentId: input.parentId, name: input.name });
  if (plan.unchanged) return findGroup(trx, input.organisationId, input.groupId);
  return applyPlannedMove(trx, deps, context, input.organisationId, plan, input.approval);
}

/** Locks the organisation's groups and checks the move: the parent is the organisation's, no cycle, no sibling of the same name. */
async function planMove(trx: Transaction<Database>, organisationId: string, groupId: string, target: { parentId: string | null; name: string }): Promise<MovePlan> {
  const groups = await organisationGroups(trx, organisationId, 'update');
  const group = groups.find((g) => g.id === groupId);
  if (!group) throw groupNotFound();
  const { parentId, name } = target;
  if (parentId !== null) {
    if (!groups.some((g) => g.id === parentId)) throw parentNotFound();
    const { rows } = await sql<{ id: string }>`
      with recursive subtree(id) as (
        select id from groups where id = ${groupId}
        union all
        select g.id from groups g join subtree s on g.parent_id = s.id
      )
      select id from subtree where id = ${parentId} limit 1`.execute(trx);
    if (rows.length > 0) throw conflict('group_cycle', 'a group cannot move under itself or under a group inside it');
  }
  if (groups.some((g) => g.id !== groupId && g.parent_id === parentId && g.name.toLowerCase() === name.toLowerCase()))
    throw conflict('group_exists', 'a group with this name already exists under that parent');
  const after = groups.map((g) => (g.id === groupId ? { ...g, parent_id: parentId, name } : g));
  const required = (await requirementsInForce(trx, organisationId)).groupPaths;
  const sensitiveBefore = sensitiveGroupIds(groups, required);
  const sensitiveAfter = sensitiveGroupIds(after, required);
  const carried = [...subtreeOf(groups, groupId)];
  return {
    groupId,
    oldParentId: group.parent_id,
    parentId,
    name,
    oldPath: pathsOf(groups).get(groupId)!,
    newPath: pathsOf(after).get(groupId)!,
    unchanged: parentId === group.parent_id && name === group.name,
    touchesSensitive: carried.some((id) => sensitiveBefore.has(id) || sensitiveAfter.has(id)),
  };
}

async function applyPlannedMove(trx: Transaction<Database>, deps: GroupDeps, context: AuditContext, organisationId: string, plan: MovePlan, approval?: Approval): Promise<GroupView> {
  try {
    await trx.updateTable('groups').set({ parent_id: plan.parentId, name: plan.name, updated_at: deps.clock.now() }).where('id', '=', plan.groupId).where('organisation_id', '=', organisationId).execute();
  } catch (error) {
    // A group created under the new parent since the check, with the same name (creating takes no lock on the others).
    if ((error as { code?: string }).code === '23505') throw conflict('group_exists', 'a group with this name already exists under that parent');
    throw error;
  }
  await appendAudit(trx, deps, context, {
    action: plan.parentId === plan.oldParentId ? 'group.renamed' : 'group.moved',
    subject: `group:${plan.groupId}`,
    details: { organisation_id: organisationId, old_path: plan.oldPath, new_path: plan.newPath, old_parent_id: plan.oldParentId, parent_id: plan.parentId, ...approvalDetails(approval) },
  });
  return findGroup(trx, organisationId, plan.groupId);
}
