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
}

export const DEFAULT_POLICY: OrganisationPolicy = {
  attestation: 'none',
  allowedAaguids: [],
  allowPasswords: true,
  allowTotp: true,
  passkeyRequiredRoles: ['recovery_officer', 'admin'],
};

export function resolvePolicy(stored: Record<string, unknown> | null | undefined): OrganisationPolicy {
  return { ...DEFAULT_POLICY, ...(stored ?? {}) } as OrganisationPolicy;
}
