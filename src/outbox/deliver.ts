/**
 * The outbox engine: every message Warta pushes to another service (Security
 * Event Tokens, back-channel logout tokens) is queued as a row in the
 * transaction that caused it, and delivered from there by this one loop:
 *
 * 1. claim due rows, FOR UPDATE SKIP LOCKED, with a lease: any number of
 *    instances deliver at once without two sending one row, and a worker that
 *    dies mid-delivery only delays its rows until the lease ends;
 * 2. POST each a freshly signed JWT with a time-out, to an address the outbound
 *    allow-list admits, resolved once and connected to as checked (src/outbound/);
 *    the rows of one endpoint
 *    go one after another (in claim order), endpoints concurrently, so one that
 *    hangs costs its own time-out and nobody else's;
 * 3. on failure, back off with jitter under the outbox retry rules, and give up
 *    after the give-up age (or the job's attempt limit) with an audit entry;
 *    a refusal the job classifies as permanent is not retried either.
 *
 * What differs per job (table, token, what is permanent) is an `OutboxJob`.
 */
import type { Transaction } from 'kysely';
import { appendAudit } from '../audit/audit.js';
import { addSeconds } from '../clock.js';
import { newId } from '../crypto/random.js';
import type { Database, Db } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { type HostResolver, resolveDestination, systemResolver } from '../outbound/destination.js';
import { type Attempt, type FetchLike, type PermanentFailure, pinnedFetch, postSignedToken, type SignedPost } from './post.js';
import { isTimeToGiveUp, type RetryRules, retryDelaySeconds } from './retry.js';

export type OutboxDeps = Pick<Deps, 'db' | 'clock' | 'log' | 'auditEntryKey' | 'config'>;

/** What the engine needs of a claimed row. */
export interface OutboxMessage {
  created_at: Date;
  /** Attempts made before this claim. */
  attempts: number;
}

export interface Lease {
  now: Date;
  /** Until when the claim holds: past the request time-out, so a live worker never loses it. */
  lockedUntil: Date;
  /** Marks this round's claims, so a worker whose lease lapsed cannot record over the one that took over. */
  claimId: string;
  limit: number;
}

export type FinishedStatus = 'delivered' | 'rejected' | 'abandoned' | 'cancelled';

/** What becomes of a row after its turn. */
export type Settlement =
  | { status: FinishedStatus; attempts: number; error: string | null; finishedAt: Date }
  | { status: 'pending'; attempts: number; error: string; nextAttemptAt: Date };

/** Where a claimed row goes: sent (the token is signed at send time), or finished without sending because its endpoint is gone. */
export type Dispatch<M> =
  | { message: M; endpoint: string; send: () => Promise<SignedPost> }
  | { message: M; endpoint: string; drop: 'cancelled' | 'abandoned'; reason: string };

export interface OutboxJob<M extends OutboxMessage> {
  /** Names the messages in logs: "security event", "back-channel logout". */
  name: string;
  batchSize: number;
  timeoutMs: number;
  retry: RetryRules & { maxAttempts?: number };
  /** Claims up to `lease.limit` due rows (FOR UPDATE SKIP LOCKED), each endpoint's rows in the order they must arrive. */
  claim(db: Db, lease: Lease): Promise<M[]>;
  /** Looks up where the batch goes, one query per table rather than per row. */
  dispatch(messages: M[]): Promise<Dispatch<M>[]>;
  /** RFC 8935 `400 {"err":…}` for SETs; without it every failure is retried. */
  permanentFailure?: PermanentFailure;
  /** Stores the settlement if `claimId` still holds the row; false when another worker took it over. */
  settle(trx: Transaction<Database>, message: M, claimId: string, settlement: Settlement): Promise<boolean>;
  /** Puts rows back untried, due at `nextAttemptAt`. */
  release(db: Db, messages: M[], claimId: string, nextAttemptAt: Date): Promise<void>;
  /** Runs in the settling transaction after a real attempt (not a drop), e.g. an endpoint's health. */
  afterAttempt?(trx: Transaction<Database>, message: M, attempt: Attempt, now: Date): Promise<void>;
  /** Audit actions: giving up is always recorded, a refusal or a delivery when the job names one. */
  audit: {
    subject(message: M): string;
    details(message: M, settlement: Settlement): Record<string, unknown>;
    abandoned: string;
    rejected?: string;
    delivered?: string;
  };
  /** Secret-free fields that name the message in logs. */
  logFields(message: M, endpointUrl?: string): Record<string, unknown>;
}

