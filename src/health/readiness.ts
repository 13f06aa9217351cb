import { sql } from 'kysely';
import { pendingMigrations } from '../db/migrate.js';
import type { Deps } from '../deps.js';
import { failingReceiversDetail } from '../events/health.js';

export type ReadinessReport =
  | { status: 'ok'; checks: { database: 'ok'; migrations: 'ok' }; details?: { event_receivers: NonNullable<Awaited<ReturnType<typeof failingReceiversDetail>>> } }
  | { status: 'unavailable'; checks: { database: 'ok' | 'unreachable'; migrations?: string } };

/**
 * Ready means the database answers and the schema is current. The report names
 * pending migrations and failing event receivers' hosts, so it is served only on
 * the management port; the public `/readyz` says ready or not.
 */
export async function checkReadiness(deps: Pick<Deps, 'db' | 'clock' | 'config'>): Promise<ReadinessReport> {
  try {
    await sql`select 1`.execute(deps.db);
    const pending = await pendingMigrations(deps.db);
    if (pending.length) return { status: 'unavailable', checks: { database: 'ok', migrations: `pending: ${pending.join(', ')}` } };
    // Failing event receivers are reported, not a reason to take Warta out of the load balancer.
    const eventReceivers = await failingReceiversDetail(deps);
    return { status: 'ok', checks: { database: 'ok', migrations: 'ok' }, ...(eventReceivers ? { details: { event_receivers: eventReceivers } } : {}) };
  } catch {
    return { status: 'unavailable', checks: { database: 'unreachable' } };
  }
}
