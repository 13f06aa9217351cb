import type { AuditContext } from '../audit/audit.js';
import { OPEN_RECOVERY_STATUSES, type RecoveryCase, type User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { parsedValue } from '../parsed.js';
import type { Deps } from '../deps.js';
import { auditingRefusal, findOfficerCase, recordCaseChange } from './cases.js';
import type { RejectionFields } from './input.js';
import { checkDesk, recoveryPolicyOf } from './policy.js';

/**
 * Ending an open case before it completes: an officer rejects it (also after
 * approval, which withdraws the code, during enrollment, or once the user
 * disputed it). One conditional UPDATE, so a case that completes at the same
 * moment is either completed or closed, never both. A user's own cancel no
 * longer closes a case: it disputes it (./dispute.ts).
 */
async function closeOpenCase(deps: Deps, context: AuditContext, recoveryCase: Pick<RecoveryCase, 'id' | 'user_id'>, change: { status: 'rejected'; closedBy: string; desk: string; reason: string }) {
  return deps.db.transaction().execute(async (trx) => {
    const closed = await trx
      .updateTable('recovery_cases')
      .set({ status: change.status, closed_at: deps.clock.now(), closed_by: change.closedBy, closed_desk: change.desk, close_reason: change.reason })
      .where('id', '=', recoveryCase.id)
      .where('user_id', '=', recoveryCase.user_id)
      .where('status', 'in', OPEN_RECOVERY_STATUSES)
      .returningAll()
      .executeTakeFirst();
    if (!closed) return undefined;
    await recordCaseChange(trx, deps, context, closed, { action: 'recovery.rejected', event: 'recovery_rejected', initiatingEntity: 'admin', details: { reason: change.reason, desk: change.desk } });
    return closed;
  });
}

/** An officer rejects an open case, saying why and at which desk. */
export async function rejectRecoveryCase(deps: Deps, context: AuditContext, input: { officer: User; caseId: string } & RejectionFields): Promise<RecoveryCase> {
  return auditingRefusal(deps, context, { action: 'reject', caseId: input.caseId, subject: `user:${input.officer.id}` }, async () => {
    const reason = parsedValue(input.reason);
    const recoveryCase = await findOfficerCase(deps.db, input.officer, input.caseId);
    if (recoveryCase.user_id === input.officer.id) throw new WartaError(403, 'recovery_self_case', 'nobody decides a recovery case about themselves; ask another officer');
    const desk = checkDesk(await recoveryPolicyOf(deps.db, recoveryCase.organisation_id), parsedValue(input.desk));
    const closed = await closeOpenCase(deps, context, recoveryCase, { status: 'rejected', closedBy: input.officer.id, desk, reason });
    if (!closed) throw new WartaError(409, 'recovery_case_closed', `this case is already ${recoveryCase.status}`);
    return closed;
  });
}
