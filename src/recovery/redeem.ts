/**
 * Redeeming a recovery code at /recover: username + code give a short-lived,
 * single-use enrollment grant. "No such user", "no code issued" and "wrong
 * code" are one answer, so the page cannot be used to learn who is being
 * recovered. Only someone holding the right code learns more (expired, used,
 * locked): they were at the desk.
 */
import { type Kysely, sql } from 'kysely';
import { appendAudit, appendAuditWhen, type AuditContext } from '../audit/audit.js';
import { auditFailure } from '../audit/anonymous-failures.js';
import { addSeconds } from '../clock.js';
import { hashToken, keyedHash, newToken } from '../crypto/random.js';
import type { Database, RecoveryCase, RecoveryCaseStatus, Role, User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { assertNotThrottled, type FailurePolicy, recordFailure } from '../throttle/counters.js';
import type { Deps } from '../deps.js';
import { type OrganisationPolicy, resolvePolicy } from '../orgs/policy.js';
import { normaliseRecoveryCode, recoveryCodeMatches } from './code.js';

/** Wrong codes per client address: generous for a person retyping from paper, hopeless for guessing 100 bits. */
export const RECOVERY_IP_POLICY: FailurePolicy = { windowSeconds: 3600, freeAttempts: 10, baseDelaySeconds: 1, maxDelaySeconds: 300, lockAfter: 100, lockSeconds: 3600 };

export const recoveryIpKey = (ip: string | null | undefined) => `recovery:ip:${ip ?? 'unknown'}`;

export const wrongRecoveryCode = () =>
  new WartaError(400, 'invalid_recovery_code', 'the username or the recovery code is not right. After a few wrong attempts the code stops working, and you must go back to the recovery desk');

export interface RedeemedCode {
  /** The enrollment grant: the only copy, for the browser that redeemed the code. */
  grant: string;
  recoveryCase: RecoveryCase;
  user: User;
  /** The user's organisation's policy and the user's roles: what the answer says about the next steps. */
  organisationPolicy: OrganisationPolicy;
  roles: Role[];
}

/** The approved case whose code a user holds: their most recently approved one. */
interface IssuedCase {
  id: string;
  code_hash: string;
}

/**
 * The user `username` names, their organisation's policy and their roles, and their
 * most recently approved case (the one whose code they hold), if any: one read.
 */
async function findCodeHolder(db: Kysely<Database>, username: string) {
  const row = await db
    .selectFrom('users as u')
    .innerJoin('organisations as o', 'o.id', 'u.organisation_id')
    .leftJoinLateral(
      (eb) => eb.selectFrom('recovery_cases as c').select(['c.id', 'c.code_hash']).whereRef('c.user_id', '=', 'u.id').where('c.code_hash', 'is not', null).orderBy('c.approved_at', 'desc').limit(1).as('issued'),
      (join) => join.onTrue(),
    )
    .selectAll('u')
    .select(['o.policy as organisation_policy', sql<Role[]>`array(select r.role from user_roles r where r.user_id = u.id order by r.role)`.as('roles'), 'issued.id as issued_case_id', 'issued.code_hash as issued_code_hash'])
    .where(sql`lower(u.username)`, '=', username.trim().toLowerCase())
    .executeTakeFirst();
  if (!row) return undefined;
  const { organisation_policy, roles, issued_case_id, issued_code_hash, ...user } = row;
  const issued: IssuedCase | undefined = issued_case_id && issued_code_hash ? { id: issued_case_id, code_hash: issued_code_hash } : undefined;
  return { user: user as User, organisationPolicy: resolvePolicy(organisation_policy), roles, issued };
}

export async function redeemRecoveryCode(deps: Deps, context: AuditContext, input: { username: string; code: string }): Promise<RedeemedCode> {
  const ipKey = recoveryIpKey(context.ip);
  await assertNotThrottled(deps.db, deps.clock, ipKey);
  const canonical = normaliseRecoveryCode(input.code);
  const holder = await findCodeHolder(deps.db, input.username);
  const user = holder?.user;
  // A disabled account's code is checked too, so a right code can be told why it does not work; an offboarded one has none.
  const issued = user && user.status !== 'offboarded' ? holder.issued : undefined;
  // One argon2 verification whatever was found (a dummy hash when nothing was): the time taken says nothing either.
  const dummyHash = await deps.dummyPasswordHash;
  const verified = await deps.passwordHashing.run(() => recoveryCodeMatches(issued?.code_hash ?? dummyHash, canonical ?? 'not a recovery code'));
  if (!holder || !issued || !canonical || !verified) {
    await recordWrongCode(deps, context, { ipKey, username: input.username, user, issued });
    throw wrongRecoveryCode();
  }
  if (holder.user.status !== 'active') {
    await appendAudit(deps.db, deps, context, { action: 'recovery.redeem_refused', subject: `user:${holder.user.id}`, outcome: 'failure', details: { case_id: issued.id, reason: 'account_disabled' } });
    throw new WartaError(403, 'account_disabled', 'this account is disabled; an administrator must enable it first');
  }
  const { grant, recoveryCase } = await claimCase(deps, context, issued, holder.user);
  return { grant, recoveryCase, user: holder.user, organisationPolicy: holder.organisationPolicy, roles: holder.roles };
}

/**
 * Counts a wrong attempt against the address and, when the user has an
 * approved code, against that code: the attempt that reaches the limit locks
 * the case (one conditional UPDATE, so concurrent guesses cannot overshoot).
 */
async function recordWrongCode(deps: Deps, context: AuditContext, attempt: { ipKey: string; username: string; user: User | undefined; issued: IssuedCase | undefined }): Promise<void> {
  const { user, issued } = attempt;
  const locked = await deps.db.transaction().execute(async (trx) => {
    const ip = await recordFailure(trx, deps.clock, attempt.ipKey, RECOVERY_IP_POLICY);
    const now = deps.clock.now();
    const counted = issued
      ? await trx
          .updateTable('recovery_cases')
          .set({
            code_attempts: sql<number>`code_attempts + 1`,
            status: sql<RecoveryCaseStatus>`case when code_attempts + 1 >= code_max_attempts then 'locked' else status end`,
            closed_at: sql<Date | null>`case when code_attempts + 1 >= code_max_attempts then ${now}::timestamptz end`,
            close_reason: sql<string | null>`case when code_attempts + 1 >= code_max_attempts then 'too_many_wrong_codes' end`,
          })
          .where('id', '=', issued.id)
          .where('status', '=', 'approved')
          .where('code_expires_at', '>', now)
          .returning(['code_attempts', 'code_max_attempts', 'status'])
          .executeTakeFirst()
      : undefined;
    const reason = !user ? 'unknown_account' : !issued ? 'no_code_issued' : 'wrong_code';
    // A name that matches nobody is only counted into its window (src/audit/anonymous-failures.ts): a flood of them must not grow the audit log.
    await auditFailure(trx, deps, context, {
      action: 'recovery.code_failed',
      subject: user ? `user:${user.id}` : null,
      key: `recovery:${reason}`,
      details: {
        reason,
        // What was typed as the username is kept only as a keyed hash: it may be a code typed into the wrong field.
        ...(user ? {} : { account_key: keyedHash(deps.tokenHashKey, attempt.username.trim().toLowerCase()) }),
        ...(issued ? { case_id: issued.id } : {}),
        ...(counted ? { attempts: Number(counted.code_attempts), max_attempts: counted.code_max_attempts } : {}),
        ip_failures: ip.failures,
      },
    });
    if (counted?.status === 'locked')
      await appendAudit(trx, deps, context, { action: 'recovery.locked', subject: `user:${user!.id}`, outcome: 'failure', details: { case_id: issued!.id, attempts: Number(counted.code_attempts) } });
    if (ip.locked) await auditFailure(trx, deps, context, { action: 'recovery.ip_locked', subject: null, key: 'recovery', details: { key: attempt.ipKey, until: ip.blockedUntil?.toISOString() } });
    return { recoveryCase: counted?.status === 'locked', address: ip.locked };
  });
  deps.metrics.recordSignIn('recovery_code', 'failure');
  if (locked.recoveryCase) deps.metrics.recordLock('recovery_case');
  if (locked.address) deps.metrics.recordLock('address');
}

/** Why a right code for this case can no longer be used. */
function unusableCode(recoveryCase: RecoveryCase, now: Date): WartaError {
  switch (recoveryCase.status) {
    case 'redeemed':
    case 'completed':
      return new WartaError(409, 'recovery_code_used', 'this recovery code was already used. If that was not you, go back to the recovery desk at once');
    case 'locked':
      return new WartaError(403, 'recovery_case_locked', 'this recovery code was entered wrongly too often and no longer works; go back to the recovery desk');
    case 'disputed':
      return new WartaError(409, 'recovery_case_disputed', 'this recovery was disputed from a signed-in device and is on hold; go back to the recovery desk');
    case 'rejected':
    case 'cancelled':
      return new WartaError(410, 'recovery_case_closed', 'this recovery was stopped and its code no longer works; go back to the recovery desk');
    default:
      return recoveryCase.code_expires_at && recoveryCase.code_expires_at <= now
        ? new WartaError(410, 'recovery_code_expired', 'this recovery code has expired; go back to the recovery desk for a new one')
        : new WartaError(409, 'recovery_code_used', 'this recovery code can no longer be used; go back to the recovery desk');
  }
}

/**
 * Spends the code: approved → redeemed in one conditional UPDATE, which also
 * stores the new grant's hash and appends the audit entry, in one statement. Of
 * two concurrent redemptions, one gets the grant and the other finds the case
 * already redeemed.
 */
async function claimCase(deps: Deps, context: AuditContext, issued: IssuedCase, user: User): Promise<{ grant: string; recoveryCase: RecoveryCase }> {
  const grant = newToken(32);
  const now = deps.clock.now();
  const grantExpiresAt = addSeconds(now, deps.config.recovery.grantTtlSeconds);
  const { rows } = await sql<RecoveryCase>`
    with redeemed as (
      update recovery_cases set status = 'redeemed', redeemed_at = ${now}, grant_hash = ${hashToken(grant)}, grant_expires_at = ${grantExpiresAt}
      where id = ${issued.id} and status = 'approved' and code_expires_at > ${now} and code_attempts < code_max_attempts
      returning *
    ), audit as (
      ${appendAuditWhen('redeemed', deps, { ...context, actor: `user:${user.id}` }, { action: 'recovery.code_redeemed', subject: `user:${user.id}`, details: { case_id: issued.id, grant_expires_at: grantExpiresAt.toISOString() } })}
    )
    select * from redeemed`.execute(deps.db);
  const redeemed = rows[0];
  if (redeemed) return { grant, recoveryCase: redeemed };
  const current = await deps.db.selectFrom('recovery_cases').selectAll().where('id', '=', issued.id).executeTakeFirstOrThrow();
  const refusal = unusableCode(current, now);
  await appendAudit(deps.db, deps, context, { action: 'recovery.code_refused', subject: `user:${user.id}`, outcome: 'failure', details: { case_id: issued.id, reason: refusal.code } });
  throw refusal;
}
