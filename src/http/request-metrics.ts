import type { MiddlewareHandler } from 'hono';
import type { Metrics } from '../metrics/metrics.js';

/**
 * Counts each request and its latency under the route pattern that answered it
 * (`/api/admin/clients/:id`), never the raw path: a label per id or per made-up
 * path would let anyone grow the metrics without bound. A request no route
 * matched is counted under the pattern of the last middleware it passed (`/*`).
 */
export function requestMetrics(metrics: Metrics): MiddlewareHandler {
  return async function requestMetrics(c, next) {
    const started = performance.now();
    await next();
    metrics.recordRequest({ method: c.req.method, route: c.req.routePath, status: c.res.status, seconds: (performance.now() - started) / 1000 });
  };
}
