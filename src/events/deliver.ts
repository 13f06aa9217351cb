import { type Kysely, sql } from 'kysely';
import { appendAudit } from '../audit/audit.js';
import { addSeconds } from '../clock.js';
import { newId } from '../crypto/random.js';
import type { Database, EventReceiver, SecurityEventRow } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { bearerTokenContext } from './receivers.js';
import { signSecurityEventToken } from './set.js';

export type DeliveryDeps = Pick<Deps, 'db' | 'clock' | 'config' | 'signingKeys' | 'box' | 'log'>;

export interface DeliveryOptions {
  /** The HTTP client (tests pass a wrapped fetch); default the global fetch. */
  fetchImpl?: typeof fetch;
  batchSize?: number;
  /** Jitter source, [0, 1). */
  random?: () => number;
}

export interface DeliveryReport {
  claimed: number;
  delivered: number;
  /** Refused by the receiver with an RFC 8935 error: not retried. */
  rejected: number;
  /** Failed, retried later. */
  retrying: number;
  /** Failed past the give-up age. */
  abandoned: number;
  /** Claimed but put back untried: their receiver had just failed. */
  deferred: number;
  /** Their receiver was removed. */
  cancelled: number;
}

interface ClaimedSet {
  id: number;
  jti: string;
  receiver_id: string;
  event_id: string;
  user_id: string;
  attempts: number;
  created_at: Date;
}

type Attempt =
  | { outcome: 'delivered' }
  | { outcome: 'rejected'; error: string }
  | { outcome: 'failed'; error: string };

const RESPONSE_BODY_LIMIT = 4096;

/**
 * One delivery round: claims due SETs and pushes each to its receiver
 * (RFC 8935). Safe on any number of instances at once: the claim is one SQL
 * statement with FOR UPDATE SKIP LOCKED, and it only ever takes the oldest
 * pending SET of each (receiver, user), so a receiver never gets a newer event
 * about a user before the older one was delivered or given up on. Receivers
 * are served concurrently, each receiver's SETs one after another, so one that
 * hangs costs its own time-out and nobody else's.
 */
export async function deliverPendingEvents(deps: DeliveryDeps, options: DeliveryOptions = {}): Promise<DeliveryReport> {
  const settings = deps.config.securityEvents;
  const report: DeliveryReport = { claimed: 0, delivered: 0, rejected: 0, retrying: 0, abandoned: 0, deferred: 0, cancelled: 0 };
  const now = deps.clock.now();
  const claimId = newId();
  // Held past the request time-out: a worker that dies mid-delivery loses its claim, and the SET goes out again (at least once).
  const lockedUntil = addSeconds(now, Math.ceil(settings.timeoutMs / 1000) + 60);
  const claimed = await claimDueSets(deps.db, { now, lockedUntil, claimId, limit: options.batchSize ?? settings.batchSize });
  report.claimed = claimed.length;
  if (!claimed.length) return report;

  const events = new Map((await deps.db.selectFrom('security_events').selectAll().where('id', 'in', [...new Set(claimed.map((c) => c.event_id))]).execute()).map((e) => [e.id, e]));
  const receiverIds = [...new Set(claimed.map((c) => c.receiver_id))];
  const receivers = new Map((await deps.db.selectFrom('event_receivers').selectAll().where('id', 'in', receiverIds).execute()).map((r) => [r.id, r]));
  const context = { deps, options, claimId, report };
  await Promise.all(receiverIds.map((id) => deliverToReceiver(context, receivers.get(id)!, claimed.filter((c) => c.receiver_id === id), events)));
  return report;
}

async function claimDueSets(db: Kysely<Database>, claim: { now: Date; lockedUntil: Date; claimId: string; limit: number }): Promise<ClaimedSet[]> {
  const { rows } = await sql<ClaimedSet>`
    update set_outbox set locked_until = ${claim.lockedUntil}, claim_id = ${claim.claimId}
    where id in (
      select o.id from set_outbox o
      where o.status = 'pending'
        and o.next_attempt_at <= ${claim.now}
        and (o.locked_until is null or o.locked_until <= ${claim.now})
        and not exists (
          select 1 from set_outbox older
          where older.receiver_id = o.receiver_id and older.user_id = o.user_id and older.status = 'pending' and older.id < o.id
        )
      order by o.id
      limit ${claim.limit}
      for update skip locked
    )
    returning id, jti, receiver_id, event_id, user_id, attempts, created_at`.execute(db);
  return rows.map((row) => ({ ...row, id: Number(row.id), created_at: new Date(row.created_at) })).sort((a, b) => a.id - b.id);
}

