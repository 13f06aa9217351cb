import type { AuditContext } from '../audit/audit.js';
import type { Db, RecoveryCase, Session, User } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';
import { assertRecentPasskey } from '../sessions/reauth.js';
import { auditingRefusal, findOfficerCase, recordCaseChange } from './cases.js';

/** Roles whose holder's account reaches other accounts: recovering one takes two officers and an admin. */
const AUTHORITY_ROLES = ['admin', 'recovery_officer', 'operator'] as const;

export async function holdsAuthority(db: Db, userId: string): Promise<boolean> {
  const row = await db.selectFrom('user_roles').select('role').where('user_id', '=', userId).where('role', 'in', AUTHORITY_ROLES).executeTakeFirst();
  return row !== undefined;
}

/**
 * Why an officer's approval cannot go through yet for want of an admin, or
 * undefined. A case about someone holding authority needs two officers and an
 * admin: two officers a rogue admin appointed cannot take over another admin
 * or officer between them. The admin who co-approved does not also count as
 * the approving officer. A role gained after the case was opened counts too.
 */
export async function adminCoApprovalRefusal(db: Db, recoveryCase: RecoveryCase, officerId: string): Promise<WartaError | undefined> {
  const required = recoveryCase.requires_admin || (await holdsAuthority(db, recoveryCase.user_id));
  if (!required) return undefined;
  if (!recoveryCase.admin_approved_by || !recoveryCase.requires_admin)
    return new WartaError(403, 'recovery_admin_approval_required', 'this person holds an admin or officer role: an admin of your organisation must co-approve the case before the second officer approves');
  if (recoveryCase.admin_approved_by === officerId) return new WartaError(403, 'recovery_self_approval', 'you co-approved this case as an admin; a different officer must approve it');
  return undefined;
}

export interface CoApprovalInput {
  admin: User;
  session: Session;
  caseId: string;
}

/**
 * An admin co-approves a pending case about an admin or officer. Race-free in
 * one conditional UPDATE: the case is still pending, still without an admin's
 * co-approval, and the admin is neither its subject nor its opener. The flag
 * is (re)set here too, so a role gained after opening is covered.
 */
export async function coApproveRecoveryCase(deps: Deps, context: AuditContext, input: CoApprovalInput): Promise<RecoveryCase> {
  return auditingRefusal(deps, context, { action: 'admin_approve', caseId: input.caseId, subject: `user:${input.admin.id}` }, async () => {
    const recoveryCase = await findOfficerCase(deps.db, input.admin, input.caseId);
    if (recoveryCase.user_id === input.admin.id) throw new WartaError(403, 'recovery_self_case', 'nobody opens or approves a recovery case about themselves; ask another admin');
    if (recoveryCase.opened_by === input.admin.id) throw new WartaError(403, 'recovery_self_approval', 'nobody approves a case they opened; ask another admin');
    if (!recoveryCase.requires_admin && !(await holdsAuthority(deps.db, recoveryCase.user_id)))
      throw new WartaError(409, 'recovery_admin_approval_not_needed', 'this case is about a member: two officers approve it');
    assertRecentPasskey(input.session, deps.clock);
    return deps.db.transaction().execute(async (trx) => {
      const now = deps.clock.now();
      const approved = await trx
        .updateTable('recovery_cases')
        .set({ requires_admin: true, admin_approved_by: input.admin.id, admin_approved_at: now })
        .where('id', '=', recoveryCase.id)
        .where('status', '=', 'pending')
        .where('expires_at', '>', now)
        .where('admin_approved_by', 'is', null)
        .where('opened_by', '<>', input.admin.id)
        .where('user_id', '<>', input.admin.id)
        .returningAll()
        .executeTakeFirst();
      if (!approved) throw new WartaError(409, 'recovery_case_not_pending', 'this case is no longer waiting for an admin co-approval');
      await recordCaseChange(trx, deps, context, approved, { action: 'recovery.admin_approved', details: { opened_by: approved.opened_by } });
      return approved;
    });
  });
}
