import type { MiddlewareHandler } from 'hono';

/** Which cross-origin scripts may call which paths (the capability decides; this file only speaks CORS). */
export interface CorsPolicy {
  /** Path → the methods a preflight may allow there (e.g. `GET, POST`); other paths get no CORS. */
  paths: Readonly<Record<string, string>>;
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  isAllowedOrigin: (origin: string) => Promise<boolean>;
}

const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS (Fetch standard §3.2) for an allow-list of origins, without credentials. An
 * origin that is not allowed gets no CORS header at all, so the browser withholds the
 * answer from the script; the request itself is handled as any other.
 *
 * ```ts
 * app.use('/token', cors(policy));
 * ```
 */
export function cors(policy: CorsPolicy): MiddlewareHandler {
  return async function cors(c, next) {
    const methods = policy.paths[c.req.path];
    const origin = c.req.header('origin');
    if (methods === undefined || origin === undefined) return next();
    const allowed = await policy.isAllowedOrigin(origin);
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined) {
      c.header('Vary', 'Origin');
      if (!allowed) return next();
      c.header('Access-Control-Allow-Origin', origin);
      c.header('Access-Control-Expose-Headers', policy.exposeHeaders.join(', '));
      c.header('Access-Control-Allow-Methods', methods);
      c.header('Access-Control-Allow-Headers', policy.allowHeaders.join(', '));
      c.header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
      return c.body(null, 204);
    }
    await next();
    // Added to the response the request ends with, not ahead of the handler: the token endpoint
    // builds its answer in one piece (http/security-headers.ts completeResponse), without headers set ahead.
    const headers = c.res.headers;
    // The answer depends on the Origin, whatever it is.
    headers.append('Vary', 'Origin');
    if (!allowed) return;
    headers.set('Access-Control-Allow-Origin', origin);
    headers.set('Access-Control-Expose-Headers', policy.exposeHeaders.join(', '));
  };
}
