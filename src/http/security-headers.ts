import type { MiddlewareHandler } from 'hono';

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

export function securityHeaders(options: { hsts: boolean }): MiddlewareHandler {
  // Set before the handler runs (a handler's own c.header() then overrides):
  // editing c.res.headers afterwards would make hono materialise every response.
  const fixed: [string, string][] = [
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', 'no-referrer'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()'],
    ...(options.hsts ? ([['Strict-Transport-Security', 'max-age=63072000; includeSubDomains']] as [string, string][]) : []),
  ];
  return async function securityHeaders(c, next) {
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('Cache-Control', 'no-store');
    for (const [name, value] of fixed) c.header(name, value);
    await next();
  };
}
