import type { AuditContext } from '../audit/audit.js';
import { addSeconds } from '../clock.js';
import type { RecoveryCase, Session, User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { parsedValue } from '../parsed.js';
import type { Deps } from '../deps.js';
import { assertOfficerCooledDown } from '../authority/officer-cooldown.js';
import { assertRecentPasskey } from '../sessions/reauth.js';
import { auditingRefusal, findOfficerCase, recordCaseChange } from './cases.js';
import { formatRecoveryCode, generateRecoveryCode, hashRecoveryCode } from './code.js';
import type { ApprovalFields } from './input.js';
import { checkDesk, recoveryPolicyOf, type RecoveryPolicy, sameDesk } from './policy.js';
import { adminCoApprovalRefusal } from './co-approve.js';

export interface ApprovalInput extends ApprovalFields {
  officer: User;
  session: Session;
  caseId: string;
}

interface CheckedApproval {
  recoveryCase: RecoveryCase;
  policy: RecoveryPolicy;
  desk: string;
}

const notPending = (recoveryCase: RecoveryCase, now: Date) =>
  recoveryCase.status === 'pending' && recoveryCase.expires_at <= now
    ? new WartaError(410, 'recovery_case_expired', 'this case waited too long for approval; open a new one')
    : new WartaError(409, 'recovery_case_not_pending', `this case is ${recoveryCase.status}, not waiting for approval`);

/**
 * Every rule an approval must meet, in order, changing nothing: the case is in
 * the officer's organisation, about someone else, opened by someone else, still
 * pending; the desk is one of the organisation's (a different one from the
 * opener's when the policy says so); and the officer confirmed with a passkey
 * in the last five minutes. The business rules come before the passkey, so an
 * officer is not asked to confirm an approval that would fail anyway.
 */
export async function checkApproval(deps: Deps, input: ApprovalInput): Promise<CheckedApproval> {
  const recoveryCase = await findOfficerCase(deps.db, input.officer, input.caseId);
  if (recoveryCase.user_id === input.officer.id) throw new WartaError(403, 'recovery_self_case', 'nobody opens or approves a recovery case about themselves; ask another officer');
  if (recoveryCase.opened_by === input.officer.id) throw new WartaError(403, 'recovery_self_approval', 'a second officer must approve this case; nobody approves a case they opened');
  const now = deps.clock.now();
  if (recoveryCase.status !== 'pending' || recoveryCase.expires_at <= now) throw notPending(recoveryCase, now);
  const policy = await recoveryPolicyOf(deps.db, recoveryCase.organisation_id);
  const desk = checkDesk(policy, parsedValue(input.desk));
  if (policy.requireDifferentDesk && sameDesk(desk, recoveryCase.opened_desk))
    throw new WartaError(403, 'recovery_same_desk', 'your organisation requires the approval to come from a different desk than the one that opened the case');
  const coApproval = await adminCoApprovalRefusal(deps.db, recoveryCase, input.officer.id);
  if (coApproval) throw coApproval;
  await assertOfficerCooledDown(deps, input.officer.id);
  assertRecentPasskey(input.session, deps.clock);
  return { recoveryCase, policy, desk };
}

export interface IssuedRecoveryCode {
  recoveryCase: RecoveryCase;
  /** XXXX-XXXX-XXXX-XXXX-XXXX: the only copy, for the slip; only its argon2id hash is stored. */
  code: string;
}

/**
 * Officer B approves: a fresh code is generated and hashed, then the case moves
 * from pending to approved in one conditional UPDATE. Of two approvals racing,
 * the second finds the case no longer pending and gets nothing.
 */
export async function approveRecoveryCase(deps: Deps, context: AuditContext, input: ApprovalInput): Promise<IssuedRecoveryCode> {
  return auditingRefusal(deps, context, { action: 'approve', caseId: input.caseId, subject: `user:${input.officer.id}` }, async () => {
    const { recoveryCase, policy, desk } = await checkApproval(deps, input);
    const code = generateRecoveryCode();
    const codeHash = await hashRecoveryCode(code, deps.config.passwords.argon2);
    return deps.db.transaction().execute(async (trx) => {
      const now = deps.clock.now();
      const approved = await trx
        .updateTable('recovery_cases')
        .set({ status: 'approved', approved_by: input.officer.id, approved_desk: desk, approved_at: now, code_hash: codeHash, code_expires_at: addSeconds(now, policy.codeTtlSeconds), code_max_attempts: policy.codeMaxAttempts })
        .where('id', '=', recoveryCase.id)
        .where('status', '=', 'pending')
        .where('expires_at', '>', now)
        .where('opened_by', '<>', input.officer.id)
        .where('user_id', '<>', input.officer.id)
        // A case about an admin or officer needs an admin's co-approval first, from a third person.
        .where((eb) => eb.or([eb('requires_admin', '=', false), eb.and([eb('admin_approved_by', 'is not', null), eb('admin_approved_by', '<>', input.officer.id)])]))
        .returningAll()
        .executeTakeFirst();
      if (!approved) throw notPending(await trx.selectFrom('recovery_cases').selectAll().where('id', '=', recoveryCase.id).executeTakeFirstOrThrow(), now);
      await recordCaseChange(trx, deps, context, approved, {
        action: 'recovery.approved',
        event: 'recovery_approved',
        details: { desk, opened_by: approved.opened_by, admin_approved_by: approved.admin_approved_by, code_expires_at: approved.code_expires_at!.toISOString(), code_max_attempts: approved.code_max_attempts },
      });
      return { recoveryCase: approved, code: formatRecoveryCode(code) };
    });
  });
}
