/**
 * Receives Security Event Tokens pushed by Warta (RFC 8417 over RFC 8935) and
 * turns each into what this service does about it (docs/security-events.md).
 */
import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { KeySetUnavailable, keySetUnavailable } from './warta-keys.js';

export const EVENT_URIS = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  sessionsRevoked: 'https://schemas.openid.net/secevent/risc/event-type/sessions-revoked',
  accountDisabled: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  accountRecovered: 'urn:warta:secevent:recovery-redeemed',
  credentialChange: 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  deviceLinked: 'urn:warta:secevent:device-linked',
  signingKeyWithdrawn: 'urn:warta:secevent:signing-key-withdrawn',
} as const;

export interface SecurityEventCheck {
  jwks: JWTVerifyGetKey;
  issuer: string;
  audience: string;
}

/** What this service does about one SET. */
export type SecurityEventAction =
  | { kind: 'end-session'; sub: string; sid: string }
  | { kind: 'end-all-sessions'; sub: string }
  | { kind: 'notify'; sub: string; text: string }
  | { kind: 'reload-keys' }
  | { kind: 'ignore' };

export interface VerifiedSecurityEvent {
  jti: string;
  action: SecurityEventAction;
}

/** A SET this receiver will never accept: answered `400 {err}` (RFC 8935 §2.4), so Warta does not send it again. */
export class RejectedSecurityEvent extends Error {
  constructor(
    readonly err: 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience',
    description: string,
  ) {
    super(description);
  }
}

export async function verifySecurityEvent(token: string, check: SecurityEventCheck): Promise<VerifiedSecurityEvent> {
  let payload;
  try {
    // RFC 8417 §2.3 explicit typing: an ID token or access token is never read as an event.
    ({ payload } = await jwtVerify(token, check.jwks, { issuer: check.issuer, audience: check.audience, typ: 'secevent+jwt', algorithms: ['ES256'], requiredClaims: ['jti', 'iat', 'events'] }));
  } catch (error) {
    throw rejection(error);
  }
  const events = payload.events;
  if (typeof events !== 'object' || events === null || Object.keys(events).length !== 1) throw new RejectedSecurityEvent('invalid_request', 'a SET from Warta carries exactly one event');
  const [[type, event]] = Object.entries(events) as [[string, Record<string, unknown>]];
  return { jti: String(payload.jti), action: actionFor(type, event, payload.sub_id, check.issuer) };
}

function actionFor(type: string, event: Record<string, unknown>, subject: unknown, issuer: string): SecurityEventAction {
  if (type === EVENT_URIS.signingKeyWithdrawn) return { kind: 'reload-keys' };
  const { sub, sessionId } = subjectOf(subject, issuer);
  switch (type) {
    case EVENT_URIS.sessionRevoked:
      return sessionId === undefined ? { kind: 'end-all-sessions', sub } : { kind: 'end-session', sub, sid: sessionId };
    case EVENT_URIS.sessionsRevoked:
    case EVENT_URIS.accountDisabled:
    case EVENT_URIS.accountRecovered:
      return { kind: 'end-all-sessions', sub };
    case EVENT_URIS.deviceLinked:
      return { kind: 'notify', sub, text: `A new device was linked to your account: “${String(event.device_name)}”. If it was not you, remove it in your Warta account.` };
    case EVENT_URIS.credentialChange:
      if (event.change_type !== 'create') return { kind: 'ignore' };
      return { kind: 'notify', sub, text: `A new sign-in method was added to your account${typeof event.friendly_name === 'string' ? `: “${event.friendly_name}”` : ''}.` };
    default:
      // RFC 8417 §2.2: event types a receiver does not understand are ignored.
      return { kind: 'ignore' };
  }
}

/** The user (and, for one session, its id) from an `iss_sub` or `complex` subject (RFC 9493). */
function subjectOf(subject: unknown, issuer: string): { sub: string; sessionId: string | undefined } {
  const id = subject as { format?: string; iss?: string; sub?: string; user?: { iss?: string; sub?: string }; session?: { id?: string } } | undefined;
  const user = id?.format === 'complex' ? id.user : id;
  if (!user || user.iss !== issuer || typeof user.sub !== 'string') throw new RejectedSecurityEvent('invalid_request', 'the SET names no user of this issuer');
  return { sub: user.sub, sessionId: id?.format === 'complex' && typeof id.session?.id === 'string' ? id.session.id : undefined };
}

function rejection(error: unknown): Error {
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'iss') return new RejectedSecurityEvent('invalid_issuer', 'not from the configured issuer');
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') return new RejectedSecurityEvent('invalid_audience', 'not for this receiver');
  // Warta's JWKS out of reach, or a kid not in it yet (within the fetch cooldown), may be fine in a
  // minute: answered 503, which Warta retries (anything but a 400 {err}).
  if (keySetUnavailable(error) || error instanceof errors.JWKSNoMatchingKey) return new KeySetUnavailable();
  if (error instanceof errors.JWSSignatureVerificationFailed) return new RejectedSecurityEvent('invalid_key', 'the signature does not verify with Warta’s keys');
  if (error instanceof errors.JOSEError) return new RejectedSecurityEvent('invalid_request', `the SET is not acceptable: ${error.code}`);
  return new RejectedSecurityEvent('invalid_request', 'the SET is not acceptable');
}
