import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** A bearer token with 256 bits from the CSPRNG, base64url. */
export const newToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/**
 * Longest value that can be a token Warta made with newToken (22 to 43 characters).
 * A longer code, refresh token, session, challenge or client id is unknown
 * without hashing it or asking the database.
 */
export const MAX_ISSUED_TOKEN_LENGTH = 128;

export const newId = (): string => randomUUID();

/**
 * Storage form of a high-entropy token (session id, invitation, code, refresh
 * token). A plain SHA-256 suffices because the input cannot be guessed; values a
 * human could pick, or that must not be checkable offline, use keyedHash.
 */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');

export const keyedHash = (key: Uint8Array, value: string): string => createHmac('sha256', key).update(value, 'utf8').digest('base64url');

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
