import type { Kysely } from 'kysely';
import { addSeconds } from '../clock.js';
import type { Database } from '../db/schema.js';
import type { PeriodicJob } from '../jobs/periodic.js';
import { startOutboxDelivery } from '../outbox/worker.js';
import { type DeliveryDeps, securityEventOutbox } from './deliver.js';

/**
 * Pushes queued Security Event Tokens every `deliveryIntervalMs`, on every
 * instance (they share the work through the claim query), then prunes the
 * outbox rows that finished long ago.
 */
export function startSecurityEventDelivery(deps: DeliveryDeps): PeriodicJob {
  return startOutboxDelivery(deps, securityEventOutbox(deps), {
    intervalMs: deps.config.securityEvents.deliveryIntervalMs,
    afterRounds: () => pruneFinishedDeliveries(deps.db, addSeconds(deps.clock.now(), -deps.config.securityEvents.retentionSeconds)),
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
