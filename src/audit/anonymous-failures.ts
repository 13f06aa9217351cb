/**
 * Anonymous failures, counted instead of audited one by one. A failure that
 * names no existing account or client (a made-up username, a throttled
 * address) tells an admin nothing one at a time, and a botnet or a rotating
 * IPv6 prefix could otherwise add a row to the append-only audit log per
 * request, for ever. Such failures are counted per action, key and fixed time
 * window in one upsert (race-free across instances); once a window has closed,
 * `auditClosedFailureWindows` appends one entry for it and deletes the counter
 * in the same transaction. A failure against an existing account is never sent
 * here: it stays one entry each, because that is the signal an admin needs.
 */
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { AnonymousFailureCountsTable, Db } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';
import { appendAudit, type AuditContext, type AuditRecord, type AuditWriter } from './audit.js';

/** Longer keys are cut: every byte of a key may come from the attacker. */
export const MAX_FAILURE_KEY_LENGTH = 200;

/**
 * A window is audited this long after it closed: another instance whose clock
 * is a little behind may still be counting into it.
 */
export const FAILURE_WINDOW_GRACE_SECONDS = 60;

const BATCH = 100;
const INTERVAL_MS = 30_000;

export interface AnonymousFailure {
  /** The action an individual entry would have had, e.g. `signin.failed`. */
  action: string;
  /**
   * What the failures of one window are told apart by, e.g. `password:unknown_account`.
   * Take it from a fixed set (a reason, an endpoint), never from the request
   * alone: the number of keys is the number of audit entries per window.
   */
  key: string;
  /** The address of the latest failure, kept for the entry. */
  ip?: string | null | undefined;
}

export type AnonymousFailureCounter = { clock: Clock; config: Pick<Config, 'audit'> };

/** Counts one anonymous failure into its window: one statement, so concurrent failures on any instance all count. */
export async function recordAnonymousFailure(db: Db, deps: AnonymousFailureCounter, failure: AnonymousFailure): Promise<void> {
  const now = deps.clock.now();
  const windowSeconds = deps.config.audit.anonymousFailureWindowSeconds;
  const windowMs = windowSeconds * 1000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const key = failure.key.slice(0, MAX_FAILURE_KEY_LENGTH);
  const ip = failure.ip?.slice(0, 100) ?? null;
  await sql`
    insert into anonymous_failure_counts as c (action, key, window_start, window_seconds, count, first_at, last_at, last_ip)
    values (${failure.action}, ${key}, ${windowStart}, ${windowSeconds}, 1, ${now}, ${now}, ${ip})
    on conflict (action, key, window_start) do update set
      count = c.count + 1,
      first_at = least(c.first_at, excluded.first_at),
      last_at = greatest(c.last_at, excluded.last_at),
      last_ip = excluded.last_ip`.execute(db);
}

/**
 * Audits a failure: an entry of its own when someone signed in acted or an
 * existing account, client or case is its subject; otherwise (no signed-in
 * actor, no subject) it is counted under `key` into its window. `details` are
 * kept only in the entry of its own.
 */
export async function auditFailure(db: Db, deps: AuditWriter & AnonymousFailureCounter, context: AuditContext, failure: Omit<AuditRecord, 'outcome'> & { key: string }): Promise<void> {
  const { key, ...record } = failure;
  if (context.actor === 'anonymous' && !record.subject) await recordAnonymousFailure(db, deps, { action: record.action, key, ip: context.ip });
  else await appendAudit(db, deps, context, { ...record, outcome: 'failure' });
}

/**
 * Appends one `<action>.aggregated` entry per closed window and key, and deletes
 * its counter in the same transaction (SKIP LOCKED: every instance may run it,
 * each window is audited once). Returns how many windows it audited (at most one batch).
 */
export async function auditClosedFailureWindows(deps: { db: Db } & AuditWriter): Promise<number> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const { rows } = await sql<AnonymousFailureCountsTable>`
      delete from anonymous_failure_counts
      where id in (
        select id from anonymous_failure_counts
        where window_start + make_interval(secs => window_seconds + ${FAILURE_WINDOW_GRACE_SECONDS}) <= ${now}::timestamptz
        order by window_start, id limit ${BATCH} for update skip locked)
      returning *`.execute(trx);
    const closed = [...rows].sort((a, b) => new Date(a.window_start).getTime() - new Date(b.window_start).getTime() || Number(a.id) - Number(b.id));
    for (const window of closed) {
      await appendAudit(trx, deps, { actor: 'anonymous' }, {
        action: `${window.action}.aggregated`,
        subject: null,
        outcome: 'failure',
        details: {
          key: window.key,
          count: Number(window.count),
          first_at: new Date(window.first_at).toISOString(),
          last_at: new Date(window.last_at).toISOString(),
          window_start: new Date(window.window_start).toISOString(),
          window_seconds: window.window_seconds,
          last_ip: window.last_ip,
        },
      });
    }
    return rows.length;
  });
}

/** The background job started by src/main.ts: closed windows become audit entries, and their counters go. */
export function startAnonymousFailureAudit(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'log'>): PeriodicJob {
  return startPeriodicJob({
    name: 'anonymous failure audit',
    intervalMs: INTERVAL_MS,
    log: deps.log,
    round: async (stopping) => {
      while (!stopping() && (await auditClosedFailureWindows(deps)) === BATCH);
    },
  });
}
