/**
 * Where the browser goes back to the client. Query response mode only (RFC 6749 §4.1.2),
 * always with `iss` (RFC 9207) so a client talking to several providers can tell
 * which one answered; the routes send it with 303 See Other (RFC 9700 §4.12: never 307,
 * which would re-post a form, credentials and all, to the client).
 */
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
