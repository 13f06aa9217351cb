import type { Context } from 'hono';
import { CONTENT_SECURITY_POLICY } from './security-headers.js';

/** The CSP source for a redirect target: its origin, or its scheme for a private-use URI (RFC 8252 §7.1). */
function formActionSource(location: string): string {
  const url = new URL(location);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

/**
 * Lets the form on this page lead to `location`. Browsers check a form submission, and
 * every redirect that answers it, against the `form-action` of the page that holds the
 * form; Warta's global policy allows only 'self'. So a page whose form ends in a
 * redirect to a client (consent, logout confirmation) widens `form-action` to exactly
 * that one target, instead of relaxing the global policy.
 */
export function allowFormRedirectTo(c: Context, location: string): void {
  c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY.replace("form-action 'self'", `form-action 'self' ${formActionSource(location)}`));
}
