import { Hono } from 'hono';
import type { AppEnv } from '../http/context.js';
import type { Deps } from '../deps.js';
import { checkReadiness } from './readiness.js';

/**
 * `/healthz`: the process answers. `/readyz`: the database answers and the schema is
 * current; on this public port only the verdict, as a load balancer needs nothing
 * more and anyone can ask. The report with the reasons is on the management port
 * (src/metrics/routes.ts).
 */
export function healthRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const report = await checkReadiness(deps);
    return report.status === 'ok' ? c.json({ status: 'ok' }) : c.json({ status: 'unavailable' }, 503);
  });
  return app;
}
