/**
 * Checking DPoP proofs (RFC 9449 §4.3), at the token endpoint (§5) and at protected
 * resources such as userinfo (§7.1).
 *
 * The numbered rules of §4.3 and where they are enforced:
 *  1-2. one header, one well-formed JWT .......... `COMPACT_JWS` (a caller that joins
 *       repeated `DPoP` headers with "," produces a value that fails it)
 *  3.   required claims .......................... `readClaims`
 *  4.   typ dpop+jwt ............................. `checkHeader`
 *  5.   asymmetric, allowed alg .................. `checkHeader` + `allowedAsymmetricAlgs`
 *  6.   signature verifies with the `jwk` ........ `compactVerify(proof, EmbeddedJWK)`
 *  7.   `jwk` is not a private key ............... `checkHeader`
 *  8.   htm ...................................... `verifyDpopProof`
 *  9.   htu, ignoring query and fragment ......... `normalizeHtu` (with the §4.3 SHOULD
 *       of RFC 3986 syntax- and scheme-based normalisation)
 *  10.  nonce .................................... `use_dpop_nonce` (§8, §9)
 *  11.  iat within the window (§11.1) ............ `maxAgeSeconds` / `clockSkewSeconds`
 *  12.  ath when an access token is presented .... `verifyDpopProof`
 * plus single use of `jti` (§11.1) through `markJtiUsed`.
 *
 * Comparing the returned `jkt` with the access token's `cnf.jkt` (or with `dpop_jkt`,
 * §10) is the caller's job: this function does not know what the token is bound to.
 *
 * Errors: at the token endpoint (no access token presented) `invalid_dpop_proof` is a
 * 400 (§5); at a protected resource (access token presented) it is a 401 with a
 * `WWW-Authenticate: DPoP` challenge (§7.1). `use_dpop_nonce` follows the same split
 * and carries the nonce to use in a `DPoP-Nonce` header (§8, §9).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { EmbeddedJWK, calculateJwkThumbprint, compactVerify, decodeProtectedHeader } from 'jose';
import type { JWK, ProtectedHeaderParameters } from 'jose';

import { WartaError } from '../errors.js';
import { ASYMMETRIC_JWS_ALGS, COMPACT_JWS, MAX_JTI_LENGTH, MAX_JWT_LENGTH } from './jws.js';

/**
 * How far in the future an `iat` may be (RFC 9449 §11.1 allows "the reasonably near
 * future"); FAPI 2.0 §5.3.2.1 asks servers to accept up to 10 seconds.
 */
export const DEFAULT_DPOP_CLOCK_SKEW_SECONDS = 10;

/** JWK members that only a private (or symmetric) key has. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

export interface VerifyDpopProofOptions {
  /** The value of the single `DPoP` request header. */
  proof: string;
  /** The request method, e.g. `POST`. */
  method: string;
  /** The public URL the request was sent to (what the client saw, not a proxied address). */
  url: string | URL;
  /** The access token presented with the request; only at protected resources. */
  accessToken?: string;
  /** The nonce this server currently requires in proofs, if it requires one: sent back in `DPoP-Nonce` when a proof lacks it. */
  nonce?: string;
  /** Other nonces still accepted (e.g. the previous window's, see dpop-nonce.ts); only with `nonce`. */
  acceptsNonce?: (nonce: string) => boolean;
  now: Date;
  /** How long after its `iat` a proof is accepted. */
  maxAgeSeconds: number;
  /** Local policy; only asymmetric algorithms are ever honoured, whatever is listed. */
  allowedAlgs: readonly string[];
  /** Records the jti until `expiresAt`; resolves false when it had already been seen. */
  markJtiUsed: (jti: string, expiresAt: Date) => Promise<boolean>;
  /** How far in the future `iat` may be; defaults to DEFAULT_DPOP_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
}

export interface VerifiedDpopProof {
  /** RFC 7638 JWK SHA-256 thumbprint of the proof key: the `cnf.jkt` to bind tokens to. */
  jkt: string;
}

