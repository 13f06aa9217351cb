/**
 * The checks of WebAuthn §7.1 (registration) and §7.2 (authentication) that
 * Warta makes itself, each small and named, before the library verifies the
 * signatures. Doing them here gives each failure its own stable error code (the
 * library only throws messages) and keeps the security parameters visible.
 */
import { createHash } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { type AttestationObject, decodeAttestationObject, type ParsedAuthenticatorData, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { MAX_ISSUED_TOKEN_LENGTH } from '../crypto/random.js';
import { WartaError } from '../errors.js';

const BASE64URL = /^[A-Za-z0-9_-]*$/;
// Generous bounds: credential IDs are at most 1023 bytes (§5.8.3); attestation objects with certificate chains stay well under 16 KiB.
const MAX_FIELD = 32 * 1024;

export const malformed = (description: string) => new WartaError(400, 'malformed_response', description);

function base64urlField(object: Record<string, unknown>, name: string, where: string, optional = false): string | undefined {
  const value = object[name];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FIELD || !BASE64URL.test(value)) throw malformed(`${where}.${name} must be a base64url string`);
  return value;
}

function credentialEnvelope(value: unknown): { id: string; response: Record<string, unknown>; raw: Record<string, unknown> } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new WartaError(400, 'invalid_request', 'credential must be a PublicKeyCredential as JSON (the result of startRegistration/startAuthentication)');
  const raw = value as Record<string, unknown>;
  const id = base64urlField(raw, 'id', 'credential')!;
  if (raw.rawId !== id) throw malformed('credential.rawId must equal credential.id');
  if (raw.type !== 'public-key') throw malformed('credential.type must be "public-key"');
  const response = raw.response;
  if (response === null || typeof response !== 'object' || Array.isArray(response)) throw malformed('credential.response must be an object');
  return { id, response: response as Record<string, unknown>, raw };
}

/** The body's credential as a registration response, with every field the verifier reads type-checked. */
export function readRegistrationResponse(value: unknown): RegistrationResponseJSON {
  const { response, raw } = credentialEnvelope(value);
  base64urlField(response, 'clientDataJSON', 'credential.response');
  base64urlField(response, 'attestationObject', 'credential.response');
  const transports = response.transports;
  if (transports !== undefined && (!Array.isArray(transports) || transports.length > 10 || !transports.every((t) => typeof t === 'string' && t.length <= 32)))
    throw malformed('credential.response.transports must be a list of transport names');
  return raw as unknown as RegistrationResponseJSON;
}

export function readAuthenticationResponse(value: unknown): AuthenticationResponseJSON {
  const { response, raw } = credentialEnvelope(value);
  base64urlField(response, 'clientDataJSON', 'credential.response');
  base64urlField(response, 'authenticatorData', 'credential.response');
  base64urlField(response, 'signature', 'credential.response');
  if (response.userHandle !== null) base64urlField(response, 'userHandle', 'credential.response', true);
  return raw as unknown as AuthenticationResponseJSON;
}

export interface ClientData {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin: boolean;
  topOrigin: string | undefined;
  /** The decoded bytes: an assertion's signature covers their SHA-256. */
  json: Buffer;
}

