/**
 * `private_key_jwt` client authentication (OIDC Core §9, RFC 7523 §2.2 and §3, RFC 7521
 * §4.2): the client signs a short-lived JWT with a key from its registered JWKS.
 *
 * Rules, in the order they are checked:
 *  - a single compact JWS signed with an asymmetric algorithm (never `none`, never HS*:
 *    a MAC keyed with a client secret is `client_secret_jwt`, which Warta does not offer);
 *  - `typ`, when present, is `JWT` or `client-authentication+jwt`
 *    (draft-ietf-oauth-rfc7523bis §4), so another kind of JWT cannot pass for one;
 *  - the signature verifies with a key of the client's JWKS (kid-matched when given);
 *  - `iss` and `sub` are the client_id (OIDC Core §9, RFC 7523 §3 items 1-2);
 *  - `aud` names this server, and nothing else (RFC 7523 §3 item 3). Every `aud` value
 *    must be one of `expectedAudiences`: an assertion that also names another server was
 *    not made for us alone, which is the opening the 2025 audience-injection attack on
 *    private_key_jwt used (draft-ietf-oauth-rfc7523bis §1). Callers that can should pass
 *    only the issuer identifier, as that draft requires; passing the token endpoint URL
 *    too keeps clients that follow OIDC Core §9 ("SHOULD be the URL of the Token
 *    Endpoint") working;
 *  - `exp` is present and not passed (RFC 7523 §3 item 4), and at most
 *    MAX_CLIENT_ASSERTION_LIFETIME_SECONDS ahead: a long-lived assertion is a reusable
 *    credential if the jti store is ever lost, and bounding exp bounds that store;
 *  - `nbf` and `iat`, when present, are not in the future;
 *  - `jti` is present (OIDC Core §9) and used once ("These tokens MUST only be used once").
 *
 * Every failure is `invalid_client` with status 401 (RFC 6749 §5.2).
 */
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, errors } from 'jose';
import type { JSONWebKeySet, ProtectedHeaderParameters } from 'jose';

import { FAPI2_SIGNING_ALGS, type SecurityProfile } from '../clients/security-profile.js';
import { WartaError } from '../errors.js';
import { ASYMMETRIC_JWS_ALGS, COMPACT_JWS, MAX_JTI_LENGTH, MAX_JWT_LENGTH } from './jws.js';

/** Asymmetric JWS algorithms accepted for client assertions. */
export const CLIENT_ASSERTION_ALGS = ASYMMETRIC_JWS_ALGS;

/** The algorithms a client held to `profile` may sign its assertions with (FAPI 2.0 SP §5.4.1 for fapi2). */
export const clientAssertionAlgsFor = (profile: SecurityProfile): readonly string[] => (profile === 'fapi2' ? CLIENT_ASSERTION_ALGS.filter((alg) => FAPI2_SIGNING_ALGS.includes(alg)) : CLIENT_ASSERTION_ALGS);

/** Longest time ahead an assertion's `exp` may be; five minutes, as most client libraries use. */
export const MAX_CLIENT_ASSERTION_LIFETIME_SECONDS = 300;

/** Tolerance for clocks that disagree, applied to exp, nbf and iat. */
export const CLIENT_ASSERTION_CLOCK_SKEW_SECONDS = 10;

const ACCEPTED_TYPS: ReadonlySet<string> = new Set(['jwt', 'client-authentication+jwt']);

export interface VerifyClientAssertionOptions {
  /** The `client_assertion` parameter. */
  assertion: string;
  /** The client being authenticated (from `client_id`, or the assertion's `sub` looked up by the caller). */
  clientId: string;
  /** The client's registered public keys. */
  clientJwks: JSONWebKeySet;
  /** Identifiers of this server: its issuer identifier and, for older clients, its token endpoint URL. */
  expectedAudiences: readonly string[];
  now: Date;
  /** Records the jti until `expiresAt`; resolves false when it had already been seen. */
  markJtiUsed: (jti: string, expiresAt: Date) => Promise<boolean>;
  /** The algorithms this client may use; CLIENT_ASSERTION_ALGS unless its security profile narrows them. */
  allowedAlgs?: readonly string[];
}

export interface VerifiedClientAssertion {
  jti: string;
  /** When the assertion stops being acceptable (exp plus clock skew). */
  expiresAt: Date;
}

