/**
 * A user's "not me" from a signed-in session, and how an officer settles it
 * (issue 11, attack 5). Whoever holds an old session may be the attacker the
 * recovery is meant to lock out, so that session's word alone never closes a
 * case: before the code was used it freezes the case as `disputed` until an
 * officer sees the person again; after the code was used it counts for nothing
 * (the recovery then ends every old session anyway, see ./complete.ts).
 */
import { sql } from 'kysely';
import type { AuditContext } from '../audit/audit.js';
import type { RecoveryCase, Session, User } from '../db/schema.js';
import { conflict, WartaError } from '../errors.js';
import { parsedValue } from '../parsed.js';
import type { Deps } from '../deps.js';
import { assertRecentPasskey } from '../sessions/reauth.js';
import { auditingRefusal, caseIdOf, caseNotFound, findOfficerCase, recordCaseChange } from './cases.js';
import type { RejectionFields } from './input.js';
import { checkDesk, recoveryPolicyOf } from './policy.js';

/** Statuses a dispute freezes: the code is not used yet, so the real owner is still out and nothing was handed over. */
const DISPUTABLE = ['pending', 'approved'] as const;

export const codeRedeemed = () =>
  conflict('recovery_code_redeemed', 'the recovery code was already used; this recovery can no longer be stopped from a signed-in device. If it was not you, go to the recovery desk at once');

const alreadyDisputed = () => conflict('recovery_case_disputed', 'this recovery is already disputed; a recovery officer will resolve it with the person in person');

/** Why the user's cancel of this case does not freeze it. */
function undisputable(current: Pick<RecoveryCase, 'status'> | undefined): WartaError {
  switch (current?.status) {
    case 'redeemed':
    case 'completed':
      return codeRedeemed();
    case 'disputed':
      return alreadyDisputed();
    default:
      return caseNotFound();
  }
}

/**
 * The user's cancel: pending or approved → disputed, remembering where it was,
 * in one conditional UPDATE (a redemption racing it either wins, and the
 * cancel is refused, or finds the case disputed and fails).
 */
export async function disputeRecoveryCase(deps: Deps, context: AuditContext, input: { userId: string; caseId: string }): Promise<RecoveryCase> {
  return auditingRefusal(deps, context, { action: 'cancel', caseId: input.caseId, subject: `user:${input.userId}` }, async () => {
    const id = caseIdOf(input.caseId);
    return deps.db.transaction().execute(async (trx) => {
      const now = deps.clock.now();
      const disputed = await trx
        .updateTable('recovery_cases')
        .set({ status: 'disputed', disputed_from: sql<'pending' | 'approved'>`status`, disputed_at: now })
        .where('id', '=', id)
        .where('user_id', '=', input.userId)
        .where('status', 'in', DISPUTABLE)
        .returningAll()
        .executeTakeFirst();
      if (!disputed) throw undisputable(await trx.selectFrom('recovery_cases').select('status').where('id', '=', id).where('user_id', '=', input.userId).executeTakeFirst());
      await recordCaseChange(trx, deps, context, disputed, { action: 'recovery.disputed', event: 'recovery_disputed', initiatingEntity: 'user', details: { from: disputed.disputed_from } });
      return disputed;
    });
  });
}

export interface ContinueDisputeInput extends RejectionFields {
  officer: User;
  session: Session;
  caseId: string;
}

/**
 * An officer saw the person again and found the recovery genuine: the case goes
 * back to where it was (its deadlines kept running meanwhile). Four eyes anew:
 * the dispute may be about a rogue officer, so the one who continues took no
 * part in the case (neither opened nor approved it), is not its subject, and
 * confirmed with a passkey in the last five minutes. Rejecting a disputed case
 * is the ordinary rejection (./close.ts): the safe direction needs one officer.
 */
export async function continueDisputedCase(deps: Deps, context: AuditContext, input: ContinueDisputeInput): Promise<RecoveryCase> {
  return auditingRefusal(deps, context, { action: 'resolve', caseId: input.caseId, subject: `user:${input.officer.id}` }, async () => {
    const reason = parsedValue(input.reason);
    const recoveryCase = await findOfficerCase(deps.db, input.officer, input.caseId);
    if (recoveryCase.user_id === input.officer.id) throw new WartaError(403, 'recovery_self_case', 'nobody decides a recovery case about themselves; ask another officer');
    if (recoveryCase.status !== 'disputed') throw conflict('recovery_case_not_disputed', `this case is ${recoveryCase.status}, not disputed`);
    if (recoveryCase.opened_by === input.officer.id || recoveryCase.approved_by === input.officer.id)
      throw new WartaError(403, 'recovery_dispute_needs_another_officer', 'an officer who took no part in this case must see the person and continue it');
    const desk = checkDesk(await recoveryPolicyOf(deps.db, recoveryCase.organisation_id), parsedValue(input.desk));
    assertRecentPasskey(input.session, deps.clock);
    return deps.db.transaction().execute(async (trx) => {
      const continued = await trx
        .updateTable('recovery_cases')
        .set({ status: sql<'pending' | 'approved'>`disputed_from` })
        .where('id', '=', recoveryCase.id)
        .where('status', '=', 'disputed')
        .where('opened_by', '<>', input.officer.id)
        .where((eb) => eb.or([eb('approved_by', 'is', null), eb('approved_by', '<>', input.officer.id)]))
        .returningAll()
        .executeTakeFirst();
      if (!continued) throw conflict('recovery_case_not_disputed', 'this case is no longer disputed');
      await recordCaseChange(trx, deps, context, continued, { action: 'recovery.dispute_resolved', details: { resolution: 'continue', status: continued.status, desk, reason, disputed_at: continued.disputed_at?.toISOString() } });
      return continued;
    });
  });
}
