/**
 * Sending the browser back to the client. Query response mode only (RFC 6749 §4.1.2),
 * always with `iss` (RFC 9207) so a client talking to several providers can tell
 * which one answered, and with 303 See Other (RFC 9700 §4.12: never 307, which
 * would re-post a form, credentials and all, to the client).
 */
import type { Context } from 'hono';
import { CONTENT_SECURITY_POLICY } from '../../http/security-headers.js';
import type { WartaError } from '../../errors.js';

export function authorizationResponseUrl(redirectUri: string, issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  url.searchParams.append('iss', issuer);
  return url.href;
}

export function errorResponseUrl(redirectUri: string, issuer: string, state: string | undefined, error: WartaError): string {
  return authorizationResponseUrl(redirectUri, issuer, { error: error.code, error_description: error.description, state });
}

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