interface DpopClaims {
  jti: string;
  htm: string;
  htu: string;
  iat: number;
  ath: unknown;
  nonce: unknown;
}

export async function verifyDpopProof(options: VerifyDpopProofOptions): Promise<VerifiedDpopProof> {
  const { proof, method, url, accessToken, nonce, acceptsNonce, now, maxAgeSeconds, markJtiUsed } = options;
  const clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_DPOP_CLOCK_SKEW_SECONDS;
  const algs = allowedAsymmetricAlgs(options.allowedAlgs);
  const fail = failureFor(accessToken !== undefined, algs);

  if (typeof proof !== 'string' || proof.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(proof)) {
    throw fail.invalid('DPoP header must contain exactly one well-formed JWT');
  }

  const jwk = checkHeader(proof, algs, fail);

  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(proof, EmbeddedJWK, { algorithms: [...algs] }));
  } catch (cause) {
    throw fail.invalid('DPoP proof signature does not verify with its jwk header', cause);
  }

  const claims = readClaims(payload, fail);

  if (claims.htm !== method) throw fail.invalid('DPoP proof htm does not match the request method');

  const expectedHtu = normalizeHtu(typeof url === 'string' ? url : url.href);
  if (expectedHtu === null) {
    throw new WartaError(500, 'server_error', 'Cannot check DPoP proof', { detail: 'verifyDpopProof: request url is not an absolute http(s) URL' });
  }
  if (normalizeHtu(claims.htu) !== expectedHtu) throw fail.invalid('DPoP proof htu does not match the request URL');

  if (accessToken !== undefined) {
    if (typeof claims.ath !== 'string') throw fail.invalid('DPoP proof must contain ath when an access token is presented');
    if (!equalsConstantTime(claims.ath, sha256Base64url(accessToken))) {
      throw fail.invalid('DPoP proof ath does not match the access token');
    }
  }

  if (nonce !== undefined) {
    if (claims.nonce === undefined) throw fail.useNonce(nonce, 'DPoP proof must contain the nonce provided by the server');
    if (typeof claims.nonce !== 'string' || !(equalsConstantTime(claims.nonce, nonce) || acceptsNonce?.(claims.nonce) === true)) {
      throw fail.useNonce(nonce, 'DPoP proof nonce is not the current server-provided nonce');
    }
  }

  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (claims.iat > nowSeconds + clockSkewSeconds) throw fail.invalid('DPoP proof iat is in the future');
  if (claims.iat < nowSeconds - maxAgeSeconds) throw fail.invalid('DPoP proof is too old (iat)');

  // Last, so that a proof failing any other check does not burn its jti. The proof stays
  // acceptable until iat + maxAgeSeconds, so that is how long the jti must be remembered.
  const firstUse = await markJtiUsed(claims.jti, new Date((claims.iat + maxAgeSeconds) * 1000));
  if (!firstUse) throw fail.invalid('DPoP proof jti has already been used');

  return { jkt: await calculateJwkThumbprint(jwk) };
}

/** RFC 9449 §4.3 rules 4, 5 and 7; returns the header's public key. */
function checkHeader(proof: string, algs: ReadonlySet<string>, fail: Failure): JWK {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(proof);
  } catch (cause) {
    throw fail.invalid('DPoP proof header is not valid JSON', cause);
  }

  // RFC 7515 §4.1.9: "application/" may be omitted from a typ media type, and media
  // types compare case-insensitively.
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : undefined;
  if (typ !== 'dpop+jwt') throw fail.invalid('DPoP proof typ header must be dpop+jwt');

  if (typeof header.alg !== 'string' || !algs.has(header.alg)) {
    throw fail.invalid(`DPoP proof alg must be one of ${[...algs].join(', ')}`);
  }

  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw fail.invalid('DPoP proof must carry its public key in the jwk header');
  }
  if (PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(jwk, member))) {
    throw fail.invalid('DPoP proof jwk header must not contain a private key');
  }
  if (jwk.kty !== 'EC' && jwk.kty !== 'RSA' && jwk.kty !== 'OKP') {
    throw fail.invalid('DPoP proof jwk header must be an EC, RSA or OKP public key');
  }
  return jwk;
}

