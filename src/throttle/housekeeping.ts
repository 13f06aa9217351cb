/**
 * Deletes failure and request counters that no longer count: every failure in
 * them is older than any window, and no block is running. Without it, every
 * address and every username ever tried stays in `rate_limits` for good, and a
 * spray of made-up names grows the table without bound.
 */
import { addSeconds } from '../clock.js';
import type { Deps } from '../deps.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';
import { LONGEST_WINDOW_SECONDS } from './counters.js';

const INTERVAL_MS = 10 * 60 * 1000;

export async function purgeExpiredRateLimits(deps: Pick<Deps, 'db' | 'clock'>): Promise<number> {
  const now = deps.clock.now();
  const result = await deps.db
    .deleteFrom('rate_limits')
    .where('window_started_at', '<', addSeconds(now, -LONGEST_WINDOW_SECONDS))
    .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export function startRateLimitHousekeeping(deps: Pick<Deps, 'db' | 'clock' | 'log'>): PeriodicJob {
  return startPeriodicJob({ name: 'rate limit housekeeping', intervalMs: INTERVAL_MS, log: deps.log, round: () => purgeExpiredRateLimits(deps) });
}
