import { type Compilable, type Kysely, type RawBuilder, sql } from 'kysely';
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

/**
 * No counter looks further back than this; housekeeping deletes a row once its
 * window started this long ago and it is not blocked. A policy with a longer
 * window must raise it.
 */
export const LONGEST_WINDOW_SECONDS = 3600;

export const SIGN_IN_POLICY: FailurePolicy = {
  windowSeconds: LONGEST_WINDOW_SECONDS,
  freeAttempts: 5,
  baseDelaySeconds: 1,
  maxDelaySeconds: 300,
  // NIST SP 800-63B §5.2.2: no more than 100 consecutive failures.
  lockAfter: 100,
  lockSeconds: 3600,
};

export const PER_IP_POLICY: FailurePolicy = { ...SIGN_IN_POLICY, freeAttempts: 30, lockAfter: 1000 };

const tooManyAttempts = (retryAfterSeconds: number) =>
  new WartaError(429, 'too_many_attempts', 'too many failed attempts; try again later', { headers: { 'Retry-After': String(Math.max(1, retryAfterSeconds)) } });

/** Throws 429 when `key` is currently backed off or locked. */
export async function assertNotThrottled(db: Kysely<Database>, clock: Clock, key: string): Promise<void> {
  const row = await db.selectFrom('rate_limits').select('blocked_until').where('key', '=', key).executeTakeFirst();
  refuseWhileBlocked(row?.blocked_until, clock);
}

/** assertNotThrottled for a key whose `blocked_until` the caller read with its other data. */
export function refuseWhileBlocked(blockedUntil: Date | null | undefined, clock: Clock): void {
  const now = clock.now();
  if (blockedUntil && blockedUntil > now) throw tooManyAttempts(Math.ceil((blockedUntil.getTime() - now.getTime()) / 1000));
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
  const blockedUntil = blockedUntilAfter(now, failures, policy);
  if (blockedUntil) await db.updateTable('rate_limits').set({ blocked_until: blockedUntil }).where('key', '=', key).execute();
  return { failures, blockedUntil, locked: failures === policy.lockAfter };
}

/**
 * Counts one attempt before it is evaluated, in one statement, and throws 429
 * when the key is backed off or locked (that attempt is not counted). A
 * check-then-count throttle lets every request in flight past the check (issue
 * 11, attack 6); here the increment and the back-off it causes are one atomic
 * upsert, so the request after the threshold sees the block whatever arrives
 * together. The caller treats the reservation as the failure when the attempt
 * fails, and clears or releases it when it succeeds.
 */
export async function reserveAttempt(db: Kysely<Database>, clock: Clock, key: string, policy: FailurePolicy): Promise<FailureOutcome> {
  const now = clock.now();
  const { rows } = await reservationUpsert(key, policy, now, sql`values (${sql.join(reservationValues(key, policy, now))})`).execute(db);
  const row = rows[0];
  if (!row) {
    // Nothing was updated: the key is blocked. Read how long for the Retry-After.
    await assertNotThrottled(db, clock, key);
    throw tooManyAttempts(1);
  }
  return reserved(row, policy);
}

/**
 * reserveAttempt for two keys in one statement (one commit): `second` (an
 * account) is counted only when `first` (an address) was. When `second` is
 * backed off or locked, `first`'s count is given back and the 429 says how long
 * `second` waits, as two reserveAttempt calls in a row would.
 *
 * `read`, a SELECT of at most one row, rides in the same statement (one round
 * trip instead of two): what the attempt is to be checked against, read as it
 * was when the statement began. None of its columns may be named first_failures,
 * first_blocked_until, second_failures, second_blocked_until or read_found (the
 * reservation's own); undefined when it found no row (a refused reservation throws).
 */