interface RoundContext {
  deps: DeliveryDeps;
  options: DeliveryOptions;
  claimId: string;
  report: DeliveryReport;
}

async function deliverToReceiver(round: RoundContext, receiver: EventReceiver, sets: ClaimedSet[], events: Map<string, SecurityEventRow>): Promise<void> {
  const { deps, report } = round;
  if (receiver.removed_at) {
    await finishSets(round, sets, { status: 'cancelled', error: 'receiver removed' });
    report.cancelled += sets.length;
    return;
  }
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i]!;
    let attempt: Attempt;
    try {
      attempt = await pushSet(round, receiver, set, events.get(set.event_id)!);
    } catch (error) {
      // Our side failed (no signing key, undecryptable token): not the receiver's fault, and nothing was sent.
      deps.log.error({ receiver: receiver.id, jti: set.jti, err: String(error) }, 'could not prepare a security event token; will retry');
      await releaseSets(round, sets.slice(i), addSeconds(deps.clock.now(), deps.config.securityEvents.retryMinSeconds));
      report.deferred += sets.length - i;
      return;
    }
    const nextAttemptAt = await recordAttempt(round, receiver, set, events.get(set.event_id)!, attempt);
    if (attempt.outcome === 'failed' && nextAttemptAt && i + 1 < sets.length) {
      // The receiver is failing now: give its other SETs the same pause instead of a time-out each.
      await releaseSets(round, sets.slice(i + 1), nextAttemptAt);
      report.deferred += sets.length - i - 1;
      return;
    }
  }
}

/** RFC 8935 §2: POST the SET; 2xx is delivered, 400 with an `err` is a refusal of this SET, anything else is a failure to retry. */
async function pushSet(round: RoundContext, receiver: EventReceiver, set: ClaimedSet, event: SecurityEventRow): Promise<Attempt> {
  const { deps, options } = round;
  const token = await signSecurityEventToken(deps, { jti: set.jti, audience: receiver.audience, event });
  const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt', accept: 'application/json' };
  if (receiver.bearer_token_enc) headers.authorization = `Bearer ${deps.box.openText(receiver.bearer_token_enc, bearerTokenContext(receiver.id))}`;
  const fetchImpl = options.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(receiver.url, {
      method: 'POST',
      headers,
      body: token,
      // A redirect could lead the SET and its bearer token anywhere (or to plain http): never followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.config.securityEvents.timeoutMs),
    });
  } catch (error) {
    return { outcome: 'failed', error: describeNetworkError(error) };
  }
  try {
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel().catch(() => {});
      return { outcome: 'delivered' };
    }
    if (response.status === 400) {
      const err = rfc8935ErrorCode(await readLimited(response, RESPONSE_BODY_LIMIT));
      if (err) return { outcome: 'rejected', error: `400 ${err}` };
    } else {
      await response.body?.cancel().catch(() => {});
    }
    return { outcome: 'failed', error: response.status >= 300 && response.status < 400 ? `http ${response.status} (redirects are not followed)` : `http ${response.status}` };
  } catch (error) {
    return { outcome: 'failed', error: describeNetworkError(error) };
  }
}

/** The `err` of an RFC 8935 §2.3 error response; undefined when the body is not one (a proxy's error page is retried). */
function rfc8935ErrorCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    const err = parsed !== null && typeof parsed === 'object' ? (parsed as { err?: unknown }).err : undefined;
    return typeof err === 'string' && /^[a-z0-9_]{1,64}$/.test(err) ? err : undefined;
  } catch {
    return undefined;
  }
}

async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= limit) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** A short, secret-free reason: never the URL (it may carry a key in its query) nor the response body. */
function describeNetworkError(error: unknown): string {
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code && /^[A-Z0-9_]{1,40}$/.test(code) ? `network error ${code}` : 'network error';
}

