import type { Clock } from '../clock.js';
import type { Session } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { ACR_PHISHING_RESISTANT, authenticatedWithin } from './service.js';

/** How recent a proof of presence must be for changes to how the account signs in. */
export const REAUTH_MAX_AGE_SECONDS = 300;

/**
 * Adding a sign-in method needs a fresh sign-in or re-authentication: a stolen
 * session cookie alone must not be enough to plant a lasting way back in.
 */
export function assertRecentlyAuthenticated(session: Session, clock: Clock): void {
  if (!authenticatedWithin(session, clock, REAUTH_MAX_AGE_SECONDS))
    throw new WartaError(403, 'reauthentication_required', 'confirm it is you first: sign in again or use a passkey');
}

/**
 * Removing one needs a passkey used within the last five minutes. The session's
 * acr describes the most recent proof (reauthenticateSession sets it from that
 * proof alone), so a later password step-up does not count as a passkey.
 */
export function assertRecentPasskey(session: Session, clock: Clock): void {
  if (!authenticatedWithin(session, clock, REAUTH_MAX_AGE_SECONDS) || session.acr !== ACR_PHISHING_RESISTANT)
    throw new WartaError(403, 'reauthentication_required', 'confirm it is you with one of your passkeys first');
}

/** For pages at `path`: where to send a browser that is not signed in, or signed in too long ago; undefined when it may stay. */
export function reauthenticationRedirect(session: Session | undefined, clock: Clock, path: string): string | undefined {
  const here = encodeURIComponent(path);
  if (!session) return `/signin?return_to=${here}`;
  if (!authenticatedWithin(session, clock, REAUTH_MAX_AGE_SECONDS)) return `/account/reauth?return_to=${here}`;
  return undefined;
}
