/**
 * COSE public keys (RFC 9052 §7, RFC 9053) as node:crypto KeyObjects, and
 * signature verification with them: the passkey sign-in's signature check,
 * without WebCrypto's per-call JWK import and async round trips.
 *
 * Only the algorithms Warta registers passkeys with are understood, each with
 * the one key type and curve RFC 9053 gives it: a key whose kty, crv or sizes
 * do not fit its alg is refused, never verified "as best we can".
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';

/** COSE algorithm identifiers (IANA COSE Algorithms registry). */
export const COSE_ES256 = -7;
export const COSE_EDDSA = -8;
export const COSE_RS256 = -257;

// COSE_Key labels and values (RFC 9052 §7.1, RFC 9053 §7).
const KTY = 1;
const ALG = 3;
const CRV = -1;
const X = -2;
const Y = -3;
const RSA_N = -1;
const RSA_E = -2;
const KTY_OKP = 1;
const KTY_EC2 = 2;
const KTY_RSA = 3;
const CRV_P256 = 1;
const CRV_ED25519 = 6;

export class UnusableCoseKey extends Error {
  override readonly name = 'UnusableCoseKey';
}

export interface CoseVerifier {
  alg: number;
  /** Whether `signature` is `alg`'s signature of `data` under the key. Malformed signature encodings throw UnusableSignature. */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}

export class UnusableSignature extends Error {
  override readonly name = 'UnusableSignature';
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

function bytesOf(key: Map<unknown, unknown>, label: number, what: string, length?: number): Uint8Array {
  const value = key.get(label);
  if (!(value instanceof Uint8Array) || value.length === 0 || (length !== undefined && value.length !== length)) throw new UnusableCoseKey(`the COSE key's ${what} is missing or has the wrong size`);
  return value;
}

function ec2P256(key: Map<unknown, unknown>): CoseVerifier {
  if (key.get(CRV) !== CRV_P256) throw new UnusableCoseKey('an ES256 key must be on P-256');
  const publicKey = createPublicKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256', x: base64url(bytesOf(key, X, 'x', 32)), y: base64url(bytesOf(key, Y, 'y', 32)) } });
  return { alg: COSE_ES256, verify: (data, signature) => verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, ecdsaDerToP1363(signature, 32)) };
}

function okpEd25519(key: Map<unknown, unknown>): CoseVerifier {
  if (key.get(CRV) !== CRV_ED25519) throw new UnusableCoseKey('an EdDSA key must be Ed25519');
  const publicKey = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: base64url(bytesOf(key, X, 'x', 32)) } });
  return { alg: COSE_EDDSA, verify: (data, signature) => verify(null, data, publicKey, signature) };
}

function rsaPkcs1Sha256(key: Map<unknown, unknown>): CoseVerifier {
  const publicKey = createPublicKey({ format: 'jwk', key: { kty: 'RSA', n: base64url(bytesOf(key, RSA_N, 'n')), e: base64url(bytesOf(key, RSA_E, 'e')) } });
  // RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8812 §2), node's default padding for an RSA key.
  return { alg: COSE_RS256, verify: (data, signature) => verify('sha256', data, publicKey, signature) };
}

/** A verifier for a COSE_Key; throws UnusableCoseKey for anything but ES256/P-256, EdDSA/Ed25519 and RS256 keys. */
export function coseVerifier(coseKey: Uint8Array<ArrayBuffer>): CoseVerifier {
  let key: unknown;
  try {
    key = decodeCredentialPublicKey(coseKey);
  } catch {
    throw new UnusableCoseKey('the public key is not CBOR');
  }
  if (!(key instanceof Map)) throw new UnusableCoseKey('the public key is not a COSE_Key map');
  const kty = key.get(KTY);
  const alg = key.get(ALG);
  try {
    if (alg === COSE_ES256 && kty === KTY_EC2) return ec2P256(key);
    if (alg === COSE_EDDSA && kty === KTY_OKP) return okpEd25519(key);
    if (alg === COSE_RS256 && kty === KTY_RSA) return rsaPkcs1Sha256(key);
  } catch (error) {
    // createPublicKey refuses points off the curve and malformed moduli.
    if (error instanceof UnusableCoseKey) throw error;
    throw new UnusableCoseKey('the public key is not a valid key for its algorithm');
  }
  throw new UnusableCoseKey(`the public key's algorithm (${String(alg)}) and key type (${String(kty)}) are not supported`);
}

/**
 * A WebAuthn ES256 signature is an ASN.1 DER Ecdsa-Sig-Value (WebAuthn §6.5.5).
 * Read like @simplewebauthn/server reads it (r and s padded or stripped of their
 * sign byte to the curve's size), so an authenticator accepted before still is;
 * anything else that is not SEQUENCE { INTEGER, INTEGER } is refused.
 */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Uint8Array {
  const bad = () => new UnusableSignature('the ECDSA signature is not DER');
  let at = 0;
  const length = (): number => {
    const first = der[at++];
    if (first === undefined) throw bad();
    if (first < 0x80) return first;
    if (first !== 0x81) throw bad();
    const long = der[at++];
    if (long === undefined) throw bad();
    return long;
  };
  if (der[at++] !== 0x30) throw bad();
  if (length() !== der.length - at) throw bad();
  const out = new Uint8Array(size * 2);
  for (const offset of [0, size]) {
    if (der[at++] !== 0x02) throw bad();
    const n = length();
    if (n === 0 || at + n > der.length) throw bad();
    let value = der.subarray(at, at + n);
    at += n;
    if (value.length === size + 1 && value[0] === 0 && (value[1]! & 0x80) === 0x80) value = value.subarray(1);
    if (value.length > size) throw bad();
    out.set(value, offset + size - value.length);
  }
  if (at !== der.length) throw bad();
  return out;
}

const MAX_CACHED_KEYS = 4096;
const cache = new Map<string, CoseVerifier>();

/**
 * coseVerifier, cached by the key's own bytes (base64url, as stored): a changed
 * key is a different entry, never another key's verifier. Oldest entry out first.
 */
export function cachedCoseVerifier(coseKeyBase64url: string): CoseVerifier {
  const hit = cache.get(coseKeyBase64url);
  if (hit) return hit;
  const verifier = coseVerifier(Buffer.from(coseKeyBase64url, 'base64url'));
  if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value!);
  cache.set(coseKeyBase64url, verifier);
  return verifier;
}
