/**
 * Signing keys in a PKCS#11 token (an HSM, or SoftHSM2 for testing), through
 * pkcs11js, an optional dependency loaded only when this provider is configured.
 * Keys are generated in the token as sensitive and non-extractable; Warta keeps
 * only the public JWK, the kid and the object's CKA_ID. The module is a local
 * library: no network call is Warta's (what the module does is the vendor's).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type * as Pkcs11 from 'pkcs11js';
import { ConfigError } from '../config.js';
import { ForeignSigningKeyError, type GeneratedSigningKey, type SigningAlg, type SigningKeyProvider, type StoredSigningKey } from './key-provider.js';

export interface Pkcs11Settings {
  module: string;
  tokenLabel: string;
  pinFile: string;
}

/** DER of the named curve P-256 (OID 1.2.840.10045.3.1.7), as CKA_EC_PARAMS wants it. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
const LABEL = 'warta signing key';

type Pkcs11Module = typeof Pkcs11;
type Handle = Pkcs11.Handle;

export class Pkcs11KeyProvider implements SigningKeyProvider {
  readonly name = 'pkcs11' as const;
  /** Object handles by CKA_ID: valid for as long as the session is open. */
  private readonly handles = new Map<string, Handle>();

  constructor(
    private readonly lib: Pkcs11Module,
    private readonly token: Pkcs11.PKCS11,
    private readonly session: Handle,
  ) {}

  async generate(alg: SigningAlg): Promise<GeneratedSigningKey> {
    const { lib } = this;
    if (alg !== 'ES256') throw new Error(`${alg} keys are not supported in the PKCS#11 provider`);
    const id = randomBytes(16);
    const common = [
      { type: lib.CKA_TOKEN, value: true },
      { type: lib.CKA_ID, value: id },
      { type: lib.CKA_LABEL, value: LABEL },
    ];
    const { publicKey } = this.token.C_GenerateKeyPair(
      this.session,
      { mechanism: lib.CKM_EC_KEY_PAIR_GEN },
      [...common, { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY }, { type: lib.CKA_EC_PARAMS, value: P256_PARAMS }, { type: lib.CKA_VERIFY, value: true }],
      // Sensitive and non-extractable: the token never hands out the private value, wrapped or not.
      [
        ...common,
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        { type: lib.CKA_PRIVATE, value: true },
        { type: lib.CKA_SENSITIVE, value: true },
        { type: lib.CKA_EXTRACTABLE, value: false },
        { type: lib.CKA_SIGN, value: true },
      ],
    );
    const jwk = this.ecPublicJwk(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    return { kid, alg, publicJwk: { ...jwk, kid, alg, use: 'sig' }, reference: { provider: this.name, private_jwk_enc: null, key_reference: id.toString('hex') } };
  }

  async publicJwk(key: StoredSigningKey): Promise<JWK> {
    return this.ecPublicJwk(this.object(key, this.lib.CKO_PUBLIC_KEY));
  }

  /** ES256 (RFC 7518 §3.4): SHA-256 here, CKM_ECDSA over the digest in the token, which returns r || s as JWS wants. */
  async sign(key: StoredSigningKey, signingInput: Buffer): Promise<Buffer> {
    if (key.alg !== 'ES256') throw new Error(`signing key ${key.kid}: ${key.alg} is not supported`);
    const privateKey = this.object(key, this.lib.CKO_PRIVATE_KEY);
    const digest = createHash('sha256').update(signingInput).digest();
    // pkcs11js calls are synchronous: nothing else runs on this session between the two.
    this.token.C_SignInit(this.session, { mechanism: this.lib.CKM_ECDSA }, privateKey);
    const signature = this.token.C_Sign(this.session, digest, Buffer.alloc(132));
    if (signature.length !== 64) throw new Error(`the token returned a ${signature.length}-byte ECDSA signature for ${key.kid}, not 64`);
    return Buffer.from(signature);
  }

  /**
   * Closing the session ends the login once it is the process's last one. The
   * library stays initialised: another provider in this process may share it.
   */
  close(): void {
    this.handles.clear();
    try {
      this.token.C_CloseSession(this.session);
    } catch {
      // already closed (the token was removed): nothing left to release
    }
  }

  private object(key: StoredSigningKey, objectClass: number): Handle {
    if (key.provider !== this.name || key.key_reference === null) throw new ForeignSigningKeyError(key.kid, key.provider, this.name);
    const cacheKey = `${objectClass}:${key.key_reference}`;
    const cached = this.handles.get(cacheKey);
    if (cached) return cached;
    this.token.C_FindObjectsInit(this.session, [
      { type: this.lib.CKA_CLASS, value: objectClass },
      { type: this.lib.CKA_ID, value: Buffer.from(key.key_reference, 'hex') },
    ]);
    let found: Handle[];
    try {
      found = this.token.C_FindObjects(this.session, 2);
    } finally {
      this.token.C_FindObjectsFinal(this.session);
    }
    if (found.length !== 1) throw new Error(`signing key ${key.kid}: the token holds ${found.length} objects with id ${key.key_reference}, expected one`);
    this.handles.set(cacheKey, found[0]!);
    return found[0]!;
  }

  private ecPublicJwk(publicKey: Handle): JWK {
    const [point] = this.token.C_GetAttributeValue(this.session, publicKey, [{ type: this.lib.CKA_EC_POINT }]);
    const raw = uncompressedPoint(point!.value);
    return { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') };
  }
}

/** CKA_EC_POINT is DER (an OCTET STRING around 04 || X || Y) by the standard; some modules give the bare point. */
function uncompressedPoint(value: Buffer): Buffer {
  if (value.length === 67 && value[0] === 0x04 && value[1] === 0x41 && value[2] === 0x04) return value.subarray(2);
  if (value.length === 65 && value[0] === 0x04) return value;
  throw new Error(`the token returned an EC point Warta does not read (${value.length} bytes); expected P-256 uncompressed`);
}

const pkcs11Code = (error: unknown) => (error instanceof Error && /^CKR_[A-Z_]+$/.test(error.message) ? error.message : undefined);

/**
 * Loads the module, finds the token by label and logs in with the PIN from its
 * file. Every way this fails is a ConfigError naming the setting to fix; the PIN
 * itself is never part of a message.
 */
export async function openPkcs11KeyProvider(settings: Pkcs11Settings): Promise<Pkcs11KeyProvider> {
  let pin: string;
  try {
    pin = readFileSync(settings.pinFile, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new ConfigError('WARTA_PKCS11_PIN_FILE', `cannot read "${settings.pinFile}": ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  if (!pin) throw new ConfigError('WARTA_PKCS11_PIN_FILE', `"${settings.pinFile}" is empty`);

  let lib: Pkcs11Module;
  try {
    lib = ((await import('pkcs11js')) as { default?: Pkcs11Module }).default ?? ((await import('pkcs11js')) as Pkcs11Module);
  } catch {
    throw new ConfigError('WARTA_SIGNING_KEY_PROVIDER', 'pkcs11 needs the optional package pkcs11js, which is not installed (npm install pkcs11js; it builds with a C++ compiler)');
  }
  const token = new lib.PKCS11();
  try {
    token.load(settings.module);
  } catch (error) {
    throw new ConfigError('WARTA_PKCS11_MODULE', `cannot load "${settings.module}": ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    token.C_Initialize();
  } catch (error) {
    if (pkcs11Code(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw new ConfigError('WARTA_PKCS11_MODULE', `"${settings.module}" did not initialise: ${pkcs11Code(error) ?? String(error)}`);
  }
  const slots = token.C_GetSlotList(true);
  const labels = slots.map((slot) => ({ slot, label: token.C_GetTokenInfo(slot).label.trim() }));
  const slot = labels.find((s) => s.label === settings.tokenLabel)?.slot;
  if (!slot) throw new ConfigError('WARTA_PKCS11_TOKEN_LABEL', `no token labelled "${settings.tokenLabel}" in ${settings.module} (found: ${labels.map((s) => `"${s.label}"`).join(', ') || 'none'})`);

  const session = token.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
  try {
    token.C_Login(session, lib.CKU_USER, pin);
  } catch (error) {
    const code = pkcs11Code(error);
    // Logged in already: another session of this process holds the login (PKCS#11 keeps one per application).
    if (code !== 'CKR_USER_ALREADY_LOGGED_IN') {
      token.C_CloseSession(session);
      throw new ConfigError('WARTA_PKCS11_PIN_FILE', `the token "${settings.tokenLabel}" refused the PIN in "${settings.pinFile}" (${code ?? 'login failed'})`);
    }
  }
  return new Pkcs11KeyProvider(lib, token, session);
}
