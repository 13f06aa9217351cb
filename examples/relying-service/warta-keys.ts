/**
 * Warta's public keys, for every token it signs (access tokens, logout tokens,
 * SETs): one cached key set per process.
 */
import { createRemoteJWKSet, errors } from 'jose';

export type WartaKeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * jose keeps the JWKS and fetches it again when a token names a kid it does not
 * hold (Warta publishes a rotated key before signing with it, and an emergency
 * rotation signs with the new key at once), but at most once per `cooldownSeconds`:
 * a flood of tokens with made-up kids costs Warta one request per period.
 */
export function wartaKeySet(jwksUri: string, cooldownSeconds: number): WartaKeySet {
  return createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: cooldownSeconds * 1000 });
}

/** The token may be fine: Warta's JWKS could not be read (network, time-out, not a 200), so nothing can be decided now. */
export function keySetUnavailable(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error.code === 'ERR_JOSE_GENERIC';
}

export class KeySetUnavailable extends Error {
  constructor() {
    super('Warta’s signing keys could not be read; try again later');
  }
}
