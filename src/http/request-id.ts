import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.js';

/** What an id a client or proxy sends may look like: the characters hono's own request-id middleware accepts. */
const WELL_FORMED_REQUEST_ID = /^[\w\-=]+$/;

/**
 * The request's id for the log lines and the X-Request-Id response header: the one a
 * client or proxy sent, when it is short and plain, else a fresh UUID. The header is
 * added with the security headers (security-headers.ts), on the response the request
 * ends with, rather than set here ahead of the handler: a header set ahead makes hono
 * build every response's headers as a `Headers` object.
 */
export function requestId(options: { limitLength: number }): MiddlewareHandler<AppEnv> {
  return async function requestId(c, next) {
    const sent = c.req.header('X-Request-Id');
    c.set('requestId', sent !== undefined && sent.length <= options.limitLength && WELL_FORMED_REQUEST_ID.test(sent) ? sent : crypto.randomUUID());
    await next();
  };
}
