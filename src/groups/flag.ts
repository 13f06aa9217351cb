/** Flagging a group sensitive, and clearing the flag: who may do which at once is in src/authority/sensitive-flag.ts. */
import type { Transaction } from 'kysely';
import type { AuditContext } from '../audit/audit.js';
import type { Approval, AwaitingApproval } from '../authority/change-requests.js';
import type { PeopleActor } from '../authority/people.js';
import { auditSensitiveFlag, changeSensitiveFlag } from '../authority/sensitive-flag.js';
import type { Database } from '../db/schema.js';
import { findGroup, type GroupDeps, type GroupView } from './service.js';

export async function setGroupSensitive(
  deps: GroupDeps,
  context: AuditContext,
  input: { actor: PeopleActor; organisationId: string; groupId: string; sensitive: boolean; reason?: string | null },
): Promise<GroupView | AwaitingApproval> {
  const group = await findGroup(deps.db, input.organisationId, input.groupId);
  if (group.sensitive === input.sensitive) return group;
  return changeSensitiveFlag(deps, context, {
    ...input,
    act: 'group.unflag_sensitive',
    clearingRequest: { kind: 'group.unflag', groupId: group.id, subject: `group:${group.id}`, details: { path: group.path } },
    apply: (trx) => applyGroupFlag(trx, deps, context, { organisationId: input.organisationId, group, sensitive: input.sensitive }),
  });
}

/** Sets the group's own flag, with its audit entry; `approval` when a second admin approved clearing it. */
export async function applyGroupFlag(
  trx: Transaction<Database>,
  deps: GroupDeps,
  context: AuditContext,
  input: { organisationId: string; group: Pick<GroupView, 'id' | 'path'>; sensitive: boolean; approval?: Approval },
): Promise<GroupView> {
  const updated = await trx.updateTable('groups').set({ sensitive: input.sensitive }).where('id', '=', input.group.id).where('organisation_id', '=', input.organisationId).where('sensitive', '<>', input.sensitive).returning('id').executeTakeFirst();
  if (updated) await auditSensitiveFlag(trx, deps, context, { kind: 'group', sensitive: input.sensitive, subject: `group:${input.group.id}`, details: { organisation_id: input.organisationId, path: input.group.path }, approval: input.approval });
  return findGroup(trx, input.organisationId, input.group.id);
}
