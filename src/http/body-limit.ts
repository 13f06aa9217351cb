import type { MiddlewareHandler } from 'hono';
import { bodyLimit as streamingBodyLimit } from 'hono/body-limit';
import { WartaError } from '../errors.js';

/**
 * Refuses request bodies over `maxBytes` with 413. A declared Content-Length is
 * checked from the header alone; hono's streaming limiter, which has to wrap
 * the raw request body, runs only for chunked bodies. Requests without a body
 * (every GET on the hot JWKS/discovery paths) pay nothing.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new WartaError(413, 'request_too_large', `the request body is larger than ${maxBytes} bytes`);
  const streaming = streamingBodyLimit({ maxSize: maxBytes, onError: () => { throw tooLarge(); } });
  return async function bodyLimit(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (!/^\d+$/.test(declared)) throw new WartaError(400, 'invalid_request', 'malformed Content-Length');
      if (Number(declared) > maxBytes) throw tooLarge();
      return next();
    }
    return streaming(c, next);
  };
}