/** Exponential back-off from retryMin to retryMax, with jitter so a recovering receiver is not hit by every instance at once. */
export function retryDelaySeconds(attempts: number, settings: { retryMinSeconds: number; retryMaxSeconds: number }, random: () => number = Math.random): number {
  const base = Math.min(settings.retryMaxSeconds, settings.retryMinSeconds * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.min(settings.retryMaxSeconds, Math.max(settings.retryMinSeconds, Math.round(base * (0.5 + random() * 0.5))));
}

/**
 * Stores an attempt's outcome with the receiver's health and, for a SET that
 * will never arrive, its audit entry, in one transaction. Returns when the SET
 * is tried next (undefined once it is finished).
 */
async function recordAttempt(round: RoundContext, receiver: EventReceiver, set: ClaimedSet, event: SecurityEventRow, attempt: Attempt): Promise<Date | undefined> {
  const { deps, options, claimId, report } = round;
  const settings = deps.config.securityEvents;
  const now = deps.clock.now();
  const attempts = set.attempts + 1;
  let status: 'pending' | 'delivered' | 'rejected' | 'abandoned';
  let nextAttemptAt: Date | undefined;
  if (attempt.outcome === 'delivered') status = 'delivered';
  else if (attempt.outcome === 'rejected') status = 'rejected';
  else if (now.getTime() - set.created_at.getTime() >= settings.maxAgeSeconds * 1000) status = 'abandoned';
  else {
    status = 'pending';
    nextAttemptAt = addSeconds(now, retryDelaySeconds(attempts, settings, options.random));
  }
  const error = attempt.outcome === 'delivered' ? null : attempt.error;

  const recorded = await deps.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('set_outbox')
      .set({
        status,
        attempts,
        last_error: error,
        locked_until: null,
        claim_id: null,
        ...(nextAttemptAt ? { next_attempt_at: nextAttemptAt } : { finished_at: now }),
      })
      .where('id', '=', set.id)
      .where('claim_id', '=', claimId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    // Our claim lapsed and another worker took the SET over, or the receiver was removed meanwhile: theirs to record.
    if (Number(updated.numUpdatedRows) === 0) return false;
    if (attempt.outcome === 'delivered')
      await trx.updateTable('event_receivers').set({ consecutive_failures: 0, failing_since: null, last_success_at: now, last_error: null }).where('id', '=', receiver.id).execute();
    else
      await trx
        .updateTable('event_receivers')
        .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1), failing_since: eb.fn.coalesce('failing_since', eb.val(now)), last_failure_at: now, last_error: error }))
        .where('id', '=', receiver.id)
        .execute();
    if (status === 'rejected' || status === 'abandoned')
      await appendAudit(trx, deps.clock, { actor: 'system' }, {
        action: status === 'rejected' ? 'security_event.delivery_rejected' : 'security_event.delivery_abandoned',
        subject: `event_receiver:${receiver.id}`,
        outcome: 'failure',
        details: { jti: set.jti, event_id: event.id, type: event.type, user_id: set.user_id, attempts, error },
      });
    return true;
  });
  if (!recorded) return undefined;

  const logFields = { receiver: receiver.id, host: new URL(receiver.url).host, jti: set.jti, type: event.type, attempts };
  if (status === 'delivered') deps.log.debug(logFields, 'security event delivered');
  else if (status === 'pending') deps.log.warn({ ...logFields, error, retryAt: nextAttemptAt!.toISOString() }, 'security event delivery failed; will retry');
  else deps.log.warn({ ...logFields, error }, status === 'rejected' ? 'security event refused by its receiver; not retried' : 'security event delivery given up');
  report[status === 'pending' ? 'retrying' : status] += 1;
  return nextAttemptAt;
}

async function releaseSets(round: RoundContext, sets: ClaimedSet[], nextAttemptAt: Date): Promise<void> {
  if (!sets.length) return;
  await round.deps.db
    .updateTable('set_outbox')
    .set({ locked_until: null, claim_id: null, next_attempt_at: nextAttemptAt })
    .where('id', 'in', sets.map((s) => s.id))
    .where('claim_id', '=', round.claimId)
    .where('status', '=', 'pending')
    .execute();
}

async function finishSets(round: RoundContext, sets: ClaimedSet[], outcome: { status: 'cancelled'; error: string }): Promise<void> {
  await round.deps.db
    .updateTable('set_outbox')
    .set({ status: outcome.status, last_error: outcome.error, locked_until: null, claim_id: null, finished_at: round.deps.clock.now() })
    .where('id', 'in', sets.map((s) => s.id))
    .where('claim_id', '=', round.claimId)
    .where('status', '=', 'pending')
    .execute();
}
