import type { Logger } from '../log.js';

export interface PeriodicJob {
  /** Stops the timer and waits for a round in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Runs `round` every `intervalMs` on this instance; the background workers (audit
 * sealer, outbox deliveries, sweeps) all share state through the database, so
 * every instance may run them. A tick that comes while the previous round is
 * still running is skipped rather than queued, so a slow database never builds
 * a backlog of rounds. `round` gets a `stopping` check for long loops.
 */
export function startPeriodicJob(options: { name: string; intervalMs: number; log: Logger; round: (stopping: () => boolean) => Promise<unknown> }): PeriodicJob {
  let stopped = false;
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = options
      .round(() => stopped)
      .then(() => undefined)
      .catch((error: unknown) => options.log.warn({ err: String(error), job: options.name }, `${options.name} failed; will retry`))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