/** §7.1 steps 5–6 / §7.2 steps 9–10: clientDataJSON is UTF-8 JSON with string type, challenge and origin. */
export function readClientData(clientDataJSON: string): ClientData {
  const json = Buffer.from(clientDataJSON, 'base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    throw malformed('clientDataJSON is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object') throw malformed('clientDataJSON is not a JSON object');
  const data = parsed as Record<string, unknown>;
  if (typeof data.type !== 'string' || typeof data.challenge !== 'string' || typeof data.origin !== 'string')
    throw malformed('clientDataJSON lacks type, challenge or origin');
  if (!BASE64URL.test(data.challenge) || data.challenge.length === 0 || data.challenge.length > MAX_ISSUED_TOKEN_LENGTH) throw malformed('clientDataJSON.challenge is not a challenge Warta issued');
  // Token binding (WebAuthn Level 2 §5.8.1) is gone from browsers, but a present member must still be well-formed.
  const tokenBinding = data.tokenBinding;
  if (tokenBinding && (typeof tokenBinding !== 'object' || !['present', 'supported', 'notSupported'].includes((tokenBinding as { status?: unknown }).status as string)))
    throw malformed('clientDataJSON.tokenBinding is malformed');
  return {
    type: data.type,
    challenge: data.challenge,
    origin: data.origin,
    crossOrigin: data.crossOrigin === true,
    topOrigin: typeof data.topOrigin === 'string' ? data.topOrigin : undefined,
    json,
  };
}

/**
 * §7.1 steps 7–9 / §7.2 steps 11–13. The origin is compared exactly with the
 * configured list: this is what makes a passkey useless on a lookalike domain.
 * Warta is never framed (frame-ancestors 'none'), so a cross-origin ceremony is refused.
 */
export function checkClientData(clientData: ClientData, expected: { type: 'webauthn.create' | 'webauthn.get'; origins: readonly string[] }): void {
  if (clientData.type !== expected.type) throw new WartaError(400, 'ceremony_type_mismatch', `expected a ${expected.type} response`);
  if (!expected.origins.includes(clientData.origin)) throw new WartaError(400, 'origin_mismatch', 'this passkey response was made for a different website or app');
  if (clientData.crossOrigin || clientData.topOrigin !== undefined) throw new WartaError(400, 'origin_mismatch', 'passkey ceremonies inside another site’s frame are not accepted');
}

export interface DecodedAttestation {
  object: AttestationObject;
  fmt: string;
  authData: ParsedAuthenticatorData;
}

export function readAttestationObject(attestationObject: string): DecodedAttestation {
  let object: AttestationObject;
  let authData: ParsedAuthenticatorData;
  try {
    object = decodeAttestationObject(Buffer.from(attestationObject, 'base64url'));
    const raw = object.get('authData');
    if (!(raw instanceof Uint8Array)) throw new Error('authData is not a byte string');
    authData = parseAuthenticatorData(raw);
  } catch {
    throw malformed('attestationObject is not a valid CBOR attestation object');
  }
  const fmt = object.get('fmt');
  if (typeof fmt !== 'string') throw malformed('attestationObject has no fmt');
  if (!authData.flags.at || !authData.credentialID || !authData.credentialPublicKey) throw malformed('attestationObject carries no attested credential data');
  // §7.1 step 25: credential IDs are at most 1023 bytes.
  if (authData.credentialID.length > 1023) throw malformed('the credential ID is longer than 1023 bytes');
  return { object, fmt, authData };
}

export function readAuthenticatorData(authenticatorData: Uint8Array<ArrayBuffer>): ParsedAuthenticatorData {
  try {
    return parseAuthenticatorData(authenticatorData);
  } catch {
    throw malformed('authenticatorData is malformed');
  }
}

const rpIdHashes = new Map<string, Buffer>();
const rpIdHash = (rpId: string): Buffer => {
  let hash = rpIdHashes.get(rpId);
  if (!hash) rpIdHashes.set(rpId, (hash = createHash('sha256').update(rpId, 'utf8').digest()));
  return hash;
};

/** §7.1 steps 13–15 / §7.2 steps 15–17: RP ID hash, user present, user verified. */
export function checkAuthenticatorData(authData: ParsedAuthenticatorData, rpId: string): void {
  if (!rpIdHash(rpId).equals(authData.rpIdHash)) throw new WartaError(400, 'rp_id_mismatch', 'this passkey belongs to a different relying party');
  if (!authData.flags.up) throw new WartaError(400, 'user_presence_required', 'the authenticator did not confirm the user was present');
  // Warta asks for user verification in every ceremony; an authenticator that skipped it gives one factor, not two.
  if (!authData.flags.uv) throw new WartaError(400, 'user_verification_required', 'the authenticator did not verify the user (PIN or biometric); use one that can');
}

/** Backup state without backup eligibility is impossible (WebAuthn L3 §6.1, flags BE and BS): such data is refused. */
export function checkBackupFlags(authData: ParsedAuthenticatorData): void {
  if (authData.flags.bs && !authData.flags.be) throw malformed('authenticatorData says backed up (BS) but not backup eligible (BE)');
}
