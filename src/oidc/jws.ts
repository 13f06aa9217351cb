/**
 * ES256 compact JWS (RFC 7515 §7.1, RFC 7518 §3.4): signed by SigningKeys (whose
 * provider holds the key), checked here with node:crypto KeyObjects made once from the
 * published keys. Tokens are checked on every introspection and userinfo request;
 * node:crypto's synchronous ECDSA is several times cheaper than a WebCrypto round trip,
 * and the format is small enough to read by hand:
 * BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(r || s).
 *
 * Verification accepts exactly what Warta issues: `alg` ES256, a `kid` that is in the
 * published JWKS, no `crit`, a 64-byte signature. The caller checks the claims.
 *
 * The shape, size and algorithm limits below hold for every JWT Warta reads, its own
 * and those clients sign (DPoP proofs, client assertions).
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { JWK } from 'jose';
import type { SigningKeys } from '../crypto/signing-keys.js';

const ALG = 'ES256';

/** JWS algorithms that are asymmetric signatures, the ones accepted on JWTs clients sign (never `none`, never a MAC: RFC 9449 §4.2). */
export const ASYMMETRIC_JWS_ALGS: readonly string[] = [
  'ES256', 'ES384', 'ES512',
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'EdDSA', 'Ed25519',
];

/** RFC 7515 §7.1: three base64url parts, none empty. Repeated headers joined with "," fail it. */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Longest JWT Warta reads (its own tokens, DPoP proofs, client assertions): a header
 * with a key, a few claims and a signature take a few KiB; anything longer is refused
 * before it is decoded.
 */
export const MAX_JWT_LENGTH = 8192;

/** RFC 9449 §11.1: "reject DPoP proof JWTs with unnecessarily large jti values"; client assertions' jti are recorded the same way. */
export const MAX_JTI_LENGTH = 256;

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface VerifiedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/**
 * Tokens whose signature this process already checked, so a resource server that
 * introspects the same access token on every call it serves costs one ECDSA
 * verification per token, not per call. Keyed by the whole token (the same bytes
 * carry the same signature); a hit still needs its `kid` among the keys published
 * now, so a withdrawn key fails at once; the claims (expiry above all) are checked
 * by the caller every time. Oldest entries go first beyond this many.
 */
const VERIFIED_TOKENS = 4096;

export class CompactJws {
  private verifiers: { source: { keys: JWK[] }; keys: Map<string, KeyObject> } | undefined;
  private readonly verified = new Map<string, VerifiedJws & { header: { kid: string } }>();

  constructor(private readonly signingKeys: Pick<SigningKeys, 'jwks' | 'sign'>) {}

  sign(payload: Record<string, unknown>, typ: string): Promise<string> {
    return this.signingKeys.sign(payload, { typ });
  }

  /** The header and payload of a token signed by a published Warta key; undefined otherwise. */
  async verify(token: string): Promise<VerifiedJws | undefined> {
    const known = this.verified.get(token);
    // A copy: a caller that adds to the claims must not change what the next caller is given.
    if (known) return (await this.publicKeys()).has(known.header.kid) ? structuredClone(known) : undefined;
    if (token.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(token)) return undefined;
    const [encodedHeader, encodedPayload, encodedSignature] = token.split('.') as [string, string, string];
    const header = decodeJson(encodedHeader);
    if (!header || header.alg !== ALG || typeof header.kid !== 'string' || 'crit' in header) return undefined;
    const key = (await this.publicKeys()).get(header.kid);
    const signature = Buffer.from(encodedSignature, 'base64url');
    if (!key || signature.length !== 64) return undefined;
    if (!verify('sha256', Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'), { key, dsaEncoding: 'ieee-p1363' }, signature)) return undefined;
    const payload = decodeJson(encodedPayload);
    if (!payload) return undefined;
    const result = { header: header as VerifiedJws['header'] & { kid: string }, payload };
    if (this.verified.size >= VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, structuredClone(result));
    return result;
  }

  private async publicKeys(): Promise<Map<string, KeyObject>> {
    const jwks = await this.signingKeys.jwks();
    if (this.verifiers?.source !== jwks) {
      const keys = new Map<string, KeyObject>();
      for (const jwk of jwks.keys) {
        if (typeof jwk.kid === 'string' && jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg === undefined || jwk.alg === ALG))
          keys.set(jwk.kid, createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' }));
      }
      this.verifiers = { source: jwks, keys };
    }
    return this.verifiers.keys;
  }
}
