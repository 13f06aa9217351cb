import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { DELIVERY_FAILED } from './receivers.js';

export interface ReceiverHealth {
  id: string;
  organisation_id: string;
  /** The endpoint's host only: the rest of the URL may carry a key. */
  host: string;
  consecutive_failures: number;
  failing_since: Date | null;
  /** 0 when the last attempt succeeded. */
  failing_for_seconds: number;
  last_success_at: Date | null;
  last_error: string | null;
  /** SETs waiting for this receiver, and since when the oldest waits. */
  pending: number;
  oldest_pending_at: Date | null;
}

/** Every active receiver's delivery health, for /readyz and the metrics endpoint. */
export async function receiverHealth(db: Kysely<Database>, now: Date): Promise<ReceiverHealth[]> {
  const rows = await db
    .selectFrom('event_receivers as r')
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('set_outbox')
          .select((e) => ['receiver_id', e.fn.countAll<number>().as('pending'), e.fn.min('created_at').as('oldest_pending_at')])
          .where('status', '=', 'pending')
          .groupBy('receiver_id')
          .as('o'),
      (join) => join.onRef('o.receiver_id', '=', 'r.id'),
    )
    .select(['r.id', 'r.organisation_id', 'r.url', 'r.consecutive_failures', 'r.failing_since', 'r.last_success_at', 'r.last_error', 'o.pending', 'o.oldest_pending_at'])
    .where('r.removed_at', 'is', null)
    .orderBy('r.created_at')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    organisation_id: row.organisation_id,
    host: new URL(row.url).host,
    consecutive_failures: row.consecutive_failures,
    failing_since: row.failing_since,
    failing_for_seconds: row.failing_since ? Math.max(0, Math.floor((now.getTime() - row.failing_since.getTime()) / 1000)) : 0,
    last_success_at: row.last_success_at,
    last_error: row.last_error === null ? null : DELIVERY_FAILED,
    pending: Number(row.pending ?? 0),
    oldest_pending_at: row.oldest_pending_at ? new Date(row.oldest_pending_at) : null,
  }));
}

/**
 * The `/readyz` detail: receivers failing for longer than the threshold. Warta
 * itself stays ready (signing in does not depend on them), so this is
 * reported, not turned into a 503. Undefined when none is failing.
 */
export async function failingReceiversDetail(deps: { db: Kysely<Database>; clock: { now(): Date }; config: { securityEvents: { failingAfterSeconds: number } } }) {
  const threshold = deps.config.securityEvents.failingAfterSeconds;
  const failing = (await receiverHealth(deps.db, deps.clock.now())).filter((r) => r.failing_since && r.failing_for_seconds >= threshold);
  if (!failing.length) return undefined;
  return { failing: failing.map((r) => ({ id: r.id, host: r.host, failing_since: r.failing_since!.toISOString(), consecutive_failures: r.consecutive_failures, pending: r.pending })) };
}