/** RFC 9449 §4.2: jti, htm, htu and iat are required. */
function readClaims(payload: Uint8Array, fail: Failure): DpopClaims {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (cause) {
    throw fail.invalid('DPoP proof payload is not a JSON object', cause);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw fail.invalid('DPoP proof payload is not a JSON object');
  }
  const { jti, htm, htu, iat, ath, nonce } = claims as Record<string, unknown>;
  if (typeof jti !== 'string' || jti.length === 0) throw fail.invalid('DPoP proof must contain a jti string');
  if (jti.length > MAX_JTI_LENGTH) throw fail.invalid(`DPoP proof jti must be at most ${MAX_JTI_LENGTH} characters`);
  if (typeof htm !== 'string') throw fail.invalid('DPoP proof must contain an htm string');
  if (typeof htu !== 'string') throw fail.invalid('DPoP proof must contain an htu string');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw fail.invalid('DPoP proof must contain a numeric iat');
  return { jti, htm, htu, iat, ath, nonce };
}

/**
 * The target URI without query and fragment (RFC 9449 §4.2), normalised per RFC 3986
 * §6.2.2 and §6.2.3 as §4.3 recommends: the URL parser lowercases scheme and host,
 * drops the default port, resolves dot segments and gives an empty path as "/"; here we
 * also decode percent-encoded unreserved characters and uppercase the remaining escapes.
 */
export function normalizeHtu(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/%[0-9A-Fa-f]{2}/g, (escape) => {
    const char = String.fromCharCode(Number.parseInt(escape.slice(1), 16));
    return /^[A-Za-z0-9\-._~]$/.test(char) ? char : escape.toUpperCase();
  });
  return url.href;
}

/** RFC 9449 §4.3 rule 5: "registered asymmetric ... supported ... acceptable per local policy". */
function allowedAsymmetricAlgs(allowedAlgs: readonly string[]): ReadonlySet<string> {
  const algs = new Set(allowedAlgs.filter((alg) => ASYMMETRIC_JWS_ALGS.includes(alg)));
  if (algs.size === 0) {
    throw new WartaError(500, 'server_error', 'DPoP is misconfigured', {
      detail: `verifyDpopProof: no asymmetric algorithm in allowedAlgs (${allowedAlgs.join(', ')})`,
    });
  }
  return algs;
}

interface Failure {
  invalid(description: string, cause?: unknown): WartaError;
  useNonce(nonce: string, description: string): WartaError;
}

function failureFor(atProtectedResource: boolean, algs: ReadonlySet<string>): Failure {
  const algsParam = `algs="${[...algs].join(' ')}"`;
  return {
    invalid(description, cause) {
      const detail = cause instanceof Error ? cause.message : undefined;
      if (!atProtectedResource) {
        return new WartaError(400, 'invalid_dpop_proof', description, { detail, cause });
      }
      return new WartaError(401, 'invalid_dpop_proof', description, {
        detail,
        cause,
        headers: { 'WWW-Authenticate': `DPoP error="invalid_dpop_proof", error_description="${quoted(description)}", ${algsParam}` },
      });
    },
    useNonce(nonce, description) {
      if (!atProtectedResource) {
        return new WartaError(400, 'use_dpop_nonce', description, { headers: { 'DPoP-Nonce': nonce } });
      }
      return new WartaError(401, 'use_dpop_nonce', description, {
        headers: {
          'WWW-Authenticate': `DPoP error="use_dpop_nonce", error_description="${quoted(description)}", ${algsParam}`,
          'DPoP-Nonce': nonce,
        },
      });
    },
  };
}

/** Descriptions are ours, but keep the auth-param quoted-string valid whatever they say. */
function quoted(value: string): string {
  return value.replace(/[\\"]/g, '\\$&');
}

function sha256Base64url(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

function equalsConstantTime(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
