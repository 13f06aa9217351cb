import type { Context, MiddlewareHandler } from 'hono';

/**
 * Every byte a page loads comes from Warta, so the policy names no other host.
 * A handler that must allow more (e.g. a form posting to a client's redirect
 * URI) sets its own Content-Security-Policy, which this leaves alone.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The headers every response carries unless its handler set its own value. */
export type SecurityHeaders = Readonly<Record<string, string>>;

export function securityHeaderRecord(options: { hsts: boolean }): SecurityHeaders {
  return Object.freeze({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    ...(options.hsts ? { 'Strict-Transport-Security': 'max-age=63072000; includeSubDomains' } : {}),
  });
}

/**
 * Adds the security headers and the request id to the response a request ends
 * with, whatever made it (a handler, the error handler, the not-found handler),
 * keeping any value the handler set itself. A response built by
 * `completeResponse` already has them in its one header record and is left as
 * it is: adding them to it would turn that record into a `Headers` object,
 * which both hono and the server adapter then copy again.
 */
export function securityHeaders(options: { hsts: boolean }): MiddlewareHandler {
  const defaults = securityHeaderRecord(options);
  return async function securityHeaders(c, next) {
    c.set('securityHeaders', defaults);
    await next();
    const response = c.res;
    if (response === c.get('completeResponse')) return;
    const headers = response.headers;
    for (const name in defaults) if (!headers.has(name)) headers.set(name, defaults[name]!);
    const requestId = c.get('requestId') as string | undefined;
    if (requestId !== undefined && !headers.has('X-Request-Id')) headers.set('X-Request-Id', requestId);
  };
}

/**
 * The response of a hot endpoint (the token endpoint, introspection, the JWKS,
 * discovery) as one `Response` over one plain header record: `headers`, then the
 * security headers and the request id wherever `headers` does not name them.
 * Headers go in `headers`, never through `c.header()` before: hono keeps those
 * apart and a response made here does not carry them. Outside the app (a
 * router tested alone) it is an ordinary hono response.
 */
export function completeResponse(c: Context, body: string | Uint8Array<ArrayBuffer> | null, status: number, headers: Record<string, string>): Response {
  const defaults = c.get('securityHeaders') as SecurityHeaders | undefined;
  if (defaults === undefined) return c.body(body as string, status as 200, headers);
  // Copied name by name: an object spread of these header names takes V8's slow path (several µs a response).
  const record: Record<string, string> = {};
  for (const name in defaults) record[name] = defaults[name]!;
  const requestId = c.get('requestId') as string | undefined;
  if (requestId !== undefined) record['X-Request-Id'] = requestId;
  for (const name in headers) record[name] = headers[name]!;
  const response = new Response(body, { status, headers: record });
  c.set('completeResponse', response);
  return response;
}
