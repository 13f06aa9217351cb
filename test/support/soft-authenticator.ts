/**
 * A software WebAuthn authenticator (plus the browser's client half) for tests.
 *
 * Everything it produces is real: P-256 credential keys, CBOR attestation objects,
 * ES256 signatures over authenticatorData ‖ SHA-256(clientDataJSON), and X.509
 * attestation certificates. `overrides` let a negative test tamper with exactly one
 * thing a verifier must check.
 *
 * @example
 * const authenticator = new SoftAuthenticator({ attestation: 'packed-full', attestationCert: leaf, aaguid });
 * const response = authenticator.createCredential(options, { origin: 'https://id.example' });
 * const assertion = authenticator.getAssertion(requestOptions, { origin: 'https://id.example' });
 */
// @peculiar/x509 needs the Reflect metadata polyfill loaded first, whatever the importer loaded before.
import 'reflect-metadata';
import { createHash, generateKeyPairSync, KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { type CborValue, encodeCbor } from './cbor.js';
import type {
  AuthenticationExtensionsClientOutputs,
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

export type SoftAttestation = 'none' | 'packed-self' | 'packed-full';

export interface AttestationCertificate {
  certDer: Uint8Array;
  privateKey: KeyObject;
  /** Intermediate CA certificates sent after the leaf in x5c. */
  intermediates?: Uint8Array[];
}

export interface SoftAuthenticatorOptions {
  /** 16 bytes or a UUID string. */
  aaguid?: Uint8Array | string;
  attestation?: SoftAttestation;
  /** Required for 'packed-full'; its id-fido-gen-ce-aaguid must match `aaguid`. */
  attestationCert?: AttestationCertificate;
  /** Whether the authenticator can verify the user (PIN, biometrics). */
  userVerification?: boolean;
  signCountStart?: number;
  /** Whether it can store discoverable credentials. */
  residentKeys?: boolean;
  /** Sets the BE and BS flags, like a synced passkey. */
  backupEligible?: boolean;
  transports?: AuthenticatorTransport[];
}

export interface SoftCredential {
  /** base64url credential ID. */
  id: string;
  rpId: string;
  /** base64url user.id from the creation options. */
  userHandle: string;
  privateKey: KeyObject;
  /** Incremented before every assertion; tests may roll it back to simulate a cloned authenticator. */
  signCount: number;
  discoverable: boolean;
}

interface ClientDataOverrides {
  origin?: string;
  type?: string;
  challenge?: string;
}

interface AuthenticatorDataOverrides {
  /** Put SHA-256 of this RP ID into authenticatorData instead of the real one. */
  rpIdHashOf?: string;
  userPresent?: boolean;
  userVerified?: boolean;
  signCount?: number;
  /** Flip a bit of the attestation (registration) or assertion signature. */
  corruptSignature?: boolean;
}

export interface RegistrationOverrides extends ClientDataOverrides, AuthenticatorDataOverrides {
  /** Send bytes that are not CBOR at all as the attestationObject. */
  garbageAttestationObject?: boolean;
}

export type AssertionOverrides = ClientDataOverrides & AuthenticatorDataOverrides;

export interface RegistrationCeremony {
  origin: string;
  /** Defaults to options.rp.id, then the origin's host. */
  rpId?: string;
  /** Set when the ceremony runs in a cross-origin iframe: clientData gets crossOrigin true and this topOrigin. */
  topOrigin?: string;
  overrides?: RegistrationOverrides;
}

export interface AssertionCeremony {
  origin: string;
  /** Pick this credential instead of the first eligible one. */
  credentialId?: string;
  topOrigin?: string;
  overrides?: AssertionOverrides;
}

const ES256 = -7;

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;



export class SoftAuthenticator {
  readonly aaguid: string;
  readonly credentials: SoftCredential[] = [];
  private readonly aaguidBytes: Uint8Array;
  private readonly attestation: SoftAttestation;
  private readonly attestationCert: AttestationCertificate | undefined;
  private readonly canVerifyUser: boolean;
  private readonly canStoreResidentKeys: boolean;
  private readonly backupEligible: boolean;
  private readonly signCountStart: number;
  private readonly transports: AuthenticatorTransport[];

  constructor(opts: SoftAuthenticatorOptions = {}) {
    this.aaguidBytes = opts.aaguid === undefined ? uuidToBytes(randomUUID()) : toAaguidBytes(opts.aaguid);
    this.aaguid = bytesToUuid(this.aaguidBytes);
    this.attestation = opts.attestation ?? 'none';
    this.attestationCert = opts.attestationCert;
    if (this.attestation === 'packed-full' && !this.attestationCert) {
      throw new Error("attestation 'packed-full' needs an attestationCert");
    }
    this.canVerifyUser = opts.userVerification ?? true;
    this.canStoreResidentKeys = opts.residentKeys ?? true;
    this.backupEligible = opts.backupEligible ?? false;
    this.signCountStart = opts.signCountStart ?? 0;
    this.transports = opts.transports ?? ['internal'];
  }

  /**
   * navigator.credentials.create(). Like a browser, it replaces the attestation with
   * fmt 'none' unless the options ask for 'direct' or 'enterprise' (AttestationConveyancePreference).
   * It keeps the AAGUID, as WebAuthn Level 3 allows.
   */
  createCredential(options: PublicKeyCredentialCreationOptionsJSON, ceremony: RegistrationCeremony): RegistrationResponseJSON {
    const { origin, overrides = {} } = ceremony;
    const rpId = ceremony.rpId ?? options.rp.id ?? new URL(origin).hostname;

    if (!options.pubKeyCredParams.some((param) => param.alg === ES256)) {
      throw new DOMException('The authenticator only supports ES256', 'NotSupportedError');
    }
    const excluded = new Set((options.excludeCredentials ?? []).map((descriptor) => descriptor.id));
    if (this.credentials.some((credential) => credential.rpId === rpId && excluded.has(credential.id))) {
      throw new DOMException('The authenticator already holds an excluded credential', 'InvalidStateError');
    }
    const selection = options.authenticatorSelection ?? {};
    const residentKey = selection.residentKey ?? (selection.requireResidentKey ? 'required' : 'discouraged');
    if (residentKey === 'required' && !this.canStoreResidentKeys) {
      throw new DOMException('The authenticator cannot store discoverable credentials', 'ConstraintError');
    }
    const userVerified = this.performUserVerification(selection.userVerification);

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credentialId = randomBytes(32);
    const credential: SoftCredential = {
      id: credentialId.toString('base64url'),
      rpId,
      userHandle: options.user.id,
      privateKey,
      signCount: overrides.signCount ?? this.signCountStart,
      discoverable: residentKey === 'required' || (residentKey === 'preferred' && this.canStoreResidentKeys),
    };
    this.credentials.push(credential);

    const cosePublicKey = encodeCosePublicKey(publicKey);
    const attestedCredentialData = concat(this.aaguidBytes, uint16(credentialId.length), credentialId, cosePublicKey);
    const authData = this.authenticatorData(rpId, userVerified, credential.signCount, overrides, attestedCredentialData);

    const clientDataJSON = encodeClientData(
      { type: 'webauthn.create', challenge: options.challenge, origin, topOrigin: ceremony.topOrigin },
      overrides,
    );
    const conveyed = options.attestation === 'direct' || options.attestation === 'enterprise';
    const fmt = conveyed && this.attestation !== 'none' ? 'packed' : 'none';
    if (overrides.corruptSignature && fmt === 'none') {
      throw new Error("corruptSignature needs a signed attestation, but this one is fmt 'none'");
    }
    const attStmt = fmt === 'packed' ? this.packedStatement(authData, sha256(clientDataJSON), privateKey, overrides) : {};
    const attestationObject = overrides.garbageAttestationObject
      ? Uint8Array.of(0xa3, 0x63, 0x66, 0x6d) // a 3-entry map cut off inside its first key
      : encodeCbor({ fmt, attStmt: attStmt as CborValue, authData });

    const clientExtensionResults: AuthenticationExtensionsClientOutputs = {};
    if (options.extensions?.credProps) clientExtensionResults.credProps = { rk: credential.discoverable };

    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: base64url(clientDataJSON),
        attestationObject: base64url(attestationObject),
        authenticatorData: base64url(authData),
        transports: this.transports,
        publicKeyAlgorithm: ES256,
        publicKey: base64url(publicKey.export({ format: 'der', type: 'spki' })),
      },
      authenticatorAttachment: this.attachment,
      clientExtensionResults,
    };
  }

  /**
   * navigator.credentials.get(). With allowCredentials it uses one of those; without,
   * a discoverable credential for the RP ID (the first, unless `credentialId` picks one).
   */
  getAssertion(options: PublicKeyCredentialRequestOptionsJSON, ceremony: AssertionCeremony): AuthenticationResponseJSON {
    const { origin, overrides = {} } = ceremony;
    const rpId = options.rpId ?? new URL(origin).hostname;
    const allowed = new Set((options.allowCredentials ?? []).map((descriptor) => descriptor.id));
    const eligible = this.credentials.filter(
      (credential) =>
        credential.rpId === rpId && (allowed.size > 0 ? allowed.has(credential.id) : credential.discoverable),
    );
    const credential = ceremony.credentialId
      ? eligible.find((candidate) => candidate.id === ceremony.credentialId)
      : eligible[0];
    if (!credential) {
      throw new DOMException(`No eligible credential for RP ID ${rpId}`, 'NotAllowedError');
    }
    const userVerified = this.performUserVerification(options.userVerification);

    credential.signCount = overrides.signCount ?? credential.signCount + 1;
    const authData = this.authenticatorData(rpId, userVerified, credential.signCount, overrides);
    const clientDataJSON = encodeClientData(
      { type: 'webauthn.get', challenge: options.challenge, origin, topOrigin: ceremony.topOrigin },
      overrides,
    );
    let signature: Uint8Array = sign('sha256', concat(authData, sha256(clientDataJSON)), credential.privateKey);
    if (overrides.corruptSignature) signature = corrupt(signature);

    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: base64url(clientDataJSON),
        authenticatorData: base64url(authData),
        signature: base64url(signature),
        // CTAP2 returns the user handle only for discoverable credentials.
        ...(credential.discoverable ? { userHandle: credential.userHandle } : {}),
      },
      authenticatorAttachment: this.attachment,
      clientExtensionResults: {},
    };
  }

  private get attachment(): 'platform' | 'cross-platform' {
    return this.transports.includes('internal') ? 'platform' : 'cross-platform';
  }

  private performUserVerification(requirement: string | undefined): boolean {
    if (requirement === 'required' && !this.canVerifyUser) {
      throw new DOMException('User verification is required but the authenticator cannot do it', 'NotAllowedError');
    }
    return this.canVerifyUser && requirement !== 'discouraged';
  }

  /** rpIdHash ‖ flags ‖ signCount ‖ attestedCredentialData (WebAuthn §6.1). */
  private authenticatorData(
    rpId: string,
    userVerified: boolean,
    signCount: number,
    overrides: AuthenticatorDataOverrides,
    attestedCredentialData?: Uint8Array,
  ): Uint8Array {
    let flags = 0;
    if (overrides.userPresent ?? true) flags |= FLAG_UP;
    if (overrides.userVerified ?? userVerified) flags |= FLAG_UV;
    if (this.backupEligible) flags |= FLAG_BE | FLAG_BS;
    if (attestedCredentialData) flags |= FLAG_AT;
    const prefix = concat(sha256(overrides.rpIdHashOf ?? rpId), Uint8Array.of(flags), uint32(signCount));
    return attestedCredentialData ? concat(prefix, attestedCredentialData) : prefix;
  }

  /** WebAuthn §8.2: self attestation signs with the credential key, full attestation with the certificate's key. */
  private packedStatement(
    authData: Uint8Array,
    clientDataHash: Uint8Array,
    credentialKey: KeyObject,
    overrides: AuthenticatorDataOverrides,
  ): Record<string, unknown> {
    const full = this.attestation === 'packed-full' ? this.attestationCert : undefined;
    let sig: Uint8Array = sign('sha256', concat(authData, clientDataHash), full?.privateKey ?? credentialKey);
    if (overrides.corruptSignature) sig = corrupt(sig);
    if (!full) return { alg: ES256, sig };
    return { alg: ES256, sig, x5c: [full.certDer, ...(full.intermediates ?? [])] };
  }
}