export async function reserveAttempts<Read extends object = Record<string, never>>(
  db: Kysely<Database>,
  clock: Clock,
  first: [string, FailurePolicy],
  second: [string, FailurePolicy],
  read?: Compilable<Read>,
): Promise<[FailureOutcome, FailureOutcome, Read | undefined]> {
  const now = clock.now();
  const [firstKey, firstPolicy] = first;
  const [secondKey, secondPolicy] = second;
  const { rows } = await sql<{ first_failures: number | null; first_blocked_until: Date | null; second_failures: number | null; second_blocked_until: Date | null; read_found: boolean | null }>`
    with first as (${reservationUpsert(firstKey, firstPolicy, now, sql`values (${sql.join(reservationValues(firstKey, firstPolicy, now))})`)}),
    second as (${reservationUpsert(secondKey, secondPolicy, now, sql`select ${sql.join(reservationValues(secondKey, secondPolicy, now))} where exists (select 1 from first)`)})
    ${read ? sql`, attempt_read as (${read})` : sql``}
    select f.failures as first_failures, f.blocked_until as first_blocked_until, s.failures as second_failures, s.blocked_until as second_blocked_until
    ${read ? sql`, r.*, exists (select 1 from attempt_read) as read_found` : sql``}
    from (select 1) as one left join first as f on true left join second as s on true ${read ? sql`left join attempt_read as r on true` : sql``}`.execute(db);
  const row = rows[0]!;
  if (row.first_failures === null) {
    await assertNotThrottled(db, clock, firstKey);
    throw tooManyAttempts(1);
  }
  if (row.second_failures === null) {
    await releaseAttempt(db, clock, firstKey);
    await assertNotThrottled(db, clock, secondKey);
    throw tooManyAttempts(1);
  }
  const { first_failures, first_blocked_until, second_failures, second_blocked_until, read_found, ...readRow } = row;
  return [
    reserved({ failures: first_failures, blocked_until: first_blocked_until }, firstPolicy),
    reserved({ failures: second_failures, blocked_until: second_blocked_until }, secondPolicy),
    read_found ? (readRow as unknown as Read) : undefined,
  ];
}

/** A reservation's upsert over `source` (a VALUES list or a SELECT of reservationValues); no row returned when the key is blocked. */
function reservationUpsert(key: string, policy: FailurePolicy, now: Date, source: RawBuilder<unknown>) {
  const windowStart = addSeconds(now, -policy.windowSeconds);
  const counted = sql<number>`case when r.window_started_at < ${windowStart} then 1 else r.failures + 1 end`;
  return sql<{ failures: number; blocked_until: Date | null }>`
    insert into rate_limits as r (key, failures, window_started_at, blocked_until, updated_at)
    ${source}
    on conflict (key) do update set
      failures = ${counted},
      window_started_at = case when r.window_started_at < ${windowStart} then ${now} else r.window_started_at end,
      blocked_until = ${blockedUntilSql(now, counted, policy)},
      updated_at = ${now}
    where r.blocked_until is null or r.blocked_until <= ${now}
    returning failures, blocked_until`;
}

// Typed, since a SELECT (unlike VALUES in an insert) gives its parameters no column types.
const reservationValues = (key: string, policy: FailurePolicy, now: Date) => [
  sql`${key}::text`,
  sql`1`,
  sql`${now}::timestamptz`,
  sql`${blockedUntilAfter(now, 1, policy)}::timestamptz`,
  sql`${now}::timestamptz`,
];

function reserved(row: { failures: number; blocked_until: Date | null }, policy: FailurePolicy): FailureOutcome {
  const failures = Number(row.failures);
  return { failures, blockedUntil: row.blocked_until ? new Date(row.blocked_until) : null, locked: failures === policy.lockAfter };
}

/** Gives back a reservation whose attempt was never evaluated or succeeded; a back-off it started stays. */
export async function releaseAttempt(db: Kysely<Database>, clock: Clock, key: string): Promise<void> {
  await attemptRelease(db, clock.now(), key).execute();
}

/** releaseAttempt's statement, not yet run (for a sign-in made in one statement). */
export function attemptRelease(db: Kysely<Database>, now: Date, key: string) {
  return db
    .updateTable('rate_limits')
    .set({ failures: sql<number>`greatest(failures - 1, 0)`, updated_at: now })
    .where('key', '=', key);
}

/** The back-off after `failures` counted failures: the same rule as `recordFailure`. */
function blockedUntilAfter(now: Date, failures: number, policy: FailurePolicy): Date | null {
  if (failures >= policy.lockAfter) return addSeconds(now, policy.lockSeconds);
  if (failures > policy.freeAttempts) return addSeconds(now, Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** (failures - policy.freeAttempts - 1)));
  return null;
}

/** `blockedUntilAfter` in SQL, over the count the upsert computes; the exponent is capped so power() cannot overflow. */
function blockedUntilSql(now: Date, failures: RawBuilder<number>, policy: FailurePolicy) {
  return sql<Date | null>`case
    when ${failures} >= ${policy.lockAfter} then ${now}::timestamptz + make_interval(secs => ${policy.lockSeconds})
    when ${failures} > ${policy.freeAttempts} then ${now}::timestamptz + make_interval(secs => least(${policy.maxDelaySeconds}::float8, ${policy.baseDelaySeconds}::float8 * power(2::float8, least(${failures} - ${policy.freeAttempts} - 1, 40))))
    else null end`;
}

export async function clearFailures(db: Kysely<Database>, key: string): Promise<void> {
  await failuresClearance(db, key).execute();
}

/** clearFailures's statement, not yet run (for a sign-in made in one statement). */
export function failuresClearance(db: Kysely<Database>, key: string) {
  return db.deleteFrom('rate_limits').where('key', '=', key);
}
