/**
 * Scope checks (RFC 6749 §3.3). A client may request only scopes it was registered
 * with; anything else is `invalid_scope` rather than silently narrowed, so a
 * misconfigured client finds out at once.
 */
import { WartaError } from '../../errors.js';

export const parseScope = (scope: string | undefined): string[] => [...new Set((scope ?? '').split(' ').filter(Boolean))];

/** The requested scopes (deduplicated, in request order), all of which the client is registered for. */
export function checkRequestedScope(requested: string | undefined, registered: string): string[] {
  const scopes = parseScope(requested);
  const allowed = new Set(parseScope(registered));
  const unknown = scopes.filter((scope) => !allowed.has(scope));
  if (unknown.length > 0) throw new WartaError(400, 'invalid_scope', `this client may not request ${unknown.map((s) => JSON.stringify(s.slice(0, 64))).join(', ')}`);
  return scopes;
}

/** RFC 6749 §6: a refresh may ask for less than the grant holds, never more. */
export function checkNarrowedScope(requested: string | undefined, granted: string): string[] {
  const grantedScopes = parseScope(granted);
  if (requested === undefined) return grantedScopes;
  const scopes = parseScope(requested);
  if (scopes.some((scope) => !grantedScopes.includes(scope))) throw new WartaError(400, 'invalid_scope', 'the requested scope exceeds the scope originally granted');
  return scopes;
}
