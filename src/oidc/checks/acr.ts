/**
 * Authentication Context Class references (OIDC Core §3.1.2.1 `acr_values`, §2 `acr`).
 *
 * Warta treats a requested acr as a floor, not a wish: a client that asks for
 * `urn:warta:acr:phishing-resistant` (or is registered to require it) gets a user who
 * signed in with a passkey, and a password+TOTP session is sent back to sign in
 * again, never accepted silently. When several values are listed, any of them
 * satisfies the request, so the floor is the lowest listed. Unknown values are
 * ignored (acr_values is a voluntary claim request).
 */
import { ACR_HARDWARE, ACR_MFA, ACR_PHISHING_RESISTANT, acrRank } from '../../sessions/service.js';

/** The acr values Warta publishes (discovery `acr_values_supported`), weakest first. */
export const SUPPORTED_ACR_VALUES = [ACR_MFA, ACR_PHISHING_RESISTANT, ACR_HARDWARE];

// hardware > phishing-resistant > mfa > single-factor (sessions/service.ts ACR_ORDER).
const levelOf = (acr: string): number | undefined => (acrRank(acr) >= 0 ? acrRank(acr) : undefined);

/** The known acr values an `acr_values` parameter lists. */
const listedAcrValues = (acrValues: string | undefined): string[] => (acrValues ?? '').split(' ').filter((value) => SUPPORTED_ACR_VALUES.includes(value));

/** The acr a sign-in must reach for this request, or undefined when any session will do. */
export function requiredAcr(acrValues: string | undefined, clientRequiredAcr: string | null): string | undefined {
  const requested = listedAcrValues(acrValues);
  const floor = requested.length > 0 ? requested.reduce((low, value) => (levelOf(value)! < levelOf(low)! ? value : low)) : undefined;
  if (clientRequiredAcr === null) return floor;
  if (floor === undefined) return clientRequiredAcr;
  return levelOf(clientRequiredAcr)! > levelOf(floor)! ? clientRequiredAcr : floor;
}

/** Whether a session's acr reaches `required`. */
export function acrSatisfies(sessionAcr: string, required: string | undefined): boolean {
  if (required === undefined) return true;
  return (levelOf(sessionAcr) ?? -1) >= levelOf(required)!;
}

/** Every acr the request names: the known values of `acr_values` and the client's registered requirement. */
export function requestedAcrValues(acrValues: string | undefined, clientRequiredAcr: string | null): string[] {
  return [...new Set([...listedAcrValues(acrValues), ...(clientRequiredAcr === null ? [] : [clientRequiredAcr])])];
}

/**
 * The acr the tokens claim (OIDC Core §3.1.2.1: the class the authentication
 * satisfied). A client that named values gets the strongest of them the session
 * meets, so a service that asked for phishing-resistant is not handed
 * `hardware`, a value it never listed; the `amr` still says `hwk`. A client
 * that named none gets the session's own acr.
 */
export function claimedAcr(sessionAcr: string, requested: readonly string[]): string {
  const met = requested.filter((value) => acrSatisfies(sessionAcr, value));
  if (met.length === 0) return sessionAcr;
  return met.reduce((high, value) => (levelOf(value)! > levelOf(high)! ? value : high));
}
