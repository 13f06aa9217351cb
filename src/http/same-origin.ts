import type { MiddlewareHandler } from 'hono';
import { WartaError } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests a browser sent from another origin (CSRF),
 * on top of SameSite=Lax cookies. Requests without Origin or Fetch Metadata
 * come from non-browser clients, which carry no ambient cookie to abuse.
 * `exempt` lists paths that other origins may call by design (OAuth endpoints
 * authenticated by client credentials or tokens, not cookies).
 */
export function sameOrigin(options: { origin: string; exempt: string[] }): MiddlewareHandler {
  return async function sameOrigin(c, next) {
    if (!SAFE_METHODS.has(c.req.method) && !options.exempt.includes(c.req.path)) {
      const site = c.req.header('sec-fetch-site');
      // Under Referrer-Policy: no-referrer, Chromium sends `Origin: null` on a same-origin form
      // POST; Sec-Fetch-Site (which no page can set) then says where it came from.
      const origin = c.req.header('origin') === 'null' && site === 'same-origin' ? options.origin : c.req.header('origin');
      if ((origin !== undefined && origin !== options.origin) || site === 'cross-site')
        throw new WartaError(403, 'cross_origin_request', 'this request must come from a Warta page');
    }
    await next();
  };
}
