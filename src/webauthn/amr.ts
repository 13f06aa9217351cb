import type { WebauthnCredential } from '../db/schema.js';

/**
 * RFC 8176 methods for a passkey sign-in. `hwk` for a device-bound key (backup
 * eligibility off: the private key cannot leave the authenticator), `swk` for a
 * synced passkey; `user` because Warta requires user verification. WebAuthn does
 * not say *how* the user was verified (PIN, fingerprint, face), so `pin` and
 * `fpt` are never claimed: the UV flag cannot tell them apart.
 */
export function passkeyAmr(credential: Pick<WebauthnCredential, 'backup_eligible'>, userVerified: boolean): string[] {
  return [credential.backup_eligible ? 'swk' : 'hwk', ...(userVerified ? ['user'] : [])];
}
