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
 *  6.   signature verifies with the `jwk` ........ `verifyWithJwk` (node:crypto, synchronous)
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
import { constants, createHash, createPublicKey, type JsonWebKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';

import { decodeProtectedHeader } from 'jose';
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

  const { jwk, alg } = checkHeader(proof, algs, fail);
  const members = thumbprintMembers(jwk);
  const payload = verifyWithJwk(proof, jwk, members, alg, fail);

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

  return { jkt: createHash('sha256').update(members).digest('base64url') };
}

/** What each JWS algorithm (RFC 7518 §3) needs of its key and of node:crypto's verify. */
const SIGNATURE_ALGS: Record<string, { kty: 'EC' | 'RSA' | 'OKP'; crv?: string; hash: string | null; padding?: number }> = {
  ES256: { kty: 'EC', crv: 'P-256', hash: 'sha256' },
  ES384: { kty: 'EC', crv: 'P-384', hash: 'sha384' },
  ES512: { kty: 'EC', crv: 'P-521', hash: 'sha512' },
  RS256: { kty: 'RSA', hash: 'sha256', padding: constants.RSA_PKCS1_PADDING },
  RS384: { kty: 'RSA', hash: 'sha384', padding: constants.RSA_PKCS1_PADDING },
  RS512: { kty: 'RSA', hash: 'sha512', padding: constants.RSA_PKCS1_PADDING },
  PS256: { kty: 'RSA', hash: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING },
  PS384: { kty: 'RSA', hash: 'sha384', padding: constants.RSA_PKCS1_PSS_PADDING },
  PS512: { kty: 'RSA', hash: 'sha512', padding: constants.RSA_PKCS1_PSS_PADDING },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', hash: null },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', hash: null },
};

// RFC 7518 §3.3 and §3.5: "A key of size 2048 bits or larger MUST be used".
const MIN_RSA_MODULUS_BITS = 2048;

/**
 * Rule 6: the JWS signature over `header.payload` verifies with the header's `jwk`, a key
 * of the type `alg` names (an RSA key never verifies an ES256 proof). node:crypto's
 * one-shot verify runs on this thread with no WebCrypto job to schedule; a DPoP proof
 * is checked at every token request. Returns the payload bytes.
 */
function verifyWithJwk(proof: string, jwk: JWK, members: string, alg: string, fail: Failure): Uint8Array {
  const expected = SIGNATURE_ALGS[alg];
  if (!expected || jwk.kty !== expected.kty || (expected.crv !== undefined && jwk.crv !== expected.crv)) throw fail.invalid(`DPoP proof signature does not verify with its jwk header: not a key for ${alg}`);
  // As a WebCrypto import would: a key published for another use does not verify signatures.
  if ((jwk.use !== undefined && jwk.use !== 'sig') || (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))))
    throw fail.invalid('DPoP proof jwk header is not a signature verification key');
  const key = publicKeys.get(members) ?? importProofKey(members, expected.kty, fail);
  const [header, payload, signature] = proof.split('.') as [string, string, string];
  const valid = verify(
    expected.hash,
    Buffer.from(`${header}.${payload}`, 'ascii'),
    { key, ...(expected.kty === 'EC' ? { dsaEncoding: 'ieee-p1363' as const } : {}), ...(expected.padding === undefined ? {} : { padding: expected.padding }), ...(expected.padding === constants.RSA_PKCS1_PSS_PADDING ? { saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : {}) },
    Buffer.from(signature, 'base64url'),
  );
  if (!valid) throw fail.invalid('DPoP proof signature does not verify with its jwk header');
  return Buffer.from(payload, 'base64url');
}

const MAX_CACHED_KEYS = 4096;
/** Proof keys by their RFC 7638 members, only once they passed importProofKey's checks. */
const publicKeys = new Map<string, KeyObject>();

/**
 * The proof key as node:crypto's KeyObject, remembered: a client signs every proof with
 * the same key, and making the KeyObject costs about as much as the verification
 * itself. The key is made from exactly the members it is remembered by, so a remembered
 * key is that key, whatever else a later header carries; what depends on the header
 * rather than the key (`alg`, `use`, `key_ops`) is checked on every proof before. Oldest
 * entry out first, as for passkeys (src/crypto/cose-key.ts): anyone may present keys
 * (a valid key with a bad signature is remembered too), and a miss costs what every
 * proof cost before.
 */
function importProofKey(members: string, kty: 'EC' | 'RSA' | 'OKP', fail: Failure): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: JSON.parse(members) as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw fail.invalid('DPoP proof jwk header is not a valid public key', cause);
  }
  if (kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) throw fail.invalid(`DPoP proof RSA key must be at least ${MIN_RSA_MODULUS_BITS} bits`);
  if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.delete(publicKeys.keys().next().value!);
  publicKeys.set(members, key);
  return key;
}

/** RFC 7638 §3.2: the key's required members in lexicographic order, no whitespace; its SHA-256 is the thumbprint (`jkt`). */
function thumbprintMembers(jwk: JWK): string {
  const required = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return JSON.stringify(required);
}

/** RFC 9449 §4.3 rules 4, 5 and 7; returns the header's public key and its algorithm. */
function checkHeader(proof: string, algs: ReadonlySet<string>, fail: Failure): { jwk: JWK; alg: string } {
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
  // RFC 7515 §4.1.11: a critical extension this check does not understand makes the proof invalid (none is defined for DPoP).
  if (header.crit !== undefined) throw fail.invalid('DPoP proof header must not carry crit');
  return { jwk, alg: header.alg };
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
