/**
 * Checks a Warta access token presented to this service's API, locally, as
 * RFC 9068 §4 says: no call to Warta per request, only the cached JWKS.
 */
import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { KeySetUnavailable, keySetUnavailable } from './warta-keys.js';

export interface AccessTokenCheck {
  jwks: JWTVerifyGetKey;
  issuer: string;
  audience: string;
}

export interface VerifiedAccessToken {
  sub: string;
  clientId: string;
  scope: string[];
  acr: string | undefined;
}

export class InvalidAccessToken extends Error {}

export async function verifyAccessToken(token: string, check: AccessTokenCheck): Promise<VerifiedAccessToken> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, check.jwks, {
      issuer: check.issuer,
      audience: check.audience,
      // §4 rule 2: the JWT type, so an ID token or a logout token is never taken for an access token.
      typ: 'at+jwt',
      // Only what Warta signs with: no `none`, no HMAC keyed with a public key.
      algorithms: ['ES256'],
      requiredClaims: ['exp', 'iat', 'sub', 'client_id'],
    }));
  } catch (error) {
    if (keySetUnavailable(error)) throw new KeySetUnavailable();
    throw new InvalidAccessToken(describe(error as errors.JOSEError));
  }
  // A DPoP- or certificate-bound token (RFC 9449, RFC 8705) presented as a plain bearer token
  // is someone else's: this API does not check proofs of possession, so it takes none.
  if (payload.cnf !== undefined) throw new InvalidAccessToken('a sender-constrained token needs its proof of possession');
  return {
    sub: payload.sub!,
    clientId: String(payload.client_id),
    scope: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
    acr: typeof payload.acr === 'string' ? payload.acr : undefined,
  };
}

function describe(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} is not accepted here`;
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) return 'the token was not signed by Warta';
  return 'the token is malformed';
}
