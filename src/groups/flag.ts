/**
 * Flagging a group sensitive, and clearing the flag. Flagging raises protection,
 * so one admin does it at once; clearing lowers it, so it is a two-admin change
 * like any other on something sensitive (src/change-requests/). The operator's
 * CLI does either at once.
 */
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { type Approval, approvalDetails, askerOf, auditingPersonRequired, type AwaitingApproval, openChangeRequest } from '../authority/change-requests.js';
import type { Database } from '../db/schema.js';
import type { PeopleActor } from '../authority/people.js';
import { findGroup, type GroupDeps, type GroupView } from './service.js';

export async function setGroupSensitive(
  deps: GroupDeps,
  context: AuditContext,
  input: { actor: PeopleActor; organisationId: string; groupId: string; sensitive: boolean; reason?: string | null },
): Promise<GroupView | AwaitingApproval> {
  const group = await findGroup(deps.db, input.organisationId, input.groupId);
  if (group.sensitive === input.sensitive) return group;
  return auditingPersonRequired(deps, context, input.actor, 'group.unflag_sensitive', () =>
    deps.db.transaction().execute(async (trx) => {
      if (!input.sensitive) {
        const requestedBy = askerOf(input.actor);
        if (requestedBy !== null)
          return openChangeRequest(trx, deps, context, {
            organisationId: input.organisationId,
            requestedBy,
            kind: 'group.unflag',
            groupId: group.id,
            change: {},
            reason: input.reason ?? null,
            subject: `group:${group.id}`,
            details: { path: group.path },
          });
      }
      return applyGroupFlag(trx, deps, context, { organisationId: input.organisationId, group, sensitive: input.sensitive });
    }),
  );
}

/** Sets the group's own flag, with its audit entry; `approval` when a second admin approved clearing it. */
export async function applyGroupFlag(
  trx: Transaction<Database>,
  deps: GroupDeps,
  context: AuditContext,
  input: { organisationId: string; group: Pick<GroupView, 'id' | 'path'>; sensitive: boolean; approval?: Approval },
): Promise<GroupView> {
  const updated = await trx.updateTable('groups').set({ sensitive: input.sensitive }).where('id', '=', input.group.id).where('organisation_id', '=', input.organisationId).where('sensitive', '<>', input.sensitive).returning('id').executeTakeFirst();
  if (updated)
    await appendAudit(trx, deps, context, {
      action: input.sensitive ? 'group.flagged_sensitive' : 'group.unflagged_sensitive',
      subject: `group:${input.group.id}`,
      details: { organisation_id: input.organisationId, path: input.group.path, ...approvalDetails(input.approval) },
    });
  return findGroup(trx, input.organisationId, input.group.id);
}
