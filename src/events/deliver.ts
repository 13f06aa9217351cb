/**
 * Security Event Tokens pushed over HTTP (RFC 8935) from the `set_outbox`, by
 * the outbox engine (src/outbox/). What is SET-specific lives here: per-subject
 * ordering in the claim, the token and its bearer authorisation, RFC 8935
 * refusals, and the receiver health that /readyz reports.
 */
import { sql } from 'kysely';
import type { Db } from '../db/schema.js';
import { type DeliveryOptions, type DeliveryReport, deliverOutbox, type Lease, type OutboxJob } from '../outbox/deliver.js';
import { readLimited } from '../outbox/post.js';
import type { Deps } from '../deps.js';
import { bearerTokenContext, DELIVERY_FAILED } from './receivers.js';
import { signSecurityEventToken } from './set.js';

export type { DeliveryOptions, DeliveryReport } from '../outbox/deliver.js';

export type DeliveryDeps = Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'config' | 'signingKeys' | 'box' | 'log' | 'pairwiseSubjectKey'>;

interface ClaimedSet {
  id: number;
  jti: string;
  receiver_id: string;
  event_id: string;
  /** Null for an event about the instance (a withdrawn signing key). */
  user_id: string | null;
  attempts: number;
  created_at: Date;
  /** The event's type, for audit entries and logs. */
  type: string;
}

const RESPONSE_BODY_LIMIT = 4096;

/**
 * One delivery round: claims due SETs and pushes each to its receiver. A
 * receiver never gets a newer event about a user before the older one was
 * delivered or given up on: the claim only ever takes the oldest pending SET
 * of each (receiver, user).
 */
export function deliverPendingEvents(deps: DeliveryDeps, options: DeliveryOptions = {}): Promise<DeliveryReport> {
  return deliverOutbox(deps, securityEventOutbox(deps), options);
}

export function securityEventOutbox(deps: DeliveryDeps): OutboxJob<ClaimedSet> {
  const settings = deps.config.securityEvents;
  return {
    name: 'security event',
    batchSize: settings.batchSize,
    timeoutMs: settings.timeoutMs,
    retry: deps.config.outbox,
    claim: claimDueSets,
    async dispatch(sets) {
      const events = new Map((await deps.db.selectFrom('security_events').selectAll().where('id', 'in', [...new Set(sets.map((s) => s.event_id))]).execute()).map((e) => [e.id, e]));
      const receivers = new Map((await deps.db.selectFrom('event_receivers').selectAll().where('id', 'in', [...new Set(sets.map((s) => s.receiver_id))]).execute()).map((r) => [r.id, r]));
      // A receiver whose audience is a pairwise client gets the `sub` that client sees, not the user id (OIDC Core §8.1).
      const audiences = [...new Set([...receivers.values()].map((r) => r.audience))];
      const pairwiseClients = new Map(
        (await deps.db.selectFrom('oauth_clients').select(['client_id', 'subject_type', 'sector_identifier', 'redirect_uris']).where('client_id', 'in', audiences).where('subject_type', '=', 'pairwise').execute()).map((c) => [c.client_id, c]),
      );
      return sets.map((set) => {
        const receiver = receivers.get(set.receiver_id)!;
        if (receiver.removed_at) return { message: set, endpoint: receiver.id, drop: 'cancelled' as const, reason: 'receiver removed' };
        return {
          message: set,
          endpoint: receiver.id,
          async send() {
            const token = await signSecurityEventToken(deps, { jti: set.jti, audience: receiver.audience, event: events.get(set.event_id)!, audienceClient: pairwiseClients.get(receiver.audience) });
            const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt', accept: 'application/json' };
            if (receiver.bearer_token_enc) headers.authorization = `Bearer ${deps.box.openText(receiver.bearer_token_enc, bearerTokenContext(receiver.id))}`;
            return { url: receiver.url, headers, body: token };
          },
        };
      });
    },
    permanentFailure: rfc8935Refusal,
    async settle(trx, set, claimId, settlement) {
      const updated = await trx
        .updateTable('set_outbox')
        .set({
          status: settlement.status,
          attempts: settlement.attempts,
          last_error: settlement.error,
          locked_until: null,
          claim_id: null,
          ...(settlement.status === 'pending' ? { next_attempt_at: settlement.nextAttemptAt } : { finished_at: settlement.finishedAt }),
        })
        .where('id', '=', set.id)
        .where('claim_id', '=', claimId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) > 0;
    },
    async release(db, sets, claimId, nextAttemptAt) {
      await db
        .updateTable('set_outbox')
        .set({ locked_until: null, claim_id: null, next_attempt_at: nextAttemptAt })
        .where('id', 'in', sets.map((s) => s.id))
        .where('claim_id', '=', claimId)
        .where('status', '=', 'pending')
        .execute();
    },
    async afterAttempt(trx, set, attempt, now) {
      if (attempt.outcome === 'delivered')
        await trx.updateTable('event_receivers').set({ consecutive_failures: 0, failing_since: null, last_success_at: now, last_error: null }).where('id', '=', set.receiver_id).execute();
      else
        await trx
          .updateTable('event_receivers')
          .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1), failing_since: eb.fn.coalesce('failing_since', eb.val(now)), last_failure_at: now, last_error: DELIVERY_FAILED }))
          .where('id', '=', set.receiver_id)
          .execute();
    },
    audit: {
      subject: (set) => `event_receiver:${set.receiver_id}`,
      details: (set, settlement) => ({ jti: set.jti, event_id: set.event_id, type: set.type, user_id: set.user_id, attempts: settlement.attempts, error: settlement.error }),
      abandoned: 'security_event.delivery_abandoned',
      rejected: 'security_event.delivery_rejected',
    },
    logFields: (set, url) => ({ receiver: set.receiver_id, ...(url ? { host: new URL(url).host } : {}), jti: set.jti, type: set.type }),
  };
}

async function claimDueSets(db: Db, lease: Lease): Promise<ClaimedSet[]> {
  const { rows } = await sql<ClaimedSet>`
    update set_outbox set locked_until = ${lease.lockedUntil}, claim_id = ${lease.claimId}
    where id in (
      select o.id from set_outbox o
      where o.status = 'pending'
        and o.next_attempt_at <= ${lease.now}
        and (o.locked_until is null or o.locked_until <= ${lease.now})
        and not exists (
          select 1 from set_outbox older
          where older.receiver_id = o.receiver_id and older.user_id = o.user_id and older.status = 'pending' and older.id < o.id
        )
      order by o.id
      limit ${lease.limit}
      for update skip locked
    )
    returning id, jti, receiver_id, event_id, user_id, attempts, created_at, (select e.type from security_events e where e.id = set_outbox.event_id) as type`.execute(db);
  return rows.map((row) => ({ ...row, id: Number(row.id), created_at: new Date(row.created_at) })).sort((a, b) => a.id - b.id);
}

/** RFC 8935 §2.3: a 400 whose body carries an `err` refuses this SET for good; a proxy's error page is retried. */
async function rfc8935Refusal(response: Response): Promise<string | undefined> {
  if (response.status !== 400) return undefined;
  const err = rfc8935ErrorCode(await readLimited(response, RESPONSE_BODY_LIMIT));
  return err ? `400 ${err}` : undefined;
}

function rfc8935ErrorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    const err = parsed !== null && typeof parsed === 'object' ? (parsed as { err?: unknown }).err : undefined;
    return typeof err === 'string' && /^[a-z0-9_]{1,64}$/.test(err) ? err : undefined;
  } catch {
    return undefined;
  }
}
