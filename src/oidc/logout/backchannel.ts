/**
 * OpenID Connect Back-Channel Logout 1.0 delivery, from the `backchannel_logouts`
 * outbox (filled by `enqueueBackchannelLogouts` in the transaction that ends a
 * session), by the outbox engine (src/outbox/): claimed with a lease, retried
 * with back-off, given up after the outbox give-up age or
 * `backchannelLogoutMaxAttempts` with an audit entry, so no logout is dropped
 * silently. What is logout-specific lives here: the logout token and where it goes.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../db/schema.js';
import { type DeliveryOptions, type DeliveryReport, deliverOutbox, type Lease, type OutboxJob } from '../../outbox/deliver.js';
import { startOutboxDelivery } from '../../outbox/worker.js';
import type { PeriodicJob } from '../../jobs/periodic.js';
import type { Deps } from '../../deps.js';
import { subjectFor } from '../subject.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Back-Channel Logout §2.4 recommends a short lifetime: two minutes. */
const LOGOUT_TOKEN_TTL_SECONDS = 120;
const BATCH_SIZE = 20;

type LogoutDeps = Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'config' | 'signingKeys' | 'log' | 'pairwiseSubjectKey'>;

interface ClaimedLogout {
  id: string;
  client_id: string;
  user_id: string;
  session_id: string;
  attempts: number;
  created_at: Date;
  /** The lease this claim set (as `next_attempt_at`); unique per claim, so it marks the claim in place of a claim column. */
  leased_until: Date;
  backchannel_logout_uri: string | null;
  subject_type: 'public' | 'pairwise';
  sector_identifier: string | null;
  redirect_uris: string[];
}

/** Delivers the logouts that are due; tests call it directly with their own fetch. */
export function deliverPendingLogouts(deps: LogoutDeps, options: DeliveryOptions = {}): Promise<DeliveryReport> {
  return deliverOutbox(deps, backchannelLogoutOutbox(deps), options);
}

/** Delivers due logouts every `backchannelLogoutIntervalMs` on every instance (they share the outbox safely). */
export function startBackchannelLogoutDelivery(deps: LogoutDeps, options: DeliveryOptions = {}): PeriodicJob {
  return startOutboxDelivery(deps, backchannelLogoutOutbox(deps), { ...options, intervalMs: deps.config.oidc.backchannelLogout.intervalMs });
}

export function backchannelLogoutOutbox(deps: LogoutDeps): OutboxJob<ClaimedLogout> {
  return {
    name: 'back-channel logout',
    batchSize: BATCH_SIZE,
    timeoutMs: deps.config.oidc.backchannelLogout.timeoutMs,
    retry: { ...deps.config.outbox, maxAttempts: deps.config.oidc.backchannelLogout.maxAttempts },
    claim: claimDueLogouts,
    async dispatch(logouts) {
      return logouts.map((logout) => {
        const uri = logout.backchannel_logout_uri;
        if (uri === null) return { message: logout, endpoint: logout.client_id, drop: 'abandoned' as const, reason: 'the client no longer has a backchannel_logout_uri' };
        return {
          message: logout,
          endpoint: logout.client_id,
          send: async () => ({
            url: uri,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ logout_token: await signLogoutToken(deps, logout) }).toString(),
          }),
        };
      });
    },
    async settle(trx, logout, _claimId, settlement) {
      const updated = await trx
        .updateTable('backchannel_logouts')
        .set(
          settlement.status === 'pending'
            ? { attempts: settlement.attempts, next_attempt_at: settlement.nextAttemptAt, last_error: settlement.error }
            : settlement.status === 'delivered'
              ? { attempts: settlement.attempts, delivered_at: settlement.finishedAt, last_error: null }
              : { attempts: settlement.attempts, abandoned_at: settlement.finishedAt, last_error: settlement.error },
        )
        .where('id', '=', logout.id)
        .where('next_attempt_at', '=', logout.leased_until)
        .where('delivered_at', 'is', null)
        .where('abandoned_at', 'is', null)
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) > 0;
    },
    async release(db, logouts, _claimId, nextAttemptAt) {
      // One claim, one lease: every row of the round carries the same one.
      await db
        .updateTable('backchannel_logouts')
        .set({ next_attempt_at: nextAttemptAt })
        .where('id', 'in', logouts.map((l) => l.id))
        .where('next_attempt_at', '=', logouts[0]!.leased_until)
        .where('delivered_at', 'is', null)
        .where('abandoned_at', 'is', null)
        .execute();
    },
    audit: {
      subject: (logout) => `client:${logout.client_id}`,
      details: (logout, settlement) =>
        settlement.status === 'delivered'
          ? { session_id: logout.session_id, attempts: settlement.attempts }
          : { session_id: logout.session_id, user_id: logout.user_id, attempts: settlement.attempts, last_error: settlement.error },
      delivered: 'oidc.backchannel_logout_delivered',
      abandoned: 'oidc.backchannel_logout_abandoned',
    },
    logFields: (logout, url) => ({ client_id: logout.client_id, ...(url ? { host: new URL(url).host } : {}) }),
  };
}

async function claimDueLogouts(db: Db, lease: Lease): Promise<ClaimedLogout[]> {
  const { rows } = await sql<ClaimedLogout>`
    with due as (
      select id from backchannel_logouts
      where delivered_at is null and abandoned_at is null and next_attempt_at <= ${lease.now}
      order by next_attempt_at
      limit ${lease.limit}
      for update skip locked
    )
    update backchannel_logouts b set next_attempt_at = ${lease.lockedUntil}
    from due, oauth_clients c
    where b.id = due.id and c.client_id = b.client_id
    returning b.id, b.client_id, b.user_id, b.session_id, b.attempts, b.created_at, b.next_attempt_at as leased_until, c.backchannel_logout_uri, c.subject_type, c.sector_identifier, c.redirect_uris`.execute(db);
  return rows.map((row) => ({ ...row, created_at: new Date(row.created_at), leased_until: new Date(row.leased_until) }));
}

/** §2.4: iss, aud, iat, exp, jti, events, and sub and sid; never a nonce; typed logout+jwt. */
function signLogoutToken(deps: Pick<Deps, 'clock' | 'config' | 'signingKeys' | 'pairwiseSubjectKey'>, logout: ClaimedLogout): Promise<string> {
  const iat = Math.floor(deps.clock.now().getTime() / 1000);
  return deps.signingKeys.sign(
    {
      iss: deps.config.issuer,
      aud: logout.client_id,
      iat,
      exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
      jti: randomUUID(),
      // The `sub` the client's ID tokens carried (oidc/subject.ts), or it could not match the logout to its session.
      sub: subjectFor(deps, logout, logout.user_id),
      sid: logout.session_id,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    },
    { typ: 'logout+jwt' },
  );
}