// --- Test PKI ---------------------------------------------------------------------------------

export interface TestCertificate {
  certDer: Uint8Array<ArrayBuffer>;
  certPem: string;
  privateKey: KeyObject;
  /** The same key as a WebCrypto key, to issue certificates with. */
  signingKey: CryptoKey;
  name: string;
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const ID_FIDO_GEN_CE_AAGUID = '1.3.6.1.4.1.45724.1.1.4';
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateRequest {
  /** An X.500 name such as 'C=PL, O=Warta Test, CN=Test Root'. */
  subject: string;
  /** Issue a CA certificate (basicConstraints CA=true). */
  ca?: boolean;
  /** Adds id-fido-gen-ce-aaguid with this AAGUID. */
  aaguid?: Uint8Array | string;
  notBefore?: Date;
  notAfter?: Date;
}

/** A self-signed root CA (P-256, ECDSA-SHA256). */
export async function createTestRootCa(request: CertificateRequest): Promise<TestCertificate> {
  const keys = await generateSigningKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    ...certificateFields({ ...request, ca: true }),
    name: request.subject,
    keys,
    signingAlgorithm: EC_P256,
  });
  return toTestCertificate(cert, keys.privateKey, request.subject);
}

/** A certificate for a fresh P-256 key, signed by `issuer`. */
export async function issueTestCertificate(issuer: TestCertificate, request: CertificateRequest): Promise<TestCertificate> {
  const keys = await generateSigningKeys();
  const cert = await x509.X509CertificateGenerator.create({
    ...certificateFields(request),
    subject: request.subject,
    issuer: issuer.name,
    publicKey: keys.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: EC_P256,
  });
  return toTestCertificate(cert, keys.privateKey, request.subject);
}

