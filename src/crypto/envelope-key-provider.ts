import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { ForeignSigningKeyError, type GeneratedSigningKey, type SigningAlg, type SigningKeyProvider, type StoredSigningKey } from './key-provider.js';
import type { SecretBox } from './secret-box.js';

const SEAL_CONTEXT = (kid: string) => `signing key ${kid}`;

/**
 * The private JWK sealed under the master key in the row itself (what every key
 * was before providers). Whoever holds the database and the master key holds the
 * keys. Signing uses node:crypto's ECDSA on a KeyObject made once per key, several
 * times cheaper than a WebCrypto round trip, on every token issued.
 *
 * It signs on libuv's threadpool (node:crypto's callback form), not on the event
 * loop: the token endpoint is bound by the main thread, and the signature was a
 * sixth of its time there. Measured under load on 2 cores, client_credentials
 * served 1.3–1.6× the requests per second it did signing synchronously, though a
 * signature costs about 15 µs more CPU in all. The pool is shared with argon2
 * (see `threadpoolShortfall`).
 */
export class EnvelopeKeyProvider implements SigningKeyProvider {
  readonly name = 'envelope' as const;
  /** By kid: a kid is the thumbprint of its key, so what it names never changes. */
  private readonly privateKeys = new Map<string, KeyObject>();

  constructor(private readonly box: SecretBox) {}

  async generate(alg: SigningAlg): Promise<GeneratedSigningKey> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    return {
      kid,
      alg,
      publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
      reference: { provider: this.name, private_jwk_enc: this.box.seal(JSON.stringify(privateJwk), SEAL_CONTEXT(kid)), key_reference: null },
    };
  }

  async publicJwk(key: StoredSigningKey): Promise<JWK> {
    return createPublicKey(this.privateKey(key)).export({ format: 'jwk' }) as JWK;
  }

  async sign(key: StoredSigningKey, signingInput: Buffer): Promise<Buffer> {
    if (key.alg !== 'ES256') throw new Error(`signing key ${key.kid}: ${key.alg} is not supported`);
    const privateKey = this.privateKey(key);
    return new Promise((resolve, reject) => sign('sha256', signingInput, { key: privateKey, dsaEncoding: 'ieee-p1363' }, (error, signature) => (error ? reject(error) : resolve(signature))));
  }

  close(): void {
    this.privateKeys.clear();
  }

  private privateKey(key: StoredSigningKey): KeyObject {
    if (key.provider !== this.name || key.private_jwk_enc === null) throw new ForeignSigningKeyError(key.kid, key.provider, this.name);
    let privateKey = this.privateKeys.get(key.kid);
    if (!privateKey) {
      const jwk = JSON.parse(this.box.openText(key.private_jwk_enc, SEAL_CONTEXT(key.kid))) as JWK;
      privateKey = createPrivateKey({ key: jwk as never, format: 'jwk' });
      this.privateKeys.set(key.kid, privateKey);
    }
    return privateKey;
  }
}
