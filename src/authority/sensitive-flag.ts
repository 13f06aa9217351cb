/**
 * Flagging something sensitive (a group, an attribute definition) and clearing the
 * flag. Flagging raises protection, so one admin does it at once; clearing lowers it,
 * so it is a two-admin change like any other on something sensitive
 * (change-requests.ts). The operator's CLI does either at once.
 */
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Database } from '../db/schema.js';
import { type Approval, approvalDetails, askerOf, auditingPersonRequired, type AwaitingApproval, type ChangeRequestDeps, type ChangeRequestInput, openChangeRequest } from './change-requests.js';
import type { PeopleActor } from './people.js';

export interface SensitiveFlagChange<T> {
  actor: PeopleActor;
  organisationId: string;
  sensitive: boolean;
  reason?: string | null | undefined;
  /** The act named in the audit entry of an admin client's refusal (`group.unflag_sensitive`). */
  act: string;
  /** The request an admin's clearing opens for a second admin. */
  clearingRequest: Pick<ChangeRequestInput, 'kind' | 'groupId' | 'definitionId' | 'subject' | 'details'>;
  /** Writes the flag at once, in the transaction, with its audit entry (auditSensitiveFlag). */
  apply: (trx: Transaction<Database>) => Promise<T>;
}

/** Sets or clears a sensitive flag that differs from the one asked for: at once, or as a request when an admin clears it. */
export function changeSensitiveFlag<T>(deps: ChangeRequestDeps, context: AuditContext, change: SensitiveFlagChange<T>): Promise<T | AwaitingApproval> {
  return auditingPersonRequired(deps, context, change.actor, change.act, () =>
    deps.db.transaction().execute(async (trx) => {
      const requestedBy = change.sensitive ? null : askerOf(change.actor);
      if (requestedBy !== null)
        return openChangeRequest(trx, deps, context, { ...change.clearingRequest, organisationId: change.organisationId, requestedBy, change: {}, reason: change.reason ?? null });
      return change.apply(trx);
    }),
  );
}

/** The audit entry of a flag that changed (`<kind>.flagged_sensitive` or `<kind>.unflagged_sensitive`); `approval` when a second admin approved clearing it. */
export function auditSensitiveFlag(
  trx: Transaction<Database>,
  deps: ChangeRequestDeps,
  context: AuditContext,
  input: { kind: 'group' | 'attribute'; sensitive: boolean; subject: string; details: Record<string, unknown>; approval?: Approval | undefined },
): Promise<void> {
  return appendAudit(trx, deps, context, {
    action: `${input.kind}.${input.sensitive ? 'flagged' : 'unflagged'}_sensitive`,
    subject: input.subject,
    details: { ...input.details, ...approvalDetails(input.approval) },
  });
}