export interface DeliveryOptions {
  /** The HTTP client (tests pass a wrapped fetch); default a node:http(s) request connecting to the checked address only. */
  fetchImpl?: FetchLike;
  /** Resolves a destination's host name (tests pass their own: no test depends on real DNS); default the system resolver. */
  resolveHost?: HostResolver;
  batchSize?: number;
  /** Jitter source, [0, 1). */
  random?: () => number;
}

export interface DeliveryReport {
  claimed: number;
  delivered: number;
  /** Refused by the endpoint for good: not retried. */
  rejected: number;
  /** Failed, retried later. */
  retrying: number;
  /** Given up: past the give-up age or the attempt limit, or its endpoint no longer exists. */
  abandoned: number;
  /** Claimed but put back untried: their endpoint had just failed, or we could not sign. */
  deferred: number;
  /** Their endpoint was removed. */
  cancelled: number;
}

interface Round<M extends OutboxMessage> {
  deps: OutboxDeps;
  job: OutboxJob<M>;
  options: DeliveryOptions;
  claimId: string;
  report: DeliveryReport;
}

/** One delivery round of `job`: claims what is due and delivers it. */
export async function deliverOutbox<M extends OutboxMessage>(deps: OutboxDeps, job: OutboxJob<M>, options: DeliveryOptions = {}): Promise<DeliveryReport> {
  const report: DeliveryReport = { claimed: 0, delivered: 0, rejected: 0, retrying: 0, abandoned: 0, deferred: 0, cancelled: 0 };
  const now = deps.clock.now();
  const claimId = newId();
  const lockedUntil = addSeconds(now, Math.ceil(job.timeoutMs / 1000) + 60);
  const claimed = await job.claim(deps.db, { now, lockedUntil, claimId, limit: options.batchSize ?? job.batchSize });
  report.claimed = claimed.length;
  if (!claimed.length) return report;

  const byEndpoint = new Map<string, Dispatch<M>[]>();
  for (const dispatch of await job.dispatch(claimed)) byEndpoint.set(dispatch.endpoint, [...(byEndpoint.get(dispatch.endpoint) ?? []), dispatch]);
  const round: Round<M> = { deps, job, options, claimId, report };
  await Promise.all([...byEndpoint.values()].map((queue) => deliverToEndpoint(round, queue)));
  return report;
}

async function deliverToEndpoint<M extends OutboxMessage>(round: Round<M>, queue: Dispatch<M>[]): Promise<void> {
  const { deps, job, report } = round;
  for (let i = 0; i < queue.length; i++) {
    const dispatch = queue[i]!;
    if ('drop' in dispatch) {
      const { message } = dispatch;
      await settle(round, message, { status: dispatch.drop, attempts: message.attempts, error: dispatch.reason, finishedAt: deps.clock.now() });
      continue;
    }
    let post: SignedPost;
    try {
      post = await dispatch.send();
    } catch (error) {
      // Our side failed (no signing key, undecryptable secret): not the endpoint's fault, and nothing was sent.
      deps.log.error({ ...job.logFields(dispatch.message), err: String(error) }, `could not prepare a ${job.name}; will retry`);
      await release(round, queue.slice(i), addSeconds(deps.clock.now(), job.retry.retryMinSeconds));
      return;
    }
    const destination = await resolveDestination(deps.config.outbound.allow, post.url, round.options.resolveHost ?? systemResolver);
    // A destination off the list is retried like any failure: the operator may list it, and the give-up age still ends it.
    const attempt: Attempt = destination.allowed
      ? await postSignedToken(round.options.fetchImpl ?? pinnedFetch, post, destination.address, { timeoutMs: job.timeoutMs, permanentFailure: job.permanentFailure })
      : { outcome: 'failed', error: destination.reason };
    const nextAttemptAt = await settleAttempt(round, dispatch.message, attempt, post.url, destination.allowed ? destination.address.address : undefined);
    if (nextAttemptAt && i + 1 < queue.length) {
      // The endpoint is failing now: give its other messages the same pause instead of a time-out each.
      await release(round, queue.slice(i + 1), nextAttemptAt);
      return;
    }
  }
}

