import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { COSEALG } from '@simplewebauthn/server/helpers';
import type { Config } from '../config.js';
import type { WebauthnCredential } from '../db/schema.js';
import type { AttestationPolicy } from './metadata.js';

/** ES256 (every authenticator), EdDSA, RS256 (Windows Hello), in that order of preference. */
export const SUPPORTED_ALGORITHMS = [COSEALG.ES256, COSEALG.EdDSA, COSEALG.RS256];

type RpConfig = Pick<Config, 'webauthn'>;

const descriptor = (credential: Pick<WebauthnCredential, 'credential_id' | 'transports'>) => ({ id: credential.credential_id, transports: credential.transports });

/** navigator.credentials.create() options; every security parameter is set here, none left to defaults. */
export function creationOptions(
  config: RpConfig,
  input: { challenge: string; userHandle: string; userName: string; displayName: string; exclude: WebauthnCredential[]; attestation: AttestationPolicy },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: config.webauthn.rpName,
    rpID: config.webauthn.rpId,
    userID: Buffer.from(input.userHandle, 'base64url'),
    userName: input.userName,
    userDisplayName: input.displayName,
    challenge: Buffer.from(input.challenge, 'base64url'),
    timeout: config.webauthn.challengeTtlSeconds * 1000,
    attestationType: input.attestation.attestation,
    excludeCredentials: input.exclude.map(descriptor),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
}

/**
 * navigator.credentials.get() options; an empty `allow` list asks for a discoverable credential (usernameless).
 * Built here rather than by the library: the challenge is already base64url, and this runs on every sign-in.
 */
export function requestOptions(config: RpConfig, input: { challenge: string; allow: Pick<WebauthnCredential, 'credential_id' | 'transports'>[] }): PublicKeyCredentialRequestOptionsJSON {
  return {
    rpId: config.webauthn.rpId,
    challenge: input.challenge,
    allowCredentials: input.allow.map((credential) => ({ ...descriptor(credential), type: 'public-key' as const })),
    timeout: config.webauthn.challengeTtlSeconds * 1000,
    userVerification: 'required',
  };
}
