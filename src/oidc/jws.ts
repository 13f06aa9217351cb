/**
 * ES256 compact JWS (RFC 7515 §7.1, RFC 7518 §3.4) with node:crypto KeyObjects made
 * once from the keys SigningKeys caches. Tokens are signed and checked on every token,
 * introspection and userinfo request; node:crypto's synchronous ECDSA is several times
 * cheaper than a WebCrypto round trip, and the format is small enough to build by hand:
 * BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(r || s).
 *
 * Verification accepts exactly what Warta issues: `alg` ES256, a `kid` that is in the
 * published JWKS, no `crit`, a 64-byte signature. The caller checks the claims.
 *
 * The shape, size and algorithm limits below hold for every JWT Warta reads, its own
 * and those clients sign (DPoP proofs, client assertions).
 */
import { createPublicKey, KeyObject, sign, verify } from 'node:crypto';
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

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

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

export class CompactJws {
  private signer: { source: CryptoKey; key: KeyObject; kid: string } | undefined;
  private verifiers: { source: { keys: JWK[] }; keys: Map<string, KeyObject> } | undefined;

  constructor(private readonly signingKeys: Pick<SigningKeys, 'activeKey' | 'jwks' | 'sign'>) {}

  async sign(payload: Record<string, unknown>, typ: string): Promise<string> {
    const active = await this.signingKeys.activeKey();
    // Only ES256 has a hand-built path; anything else goes through jose.
    if (active.alg !== ALG) return this.signingKeys.sign(payload, { typ });
    if (this.signer?.source !== active.privateKey) this.signer = { source: active.privateKey, key: KeyObject.from(active.privateKey), kid: active.kid };
    const input = `${encode({ alg: ALG, kid: this.signer.kid, typ })}.${encode(payload)}`;
    const signature = sign('sha256', Buffer.from(input, 'ascii'), { key: this.signer.key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /** The header and payload of a token signed by a published Warta key; undefined otherwise. */
  async verify(token: string): Promise<VerifiedJws | undefined> {
    if (token.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(token)) return undefined;
    const [encodedHeader, encodedPayload, encodedSignature] = token.split('.') as [string, string, string];
    const header = decodeJson(encodedHeader);
    if (!header || header.alg !== ALG || typeof header.kid !== 'string' || 'crit' in header) return undefined;
    const key = (await this.publicKeys()).get(header.kid);
    const signature = Buffer.from(encodedSignature, 'base64url');
    if (!key || signature.length !== 64) return undefined;
    if (!verify('sha256', Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'), { key, dsaEncoding: 'ieee-p1363' }, signature)) return undefined;
    const payload = decodeJson(encodedPayload);
    return payload && { header, payload };
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
