import type { Kysely } from 'kysely';
import { addSeconds } from '../clock.js';
import type { Database } from '../db/schema.js';
import { deliverPendingEvents, type DeliveryDeps } from './deliver.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';

/**
 * Pushes queued Security Event Tokens every `deliveryIntervalMs`, on every
 * instance (they share the work through the claim query). A round that
 * finished SETs is followed at once by another, since each round takes only
 * the oldest pending SET per (receiver, user).
 */
export function startSecurityEventDelivery(deps: DeliveryDeps): PeriodicJob {
  return startPeriodicJob({
    name: 'security event delivery',
    intervalMs: deps.config.securityEvents.deliveryIntervalMs,
    log: deps.log,
    round: async (stopping) => {
      for (;;) {
        if (stopping()) return;
        const report = await deliverPendingEvents(deps);
        if (report.delivered + report.rejected + report.abandoned + report.cancelled === 0) break;
      }
      await pruneFinishedDeliveries(deps.db, addSeconds(deps.clock.now(), -deps.config.securityEvents.retentionSeconds));
    },
  });
}

/** Deletes the outbox rows of SETs that finished (delivered, refused, given up, cancelled) before `before`. The security events themselves stay. */
export async function pruneFinishedDeliveries(db: Kysely<Database>, before: Date, limit = 1000): Promise<number> {
  const result = await db
    .deleteFrom('set_outbox')
    .where('id', 'in', (eb) => eb.selectFrom('set_outbox').select('id').where('status', '<>', 'pending').where('finished_at', '<', before).limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
