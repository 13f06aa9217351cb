import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';
import { type DeliveryOptions, deliverOutbox, type OutboxDeps, type OutboxJob, type OutboxMessage } from './deliver.js';

/**
 * Delivers `job`'s due messages every `intervalMs` on every instance (they
 * share the outbox through the claim). A round that finished messages is
 * followed at once by another: a batch may have been full, and an outbox that
 * keeps order per subject claims only the head of each queue per round.
 */
export function startOutboxDelivery<M extends OutboxMessage>(
  deps: OutboxDeps,
  job: OutboxJob<M>,
  options: DeliveryOptions & { intervalMs: number; afterRounds?: () => Promise<unknown> },
): PeriodicJob {
  return startPeriodicJob({
    name: `${job.name} delivery`,
    intervalMs: options.intervalMs,
    log: deps.log,
    round: async (stopping) => {
      for (;;) {
        if (stopping()) return;
        const report = await deliverOutbox(deps, job, options);
        if (report.delivered + report.rejected + report.abandoned + report.cancelled === 0) break;
      }
      await options.afterRounds?.();
    },
  });
}
