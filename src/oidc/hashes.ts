/**
 * `at_hash` and `c_hash` for ID Tokens (OpenID Connect Core 1.0 §3.1.3.6, §3.3.2.11):
 * "the base64url encoding of the left-most half of the hash of the octets of the ASCII
 * representation of the access_token value, where the hash algorithm used is the hash
 * algorithm used in the alg Header Parameter of the ID Token's JOSE Header".
 */
import { createHash } from 'node:crypto';

import { WartaError } from '../errors.js';

/**
 * The hash each ID Token signing algorithm implies. EdDSA (and its fully-specified
 * name Ed25519) signs with SHA-512 internally, which is what OpenID Connect and the
 * certified implementations use for its half-hashes.
 */
const HASH_BY_ALG = {
  ES256: 'sha256',
  RS256: 'sha256',
  PS256: 'sha256',
  ES384: 'sha384',
  RS384: 'sha384',
  PS384: 'sha384',
  ES512: 'sha512',
  RS512: 'sha512',
  PS512: 'sha512',
  EdDSA: 'sha512',
  Ed25519: 'sha512',
} as const;

export type HalfHashAlg = keyof typeof HASH_BY_ALG;

export const HALF_HASH_ALGS = Object.keys(HASH_BY_ALG) as HalfHashAlg[];

const ASCII = /^[\x00-\x7f]*$/;

/** `leftHalfHash(accessToken, 'RS256')` → the `at_hash` of an RS256-signed ID Token. */
export function leftHalfHash(value: string, alg: HalfHashAlg): string {
  const hash = Object.hasOwn(HASH_BY_ALG, alg) ? HASH_BY_ALG[alg] : undefined;
  if (hash === undefined) {
    // A configuration bug (an ID Token alg we cannot sign with), never client input.
    throw new WartaError(500, 'server_error', 'Unsupported ID Token signing algorithm', {
      detail: `leftHalfHash: no hash defined for alg ${String(alg)}`,
    });
  }
  if (!ASCII.test(value)) {
    // The spec hashes "the octets of the ASCII representation"; tokens and codes we
    // mint are always ASCII, so anything else is a bug upstream.
    throw new WartaError(500, 'server_error', 'Cannot hash a non-ASCII token value', {
      detail: 'leftHalfHash: value is not ASCII',
    });
  }
  const digest = createHash(hash).update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
