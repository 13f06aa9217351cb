import type { Role } from '../db/schema.js';

/**
 * Per-organisation security policy, stored as jsonb on the organisation. Every
 * field has a safe default so an empty `{}` is a valid, strict policy.
 */
export interface OrganisationPolicy {
  /** WebAuthn attestation: `none`, or `direct` with an AAGUID allow-list verified against local FIDO metadata. */
  attestation: 'none' | 'direct';
  allowedAaguids: string[];
  /** Passwords as a first factor (always with TOTP as second). false = passkey-only organisation. */
  allowPasswords: boolean;
  /** TOTP as a second factor. */
  allowTotp: boolean;
  /** Roles that must sign in with a passkey (phishing-resistant). */
  passkeyRequiredRoles: Role[];
  /** TOTP parameters for new enrollments (existing credentials keep theirs). SHA1/6/30 is what every authenticator app supports. */
  totpAlgorithm: 'SHA1' | 'SHA256' | 'SHA512';
  totpDigits: 6 | 7 | 8;
  totpPeriod: number;
  /** Recovery desk names (src/recovery/): officers pick theirs for each action. Empty: officers type the desk's name. */
  recoveryDesks: string[];
  /** The approving officer must sit at a different desk from the one that opened the case. */
  recoveryRequireDifferentDesk: boolean;
  /** How long an opened case waits for a second officer's approval. */
  recoveryCaseTtlHours: number;
  /** How long a recovery code is valid after approval, and how many wrong entries lock its case. */
  recoveryCodeTtlMinutes: number;
  recoveryCodeMaxAttempts: number;
  /** On a completed recovery, revoke every earlier passkey, TOTP, password, refresh token and session. */
  recoveryRevokesOldCredentials: boolean;
  /** Sessions of this organisation's people end after this long without use / this long after sign-in; null: the server's setting. Either can only shorten the server's. */
  sessionIdleMinutes: number | null;
  sessionMaxHours: number | null;
  /** The least security profile of the organisation's OAuth clients (src/clients/security-profile.ts): `fapi2` holds every one of them to FAPI 2.0. */
  clientSecurityProfile: 'baseline' | 'fapi2';
}

export const DEFAULT_POLICY: OrganisationPolicy = {
  attestation: 'none',
  allowedAaguids: [],
  allowPasswords: true,
  allowTotp: true,
  passkeyRequiredRoles: ['recovery_officer', 'admin'],
  totpAlgorithm: 'SHA1',
  totpDigits: 6,
  totpPeriod: 30,
  recoveryDesks: [],
  recoveryRequireDifferentDesk: false,
  recoveryCaseTtlHours: 24,
  recoveryCodeTtlMinutes: 30,
  recoveryCodeMaxAttempts: 5,
  recoveryRevokesOldCredentials: true,
  sessionIdleMinutes: null,
  sessionMaxHours: null,
  clientSecurityProfile: 'baseline',
};

export function resolvePolicy(stored: Record<string, unknown> | null | undefined): OrganisationPolicy {
  return { ...DEFAULT_POLICY, ...(stored ?? {}) } as OrganisationPolicy;
}
