import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';
import { type AppEnv, clientIp } from './context.js';
import type { ProxyTrust } from './proxy-trust.js';

/**
 * The access log: one line at info per request, after the response, with the
 * request id, method, path (never the query string or the body: they can carry
 * codes and tokens), status, duration and client address. Also records the
 * client address for the handlers (audit, rate limits).
 *
 * The line is written through a logger made once, without the redaction list:
 * every field is a value Warta itself chose (none is named like a secret, so no
 * redaction path could match), and the redaction pass, which parses every path
 * and copies the object on each line, cost four times the rest of the line.
 */
export function requestLog(log: Logger, trustProxy: ProxyTrust): MiddlewareHandler<AppEnv> {
  const access = log.child({}, { redact: { paths: [] } });
  return async function requestLog(c, next) {
    c.set('clientIp', clientIp(c, trustProxy));
    const started = performance.now();
    await next();
    access.info({ requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started), ip: c.get('clientIp') }, 'request');
  };
}
