/**
 * OpenID Connect Back-Channel Logout 1.0 delivery, from the `backchannel_logouts`
 * outbox (filled by `enqueueBackchannelLogouts` in the transaction that ends a
 * session). Rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so every
 * instance can deliver without two sending the same row at once, and a crash
 * mid-delivery only delays it. Failures retry with exponential back-off until
 * `backchannelLogoutMaxAttempts`, then the row is abandoned and audited: no logout is
 * dropped silently.
 *
 * This is Warta's one deliberate outbound call: to a URI an admin registered, no
 * redirects followed, with a timeout.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAudit } from '../../audit/audit.js';
import { addSeconds } from '../../clock.js';
import type { Deps } from '../../deps.js';
import { type PeriodicJob, startPeriodicJob } from '../../jobs/periodic.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Back-Channel Logout §2.4 recommends a short lifetime: two minutes. */
const LOGOUT_TOKEN_TTL_SECONDS = 120;
const BATCH_SIZE = 20;
const FIRST_RETRY_SECONDS = 5;
const MAX_RETRY_SECONDS = 3600;

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface DeliveryReport {
  delivered: number;
  failed: number;
  abandoned: number;
}

interface ClaimedLogout {
  id: string;
  client_id: string;
  user_id: string;
  session_id: string;
  attempts: number;
  backchannel_logout_uri: string | null;
}

/** Delivers the logouts that are due; tests call it directly with their own fetch. */
export async function deliverPendingLogouts(deps: Deps, fetchImpl: FetchLike = fetch): Promise<DeliveryReport> {
  const now = deps.clock.now();
  // The lease: if this instance dies mid-delivery, another retries after it.
  const leaseUntil = new Date(now.getTime() + deps.config.backchannelLogoutTimeoutMs * 2);
  const { rows } = await sql<ClaimedLogout>`
    with due as (
      select id from backchannel_logouts
      where delivered_at is null and abandoned_at is null and next_attempt_at <= ${now}
      order by next_attempt_at
      limit ${BATCH_SIZE}
      for update skip locked
    )
    update backchannel_logouts b set attempts = b.attempts + 1, next_attempt_at = ${leaseUntil}
    from due, oauth_clients c
    where b.id = due.id and c.client_id = b.client_id
    returning b.id, b.client_id, b.user_id, b.session_id, b.attempts, c.backchannel_logout_uri`.execute(deps.db);

  const report: DeliveryReport = { delivered: 0, failed: 0, abandoned: 0 };
  await Promise.all(
    rows.map(async (row) => {
      const error = await deliver(deps, fetchImpl, row);
      const outcome = await recordOutcome(deps, row, error);
      report[outcome] += 1;
    }),
  );
  return report;
}

async function deliver(deps: Deps, fetchImpl: FetchLike, row: ClaimedLogout): Promise<string | undefined> {
  if (row.backchannel_logout_uri === null) return 'the client no longer has a backchannel_logout_uri';
  try {
    const logoutToken = await signLogoutToken(deps, row);
    const response = await fetchImpl(row.backchannel_logout_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.config.backchannelLogoutTimeoutMs),
    });
    await response.body?.cancel().catch(() => {});
    // §2.8: 200 on success; any 2xx is taken as delivered.
    return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : 'delivery failed';
  }
}

/** §2.4: iss, aud, iat, exp, jti, events, and sub and sid; never a nonce; typed logout+jwt. */
function signLogoutToken(deps: Deps, row: ClaimedLogout): Promise<string> {
  const iat = Math.floor(deps.clock.now().getTime() / 1000);
  return deps.signingKeys.sign(
    {
      iss: deps.config.issuer,
      aud: row.client_id,
      iat,
      exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
      jti: randomUUID(),
      sub: row.user_id,
      sid: row.session_id,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    },
    { typ: 'logout+jwt' },
  );
}

async function recordOutcome(deps: Deps, row: ClaimedLogout, error: string | undefined): Promise<keyof DeliveryReport> {
  const now = deps.clock.now();
  const context = { actor: 'system' };
  return deps.db.transaction().execute(async (trx) => {
    if (error === undefined) {
      await trx.updateTable('backchannel_logouts').set({ delivered_at: now, last_error: null }).where('id', '=', row.id).execute();
      await appendAudit(trx, deps.clock, context, { action: 'oidc.backchannel_logout_delivered', subject: `client:${row.client_id}`, details: { session_id: row.session_id, attempts: row.attempts } });
      return 'delivered';
    }
    if (row.attempts >= deps.config.backchannelLogoutMaxAttempts || row.backchannel_logout_uri === null) {
      await trx.updateTable('backchannel_logouts').set({ abandoned_at: now, last_error: error }).where('id', '=', row.id).execute();
      await appendAudit(trx, deps.clock, context, {
        action: 'oidc.backchannel_logout_abandoned',
        subject: `client:${row.client_id}`,
        outcome: 'failure',
        details: { session_id: row.session_id, user_id: row.user_id, attempts: row.attempts, last_error: error },
      });
      return 'abandoned';
    }
    const delay = Math.min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (row.attempts - 1));
    await trx.updateTable('backchannel_logouts').set({ next_attempt_at: addSeconds(now, delay), last_error: error }).where('id', '=', row.id).execute();
    return 'failed';
  });
}

/** Delivers due logouts every `backchannelLogoutIntervalMs` on every instance (they share the outbox safely). */
export function startBackchannelLogoutDelivery(deps: Deps, fetchImpl: FetchLike = fetch): PeriodicJob {
  return startPeriodicJob({
    name: 'back-channel logout delivery',
    intervalMs: deps.config.backchannelLogoutIntervalMs,
    log: deps.log,
    round: async (stopping) => {
      while (!stopping() && (await deliverPendingLogouts(deps, fetchImpl)).delivered === BATCH_SIZE);
    },
  });
}
