import { type Kysely, sql } from 'kysely';
import { recordAnonymousFailure } from '../audit/anonymous-failures.js';
import type { Config } from '../config.js';
import { addSeconds, type Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { WartaError } from '../errors.js';

/** Requests are counted per address in fixed windows of this length. */
export const REQUEST_WINDOW_SECONDS = 60;

export const requestKey = (endpoint: string, ip: string | null | undefined) => `requests:${endpoint}:ip:${ip ?? 'unknown'}`;

/** The budget one anonymous request is counted against. */
export interface AnonymousRequest {
  endpoint: string;
  ip: string | null;
  perMinute: number;
}

type RequestLimitDeps = { db: Kysely<Database>; clock: Clock; config: Pick<Config, 'audit'> };

/**
 * Counts one request of `ip` to an anonymous endpoint that stores a row (a
 * WebAuthn enrollment challenge, an authorization request, an auth_session), in
 * one upsert, and refuses it with 429 past `perMinute`. Without it anyone can fill
 * those tables as fast as they can send requests. Passkey sign-in options are not
 * counted: their challenge is sealed, not stored (src/webauthn/sealed-challenge.ts),
 * so they write nothing to fill. The first refusal of an address's window is counted
 * into the anonymous-failure audit (one entry per endpoint and audit window,
 * src/audit/anonymous-failures.ts); the rest are not counted, so a flood from
 * many addresses cannot fill the audit log instead.
 */
export async function countAnonymousRequest(deps: RequestLimitDeps, input: AnonymousRequest): Promise<void> {
  const now = deps.clock.now();
  const { rows } = await requestCountUpsert(input, now).execute(deps.db);
  await refuseOverLimit(deps, input, rows[0]!, now);
}

interface RequestCount {
  failures: number;
  window_started_at: Date;
}

function requestCountUpsert(input: AnonymousRequest, now: Date) {
  const key = requestKey(input.endpoint, input.ip);
  const windowStart = addSeconds(now, -REQUEST_WINDOW_SECONDS);
  return sql<RequestCount>`
    insert into rate_limits as r (key, failures, window_started_at, blocked_until, updated_at)
    values (${key}, 1, ${now}, null, ${now})
    on conflict (key) do update set
      failures = case when r.window_started_at <= ${windowStart} then 1 else r.failures + 1 end,
      window_started_at = case when r.window_started_at <= ${windowStart} then ${now} else r.window_started_at end,
      updated_at = ${now}
    returning failures, window_started_at`;
}

async function refuseOverLimit(deps: RequestLimitDeps, input: AnonymousRequest, counted: RequestCount, now: Date): Promise<void> {
  const count = Number(counted.failures);
  if (count <= input.perMinute) return;
  if (count === input.perMinute + 1) await recordAnonymousFailure(deps.db, deps, { action: 'throttle.request_limit_reached', key: input.endpoint, ip: input.ip });
  const windowEnd = addSeconds(new Date(counted.window_started_at), REQUEST_WINDOW_SECONDS);
  const retryAfter = Math.max(1, Math.ceil((windowEnd.getTime() - now.getTime()) / 1000));
  throw new WartaError(429, 'too_many_requests', 'too many requests from this address; try again shortly', { headers: { 'Retry-After': String(retryAfter) } });
}