export async function verifyClientAssertion(options: VerifyClientAssertionOptions): Promise<VerifiedClientAssertion> {
  const { assertion, clientId, clientJwks, expectedAudiences, now, markJtiUsed } = options;
  const algs = options.allowedAlgs ?? CLIENT_ASSERTION_ALGS;

  if (typeof assertion !== 'string' || assertion.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(assertion)) {
    throw invalidClient('client_assertion must be a signed JWT in compact serialization');
  }

  checkHeader(assertion, algs);
  const payload = await verifySignature(assertion, clientJwks, algs);
  const claims = parseClaims(payload);

  if (claims.iss !== clientId) throw invalidClient('client_assertion iss must be the client_id');
  if (claims.sub !== clientId) throw invalidClient('client_assertion sub must be the client_id');
  checkAudience(claims.aud, expectedAudiences);

  const nowSeconds = Math.floor(now.getTime() / 1000);
  const skew = CLIENT_ASSERTION_CLOCK_SKEW_SECONDS;
  const { exp, nbf, iat, jti } = claims;
  if (!isNumericDate(exp)) throw invalidClient('client_assertion must contain a numeric exp');
  if (exp <= nowSeconds - skew) throw invalidClient('client_assertion has expired');
  if (exp > nowSeconds + MAX_CLIENT_ASSERTION_LIFETIME_SECONDS + skew) {
    throw invalidClient(`client_assertion exp must be at most ${MAX_CLIENT_ASSERTION_LIFETIME_SECONDS} seconds in the future`);
  }
  if (nbf !== undefined && (!isNumericDate(nbf) || nbf > nowSeconds + skew)) {
    throw invalidClient('client_assertion is not valid yet (nbf)');
  }
  if (iat !== undefined && (!isNumericDate(iat) || iat > nowSeconds + skew)) {
    throw invalidClient('client_assertion iat must not be in the future');
  }

  if (typeof jti !== 'string' || jti.length === 0) throw invalidClient('client_assertion must contain a jti');
  if (jti.length > MAX_JTI_LENGTH) throw invalidClient(`client_assertion jti must be at most ${MAX_JTI_LENGTH} characters`);

  // Remembered for as long as the assertion would otherwise still be accepted.
  const expiresAt = new Date((exp + skew) * 1000);
  if (!(await markJtiUsed(jti, expiresAt))) throw invalidClient('client_assertion jti has already been used');

  return { jti, expiresAt };
}

function checkHeader(assertion: string, algs: readonly string[]): void {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(assertion);
  } catch (cause) {
    throw invalidClient('client_assertion header is not valid JSON', cause);
  }
  if (typeof header.alg !== 'string' || !algs.includes(header.alg)) {
    throw invalidClient(`client_assertion must be signed with an asymmetric algorithm this client may use (${algs.join(', ')})`);
  }
  if (header.typ !== undefined) {
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : '';
    if (!ACCEPTED_TYPS.has(typ)) throw invalidClient('client_assertion typ must be JWT or client-authentication+jwt');
  }
}

async function verifySignature(assertion: string, clientJwks: JSONWebKeySet, algs: readonly string[]): Promise<Uint8Array> {
  let keys: ReturnType<typeof createLocalJWKSet>;
  try {
    keys = createLocalJWKSet(clientJwks);
  } catch (cause) {
    throw invalidClient('client has no usable JWKS registered', cause);
  }
  const verifyOptions = { algorithms: [...algs] };
  try {
    return (await compactVerify(assertion, keys, verifyOptions)).payload;
  } catch (error) {
    // Without a kid several keys of the client may fit the alg; try each of them.
    if (error instanceof errors.JWKSMultipleMatchingKeys) {
      for await (const key of error) {
        const result = await compactVerify(assertion, key, verifyOptions).catch(() => undefined);
        if (result !== undefined) return result.payload;
      }
      throw invalidClient('client_assertion signature does not verify with any of the client keys', error);
    }
    if (error instanceof errors.JWKSNoMatchingKey) {
      throw invalidClient('client_assertion was not signed with a key registered for this client', error);
    }
    throw invalidClient('client_assertion signature does not verify with the client keys', error);
  }
}

interface AssertionClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  iat?: unknown;
  jti?: unknown;
}

function parseClaims(payload: Uint8Array): AssertionClaims {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (cause) {
    throw invalidClient('client_assertion payload is not a JSON object', cause);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw invalidClient('client_assertion payload is not a JSON object');
  }
  return claims as AssertionClaims;
}

function checkAudience(aud: unknown, expectedAudiences: readonly string[]): void {
  const values = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(values) || values.length === 0 || !values.every((value) => typeof value === 'string')) {
    throw invalidClient('client_assertion must contain an aud naming this server');
  }
  // Simple string comparison (RFC 3986 §6.2.1), as RFC 7523 §3 requires.
  if (!values.every((value) => expectedAudiences.includes(value))) {
    throw invalidClient('client_assertion aud must name this server and nothing else');
  }
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function invalidClient(description: string, cause?: unknown): WartaError {
  const detail = cause instanceof Error ? cause.message : undefined;
  return new WartaError(401, 'invalid_client', description, { detail, cause });
}
