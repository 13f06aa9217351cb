import type { Kysely } from 'kysely';
import { addSeconds } from '../clock.js';
import type { Database } from '../db/schema.js';
import { deliverPendingEvents, type DeliveryDeps } from './deliver.js';

/**
 * Pushes queued Security Event Tokens every `deliveryIntervalMs`, on every
 * instance (they share the work through the claim query). A round that
 * finished SETs is followed at once by another, since each round takes only
 * the oldest pending SET per (receiver, user).
 */
export function startSecurityEventDelivery(deps: DeliveryDeps): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    running = running
      .then(async () => {
        for (;;) {
          if (stopped) return;
          const report = await deliverPendingEvents(deps);
          if (report.delivered + report.rejected + report.abandoned + report.cancelled === 0) break;
        }
        await pruneFinishedDeliveries(deps.db, addSeconds(deps.clock.now(), -deps.config.securityEvents.retentionSeconds));
      })
      .catch((error: unknown) => deps.log.warn({ err: String(error) }, 'security event delivery failed; will retry'));
  }, deps.config.securityEvents.deliveryIntervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Deletes the outbox rows of SETs that finished (delivered, refused, given up, cancelled) before `before`. The security events themselves stay. */
export async function pruneFinishedDeliveries(db: Kysely<Database>, before: Date, limit = 1000): Promise<number> {
  const result = await db
    .deleteFrom('set_outbox')
    .where('id', 'in', (eb) => eb.selectFrom('set_outbox').select('id').where('status', '<>', 'pending').where('finished_at', '<', before).limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
