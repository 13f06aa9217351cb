/**
 * Validates a logout token (OpenID Connect Back-Channel Logout 1.0 §2.6), step by step.
 */
import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { KeySetUnavailable, keySetUnavailable } from './warta-keys.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutTokenCheck {
  jwks: JWTVerifyGetKey;
  issuer: string;
  clientId: string;
}

/** Whom to sign out: a Warta session (`sid`), a user (`sub`), or both. */
export interface LogoutRequest {
  jti: string;
  sub: string | undefined;
  sid: string | undefined;
}

export class InvalidLogoutToken extends Error {}

export async function verifyLogoutToken(token: string, check: LogoutTokenCheck): Promise<LogoutRequest> {
  let payload;
  try {
    // §2.6 step 2 (OIDC Core §3.1.3.7 steps 2-6, 9-10: iss, aud, alg, signature, iat) and §2.4 explicit
    // typing, so an ID token can never be replayed here as a logout token. Warta signs each
    // delivery afresh, with a two-minute `exp`.
    ({ payload } = await jwtVerify(token, check.jwks, {
      issuer: check.issuer,
      audience: check.clientId,
      typ: 'logout+jwt',
      algorithms: ['ES256'],
      requiredClaims: ['iat', 'jti', 'events'],
      maxTokenAge: '5 minutes',
      clockTolerance: 30,
    }));
  } catch (error) {
    if (keySetUnavailable(error)) throw new KeySetUnavailable();
    throw new InvalidLogoutToken(`the logout token does not verify: ${(error as errors.JOSEError).code}`);
  }
  // §2.6 step 3: a sub, a sid, or both.
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
  if (sub === undefined && sid === undefined) throw new InvalidLogoutToken('the logout token names neither sub nor sid');
  // §2.6 step 4: the back-channel logout event, whose value is a JSON object.
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events?.[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new InvalidLogoutToken('the logout token has no back-channel logout event');
  // §2.6 step 5: a nonce means an ID token, whatever else it claims.
  if ('nonce' in payload) throw new InvalidLogoutToken('a logout token must not contain a nonce');
  return { jti: String(payload.jti), sub, sid };
}