/** Records an attempt's outcome; returns when the message is tried next (undefined once it is finished or no longer ours). */
async function settleAttempt<M extends OutboxMessage>(round: Round<M>, message: M, attempt: Attempt, url: string, address: string | undefined): Promise<Date | undefined> {
  const { deps, job, options } = round;
  const now = deps.clock.now();
  const attempts = message.attempts + 1;
  let settlement: Settlement;
  if (attempt.outcome === 'delivered') settlement = { status: 'delivered', attempts, error: null, finishedAt: now };
  else if (attempt.outcome === 'rejected') settlement = { status: 'rejected', attempts, error: attempt.error, finishedAt: now };
  else if (isTimeToGiveUp({ created_at: message.created_at, attempts }, now, job.retry)) settlement = { status: 'abandoned', attempts, error: attempt.error, finishedAt: now };
  else settlement = { status: 'pending', attempts, error: attempt.error, nextAttemptAt: addSeconds(now, retryDelaySeconds(attempts, job.retry, options.random)) };

  if (!(await settle(round, message, settlement, attempt))) return undefined;
  // The detail (address, refused connection, status) is for the operator's log; admins see only that delivery failed.
  const logFields = { ...job.logFields(message, url), ...(address ? { address } : {}), attempts };
  if (settlement.status === 'delivered') deps.log.debug(logFields, `${job.name} delivered`);
  else if (settlement.status === 'pending') deps.log.warn({ ...logFields, error: settlement.error, retryAt: settlement.nextAttemptAt.toISOString() }, `${job.name} delivery failed; will retry`);
  else deps.log.warn({ ...logFields, error: settlement.error }, settlement.status === 'rejected' ? `${job.name} refused by its endpoint; not retried` : `${job.name} delivery given up`);
  return settlement.status === 'pending' ? settlement.nextAttemptAt : undefined;
}

/** Stores the settlement, the job's side effects of a real attempt, and the audit entry in one transaction. */
async function settle<M extends OutboxMessage>(round: Round<M>, message: M, settlement: Settlement, attempt?: Attempt): Promise<boolean> {
  const { deps, job, claimId, report } = round;
  const recorded = await deps.db.transaction().execute(async (trx) => {
    // Our claim lapsed and another worker took the message over, or its endpoint was removed meanwhile: theirs to record.
    if (!(await job.settle(trx, message, claimId, settlement))) return false;
    if (attempt) await job.afterAttempt?.(trx, message, attempt, deps.clock.now());
    const action = settlement.status === 'pending' || settlement.status === 'cancelled' ? undefined : job.audit[settlement.status];
    if (action)
      await appendAudit(trx, deps, { actor: 'system' }, {
        action,
        subject: job.audit.subject(message),
        ...(settlement.status === 'delivered' ? {} : { outcome: 'failure' as const }),
        details: job.audit.details(message, settlement),
      });
    return true;
  });
  if (recorded) report[settlement.status === 'pending' ? 'retrying' : settlement.status] += 1;
  return recorded;
}

async function release<M extends OutboxMessage>(round: Round<M>, queue: Dispatch<M>[], nextAttemptAt: Date): Promise<void> {
  if (!queue.length) return;
  await round.job.release(round.deps.db, queue.map((d) => d.message), round.claimId, nextAttemptAt);
  round.report.deferred += queue.length;
}
