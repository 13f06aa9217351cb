import { WartaError } from '../errors.js';
import { normalizePassword } from './policy.js';

/**
 * A password field: a non-empty string of at most 1,024 characters, refused
 * before any hashing (a huge password would make argon2 the attacker's tool).
 */
export function readPassword(body: Record<string, unknown>, name = 'password'): string {
  const value = body[name];
  if (value === undefined || value === null || value === '') throw new WartaError(400, 'invalid_request', `${name} is required`);
  if (typeof value !== 'string') throw new WartaError(400, 'invalid_request', `${name} must be a string`);
  normalizePassword(value);
  return value;
}
