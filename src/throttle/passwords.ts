import type { Config } from '../config.js';
import type { Compilable, Expression, Kysely, SqlBool } from 'kysely';
import { type AuditContext } from '../audit/audit.js';
import { auditFailure } from '../audit/anonymous-failures.js';
import type { Clock } from '../clock.js';
import { keyedHash } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { attemptRelease, clearFailures, type FailureOutcome, type FailurePolicy, failuresClearance, PER_IP_POLICY, releaseAttempt, reserveAttempt, reserveAttempts, SIGN_IN_POLICY } from './counters.js';
import { ipKey } from './sign-in.js';
import type { Metrics } from '../metrics/metrics.js';

/** Back-off and lock-out per account, from the settings. */
export function accountFailurePolicy(config: Pick<Config, 'throttle'>): FailurePolicy {
  return { ...SIGN_IN_POLICY, freeAttempts: config.throttle.freeAttempts, lockAfter: config.throttle.lockAfter, lockSeconds: config.throttle.lockSeconds };
}

export interface PasswordThrottleKeys {
  ip: string;
  /** Present when the attempt names an account. */
  account?: string;
}

/**
 * Counter keys for a password attempt. The address key is shared with passkey
 * sign-in (one budget per address). The account key is derived from the
 * typed username, not the user id, so a name that matches nobody is counted,
 * backed off and locked exactly like a real account (otherwise a 429 would
 * reveal that an account exists). It is an HMAC so a password typed into the
 * username field by mistake never lands in the database.
 */
export function passwordThrottleKeys(tokenHashKey: Uint8Array, ip: string | null, username: string | undefined): PasswordThrottleKeys {
  const keys: PasswordThrottleKeys = { ip: ipKey(ip) };
  if (username !== undefined && username.trim() !== '') keys.account = `signin:account:${keyedHash(tokenHashKey, username.trim().toLowerCase())}`;
  return keys;
}

/** The counts a password attempt reserved before it was evaluated (see `reserveAttempt`). */
export interface PasswordReservation {
  ip: FailureOutcome;
  account: FailureOutcome | undefined;
}

type PasswordThrottleDeps = { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array; config: Pick<Config, 'throttle' | 'audit'>; metrics: Metrics };

/**
 * Counts the attempt against the address, then the account, before any hash is
 * verified, in one statement; 429 when either is backed off or locked. An
 * attempt the account refuses gives its address count back: it was never evaluated.
 * `read` (what the attempt is checked against) rides in the same statement: one
 * round trip before the hash instead of two. With no account to count (no
 * username), it runs on its own after the address is counted.
 */
export async function reservePasswordAttempt<Read extends object>(deps: PasswordThrottleDeps, keys: PasswordThrottleKeys, read: Compilable<Read> | undefined): Promise<{ reservation: PasswordReservation; read: Read | undefined }> {
  if (!keys.account) {
    const ip = await reserveAttempt(deps.db, deps.clock, keys.ip, PER_IP_POLICY);
    return { reservation: { ip, account: undefined }, read: read ? (await deps.db.executeQuery(read.compile())).rows[0] : undefined };
  }
  const [ip, account, row] = await reserveAttempts(deps.db, deps.clock, [keys.ip, PER_IP_POLICY], [keys.account, accountFailurePolicy(deps.config)], read);
  return { reservation: { ip, account }, read: row };
}

/** Both factors were right: the account's failures are forgotten (as before), the address's reservation is given back. */
export async function settlePasswordSuccess(deps: Pick<PasswordThrottleDeps, 'db' | 'clock' | 'auditEntryKey'>, keys: PasswordThrottleKeys): Promise<void> {
  await releaseAttempt(deps.db, deps.clock, keys.ip);
  if (keys.account) await clearFailures(deps.db, keys.account);
}

/** Which counters a password attempt reserved: the address's always, the account's when it named one. */
export type ReservedKeys = 'address and account' | 'address';
export const reservedKeys = (keys: PasswordThrottleKeys): ReservedKeys => (keys.account ? 'address and account' : 'address');

/** The counters a successful attempt settles: the address's reservation is given back, the account's failures forgotten. */
export interface PasswordSettlement {
  ipKey: string;
  accountKey: string | null;
  now: Date;
}

/** settlePasswordSuccess's statements, not yet run: for a sign-in made in one statement (sessions/sign-in.ts). */
export function passwordSuccessSettlement(db: Kysely<Database>, settled: PasswordSettlement, reserved: ReservedKeys, when: Expression<SqlBool>) {
  return [attemptRelease(db, settled.now, settled.ipKey).where(when), ...(reserved === 'address and account' ? [failuresClearance(db, settled.accountKey!).where(when)] : [])];
}

/** The attempt was not evaluated (no hashing capacity) or not a guess (right factors, refused by policy): nothing is counted. */
export async function releasePasswordAttempt(deps: Pick<PasswordThrottleDeps, 'db' | 'clock' | 'auditEntryKey'>, keys: PasswordThrottleKeys): Promise<void> {
  await releaseAttempt(deps.db, deps.clock, keys.ip);
  if (keys.account) await releaseAttempt(deps.db, deps.clock, keys.account);
}

/**
 * Audits one failed password attempt, already counted by its reservation, and
 * the lock when that reservation caused one, in one transaction. An attempt
 * that named no existing account (and came from no one signed in) is only
 * counted into its window (src/audit/anonymous-failures.ts), as is an
 * address's lock: a flood of made-up names from many addresses must not grow
 * the audit log by one entry per request.
 */
export async function recordPasswordFailure(
  deps: Pick<PasswordThrottleDeps, 'db' | 'clock' | 'auditEntryKey' | 'config' | 'metrics'>,
  context: AuditContext,
  keys: PasswordThrottleKeys,
  reservation: PasswordReservation,
  failure: { action: string; reason: string; userId?: string | undefined },
): Promise<void> {
  const subject = failure.userId ? `user:${failure.userId}` : null;
  const { ip, account } = reservation;
  await deps.db.transaction().execute(async (trx) => {
    await auditFailure(trx, deps, context, {
      action: failure.action,
      subject,
      key: `password:${failure.reason}`,
      details: { reason: failure.reason, account_key: keys.account ?? null, account_failures: account?.failures ?? null, ip_failures: ip.failures },
    });
    if (account?.locked) await auditFailure(trx, deps, context, { action: 'signin.account_locked', subject, key: 'password', details: { account_key: keys.account, until: account.blockedUntil?.toISOString() } });
    if (ip.locked) await auditFailure(trx, deps, context, { action: 'signin.ip_locked', subject: null, key: 'password', details: { ip: context.ip ?? null, until: ip.blockedUntil?.toISOString() } });
  });
  if (account?.locked) deps.metrics.recordLock('account');
  if (ip.locked) deps.metrics.recordLock('address');
  if (failure.action === 'signin.failed') deps.metrics.recordSignIn('password+totp', 'failure');
}
