import { type Kysely, sql } from 'kysely';
import { addSeconds, type Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { WartaError } from '../errors.js';

/**
 * Failure counters in the database (so every instance sees the same count and a
 * restart forgets nothing). Keys name what is counted: `signin:ip:<ip>`,
 * `signin:user:<id>`, `totp:user:<id>` …
 */
export interface FailurePolicy {
  /** Failures counted within this window; older ones are forgotten. */
  windowSeconds: number;
  /** Failures allowed before back-off starts. */
  freeAttempts: number;
  /** First back-off delay; doubles with each further failure. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** After this many failures in the window the key is locked for `lockSeconds`. */
  lockAfter: number;
  lockSeconds: number;
}

export const SIGN_IN_POLICY: FailurePolicy = {
  windowSeconds: 3600,
  freeAttempts: 5,
  baseDelaySeconds: 1,
  maxDelaySeconds: 300,
  // NIST SP 800-63B §5.2.2: no more than 100 consecutive failures.
  lockAfter: 100,
  lockSeconds: 3600,
};

export const PER_IP_POLICY: FailurePolicy = { ...SIGN_IN_POLICY, freeAttempts: 30, lockAfter: 1000 };

/** Throws 429 when `key` is currently backed off or locked. */
export async function assertNotThrottled(db: Kysely<Database>, clock: Clock, key: string): Promise<void> {
  const row = await db.selectFrom('rate_limits').select('blocked_until').where('key', '=', key).executeTakeFirst();
  const now = clock.now();
  if (row?.blocked_until && row.blocked_until > now) {
    const retryAfter = Math.ceil((row.blocked_until.getTime() - now.getTime()) / 1000);
    throw new WartaError(429, 'too_many_attempts', 'too many failed attempts; try again later', { headers: { 'Retry-After': String(retryAfter) } });
  }
}

export interface FailureOutcome {
  failures: number;
  blockedUntil: Date | null;
  /** True exactly when this failure crossed `lockAfter` (callers audit the lock). */
  locked: boolean;
}

/** Counts one failure atomically (one upsert) and sets the back-off. */
export async function recordFailure(db: Kysely<Database>, clock: Clock, key: string, policy: FailurePolicy): Promise<FailureOutcome> {
  const now = clock.now();
  const windowStart = addSeconds(now, -policy.windowSeconds);
  const { rows } = await sql<{ failures: number }>`
    insert into rate_limits (key, failures, window_started_at, blocked_until, updated_at)
    values (${key}, 1, ${now}, null, ${now})
    on conflict (key) do update set
      failures = case when rate_limits.window_started_at < ${windowStart} then 1 else rate_limits.failures + 1 end,
      window_started_at = case when rate_limits.window_started_at < ${windowStart} then ${now} else rate_limits.window_started_at end,
      updated_at = ${now}
    returning failures`.execute(db);
  const failures = Number(rows[0]!.failures);
  let blockedUntil: Date | null = null;
  if (failures >= policy.lockAfter) blockedUntil = addSeconds(now, policy.lockSeconds);
  else if (failures > policy.freeAttempts)
    blockedUntil = addSeconds(now, Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** (failures - policy.freeAttempts - 1)));
  if (blockedUntil) await db.updateTable('rate_limits').set({ blocked_until: blockedUntil }).where('key', '=', key).execute();
  return { failures, blockedUntil, locked: failures === policy.lockAfter };
}

export async function clearFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}
