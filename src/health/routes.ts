import { Hono } from 'hono';
import { sql } from 'kysely';
import { pendingMigrations } from '../db/migrate.js';
import { failingReceiversDetail } from '../events/health.js';
import type { AppEnv } from '../http/context.js';
import type { Deps } from '../deps.js';

/** `/healthz`: the process answers. `/readyz`: the database answers and the schema is current. */
export function healthRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const { db } = deps;
    try {
      await sql`select 1`.execute(db);
      const pending = await pendingMigrations(db);
      if (pending.length) return c.json({ status: 'unavailable', checks: { database: 'ok', migrations: `pending: ${pending.join(', ')}` } }, 503);
      // Failing event receivers are reported, not a reason to take Warta out of the load balancer.
      const eventReceivers = await failingReceiversDetail(deps);
      return c.json({ status: 'ok', checks: { database: 'ok', migrations: 'ok' }, ...(eventReceivers ? { details: { event_receivers: eventReceivers } } : {}) });
    } catch {
      return c.json({ status: 'unavailable', checks: { database: 'unreachable' } }, 503);
    }
  });
  return app;
}
