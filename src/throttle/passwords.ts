import type { Config } from '../config.js';
import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import { keyedHash } from '../crypto/random.js';
import type { Database } from '../db/schema.js';
import { assertNotThrottled, type FailurePolicy, PER_IP_POLICY, recordFailure, SIGN_IN_POLICY } from './counters.js';
import { ipKey } from './sign-in.js';

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

export async function assertPasswordAttemptAllowed(db: Kysely<Database>, clock: Clock, keys: PasswordThrottleKeys): Promise<void> {
  await assertNotThrottled(db, clock, keys.ip);
  if (keys.account) await assertNotThrottled(db, clock, keys.account);
}

/**
 * Counts one failed password attempt against the IP and the account, and
 * audits it (and a lock, when this failure causes one) in the same transaction.
 */
export async function recordPasswordFailure(
  deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array; config: Pick<Config, 'throttle'> },
  context: AuditContext,
  keys: PasswordThrottleKeys,
  failure: { action: string; reason: string; userId?: string | undefined },
): Promise<void> {
  const subject = failure.userId ? `user:${failure.userId}` : null;
  await deps.db.transaction().execute(async (trx) => {
    const ip = await recordFailure(trx, deps.clock, keys.ip, PER_IP_POLICY);
    const account = keys.account ? await recordFailure(trx, deps.clock, keys.account, accountFailurePolicy(deps.config)) : undefined;
    await appendAudit(trx, deps, context, {
      action: failure.action,
      subject,
      outcome: 'failure',
      details: { reason: failure.reason, account_key: keys.account ?? null, account_failures: account?.failures ?? null, ip_failures: ip.failures },
    });
    if (account?.locked)
      await appendAudit(trx, deps, context, { action: 'signin.account_locked', subject, outcome: 'failure', details: { account_key: keys.account, until: account.blockedUntil?.toISOString() } });
    if (ip.locked) await appendAudit(trx, deps, context, { action: 'signin.ip_locked', subject: null, outcome: 'failure', details: { ip: context.ip ?? null, until: ip.blockedUntil?.toISOString() } });
  });
}
