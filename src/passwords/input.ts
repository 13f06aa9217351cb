import { WartaError } from '../errors.js';
import { requiredString } from '../http/json-body.js';
import { type Parsed, parse } from '../parsed.js';
import { readTotpCode } from '../totp/input.js';
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


/** A password sign-in as sent. */
export interface PasswordSignInInput {
  /** The username as sent, even in a malformed attempt: it names the account whose failures are counted. */
  username: string | undefined;
  attempt: Parsed<{ username: string; password: string; code: string }>;
}

export function readPasswordSignIn(body: Record<string, unknown>): PasswordSignInInput {
  return {
    username: typeof body.username === 'string' ? body.username : undefined,
    attempt: parse(() => ({ username: requiredString(body, 'username', 320), password: readPassword(body), code: readTotpCode(body) })),
  };
}

export function readPasswordReauthentication(body: Record<string, unknown>): Parsed<{ password: string; code: string }> {
  return parse(() => ({ password: readPassword(body), code: readTotpCode(body) }));
}

export interface PasswordEnrollmentInput {
  invitationToken: string;
  password: string;
  code: string;
}

export function readPasswordEnrollment(body: Record<string, unknown>): PasswordEnrollmentInput {
  return { invitationToken: requiredString(body, 'token', 128), password: readPassword(body), code: readTotpCode(body) };
}
