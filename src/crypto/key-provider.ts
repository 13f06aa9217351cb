/**
 * Where signing keys' private halves live, behind the three things the token
 * issuer needs: make a key, name its public half, sign with it. `envelope` keeps
 * the private JWK in the database sealed under the master key; `pkcs11` keeps it
 * in an HSM token, non-extractable, and the database holds only the public JWK,
 * the kid and the token object's CKA_ID.
 */
import type { JWK } from 'jose';
import type { SigningKeyProviderName, SigningKeysTable } from '../db/schema.js';

export type SigningAlg = 'ES256';

/** The columns of a signing_keys row a provider reads to find the key's private half. */
export type StoredSigningKey = Pick<SigningKeysTable, 'kid' | 'alg' | 'private_jwk_enc' | 'key_reference'> & { provider: SigningKeyProviderName };

export interface GeneratedSigningKey {
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  alg: SigningAlg;
  /** What the JWKS publishes: the public key with its kid, alg and use. */
  publicJwk: JWK;
  /** Where the private half is, as the row records it: the sealed JWK (envelope) or the token object's id (pkcs11), never both. */
  reference: { provider: SigningKeyProviderName; private_jwk_enc: string | null; key_reference: string | null };
}

export interface SigningKeyProvider {
  readonly name: SigningKeyProviderName;
  generate(alg: SigningAlg): Promise<GeneratedSigningKey>;
  /** The public key as the provider holds it (not as the database says): a row naming a key the provider does not hold is never published. */
  publicJwk(key: StoredSigningKey): Promise<JWK>;
  /** The JWS signature (RFC 7515 §5.1) of `signingInput`, in JWS form (ES256: r || s, 64 bytes). */
  sign(key: StoredSigningKey, signingInput: Buffer): Promise<Buffer>;
  close(): void;
}

/** A key this provider did not make (another provider's row): it neither signs nor is published here. */
export class ForeignSigningKeyError extends Error {
  constructor(kid: string, provider: string, configured: string) {
    super(`signing key ${kid} is held by the ${provider} provider, but WARTA_SIGNING_KEY_PROVIDER is ${configured}`);
    this.name = 'ForeignSigningKeyError';
  }
}
