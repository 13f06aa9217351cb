import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import { checkReadiness } from '../health/readiness.js';

/**
 * The management port's endpoints: `/metrics` for Prometheus and `/readyz` with the
 * reasons (pending migrations, failing event receivers and their hosts). It listens
 * on loopback unless the operator says otherwise (src/config.ts, `metrics`), and
 * shares nothing with the public app: no sessions, no cookies, no other route.
 */
export function managementRoutes(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'metrics' | 'log'>) {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const { contentType, body } = await deps.metrics.exposition();
    return c.body(body, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  });
  app.get('/readyz', async (c) => {
    const report = await checkReadiness(deps);
    return c.json(report, report.status === 'ok' ? 200 : 503, { 'Cache-Control': 'no-store' });
  });
  app.notFound((c) => c.json({ error: 'not_found', error_description: 'the management port serves /metrics and /readyz' }, 404));
  app.onError((error, c) => {
    deps.log.warn({ err: error, path: c.req.path }, 'management request failed');
    return c.json({ error: 'temporarily_unavailable', error_description: 'the report could not be made; try again shortly' }, 503);
  });
  return app;
}