/**
 * A root CA and a packed attestation leaf under it that meets WebAuthn §8.2.1:
 * version 3, C/O/CN present, OU "Authenticator Attestation", CA=false, and a
 * non-critical id-fido-gen-ce-aaguid extension holding the AAGUID.
 */
export async function createTestAttestationCa(opts: {
  aaguid: Uint8Array | string;
  rootName?: string;
}): Promise<{ root: TestCertificate; leaf: TestCertificate }> {
  const root = await createTestRootCa({ subject: opts.rootName ?? 'C=PL, O=Warta Test, CN=Warta Test Attestation Root' });
  const leaf = await issueTestCertificate(root, {
    subject: 'C=PL, O=Warta Test, OU=Authenticator Attestation, CN=Warta Soft Authenticator',
    aaguid: opts.aaguid,
  });
  return { root, leaf };
}

function certificateFields(request: CertificateRequest) {
  const now = Date.now();
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(request.ca ?? false, undefined, true)];
  if (request.ca) {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  }
  if (request.aaguid !== undefined) {
    // extnValue is a DER OCTET STRING wrapping the 16 AAGUID bytes.
    extensions.push(new x509.Extension(ID_FIDO_GEN_CE_AAGUID, false, Uint8Array.of(0x04, 16, ...toAaguidBytes(request.aaguid))));
  }
  return {
    notBefore: request.notBefore ?? new Date(now - DAY_MS),
    notAfter: request.notAfter ?? new Date(now + 365 * DAY_MS),
    extensions,
  };
}

function generateSigningKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

function toTestCertificate(cert: x509.X509Certificate, signingKey: CryptoKey, name: string): TestCertificate {
  return {
    certDer: new Uint8Array(cert.rawData),
    certPem: cert.toString('pem'),
    privateKey: KeyObject.from(signingKey),
    signingKey,
    name,
  };
}

// --- Encoding helpers -------------------------------------------------------------------------

function encodeClientData(
  clientData: { type: string; challenge: string; origin: string; topOrigin: string | undefined },
  overrides: ClientDataOverrides,
): Uint8Array {
  const { topOrigin } = clientData;
  return new TextEncoder().encode(
    JSON.stringify({
      type: overrides.type ?? clientData.type,
      challenge: overrides.challenge ?? clientData.challenge,
      origin: overrides.origin ?? clientData.origin,
      crossOrigin: topOrigin !== undefined,
      ...(topOrigin === undefined ? {} : { topOrigin }),
    }),
  );
}

/** COSE_Key for an EC2 P-256 ES256 key (RFC 9053 §7.1). */
function encodeCosePublicKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  return encodeCbor(
    new Map<CborValue, CborValue>([
      [1, 2], // kty: EC2
      [3, ES256], // alg
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]),
  );
}

/** Flip a bit in the last byte: still well-formed DER, no longer a valid signature. */
function corrupt(signature: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(signature);
  copy[copy.length - 1] = copy[copy.length - 1]! ^ 0x01;
  return copy;
}

function toAaguidBytes(aaguid: Uint8Array | string): Uint8Array {
  const bytes = typeof aaguid === 'string' ? uuidToBytes(aaguid) : aaguid;
  if (bytes.length !== 16) throw new Error('An AAGUID is 16 bytes');
  return bytes;
}

function uuidToBytes(uuid: string): Uint8Array {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function bytesToUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const sha256 = (data: Uint8Array | string): Uint8Array => createHash('sha256').update(data).digest();

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

const uint16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);

function uint32(n: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n);
  return bytes;
}
