/**
 * Proof Key for Code Exchange (RFC 7636), S256 only, required for every client.
 *
 * RFC 9700 §2.1.1 makes PKCE the default defence against authorization code injection
 * for confidential clients too, and says the `plain` method must not be relied upon;
 * since RFC 7636 §4.3 makes `plain` the default when `code_challenge_method` is absent,
 * a missing method is refused as well.
 *
 * - `checkPkceRequest` runs at the authorization endpoint (RFC 7636 §4.4.1).
 * - `verifyPkce` runs at the token endpoint (RFC 7636 §4.6).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { WartaError, invalidRequest } from '../../errors.js';

/** BASE64URL(SHA-256(...)) is always 43 characters without padding. */
const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** RFC 7636 §4.1: code-verifier = 43*128unreserved; unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export interface PkceRequest {
  codeChallenge: string | null | undefined;
  codeChallengeMethod: string | null | undefined;
}

export interface CheckedPkceRequest {
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

/** Validates the PKCE half of an authorization request; returns what to store with the code. */
export function checkPkceRequest({ codeChallenge, codeChallengeMethod }: PkceRequest): CheckedPkceRequest {
  if (!codeChallenge) {
    throw invalidRequest('code_challenge required: PKCE with S256 is mandatory for every client');
  }
  if (!codeChallengeMethod) {
    // RFC 7636 §4.3: absent means "plain", which we do not accept.
    throw invalidRequest('code_challenge_method required: it must be S256 (plain is not accepted)');
  }
  if (codeChallengeMethod !== 'S256') {
    // RFC 7636 §4.4.1: an unsupported transformation is invalid_request.
    throw invalidRequest(`transform algorithm not supported: code_challenge_method must be S256, not ${quoteForMessage(codeChallengeMethod)}`);
  }
  if (!CODE_CHALLENGE.test(codeChallenge) || !isCanonicalBase64url(codeChallenge)) {
    throw invalidRequest('code_challenge must be the 43-character BASE64URL encoding of a SHA-256 hash');
  }
  return { codeChallenge, codeChallengeMethod: 'S256' };
}

export interface PkceVerification {
  /** The challenge stored with the authorization code (absent if the code was not PKCE-bound). */
  codeChallenge: string | null | undefined;
  /** The `code_verifier` parameter of the token request. */
  codeVerifier: string | null | undefined;
}

/** Proves the token request comes from whoever started the authorization request. */
export function verifyPkce({ codeChallenge, codeVerifier }: PkceVerification): void {
  if (!codeChallenge) {
    // Every code is issued with a challenge; one without is a downgrade attempt or a bug
    // (RFC 9700 §2.1.1 on PKCE downgrade), and either way the grant is unusable.
    throw new WartaError(400, 'invalid_grant', 'authorization code is not bound to a PKCE code_challenge');
  }
  if (!codeVerifier) {
    throw invalidRequest('code_verifier required');
  }
  if (!CODE_VERIFIER.test(codeVerifier)) {
    throw invalidRequest('code_verifier must be 43 to 128 characters from A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)');
  }
  const expected = Buffer.from(createHash('sha256').update(codeVerifier, 'ascii').digest('base64url'), 'ascii');
  const stored = Buffer.from(codeChallenge, 'ascii');
  // Constant time so the comparison leaks nothing about the stored challenge.
  if (expected.length !== stored.length || !timingSafeEqual(expected, stored)) {
    throw new WartaError(400, 'invalid_grant', 'PKCE verification failed: code_verifier does not match code_challenge');
  }
}

/**
 * 43 base64url characters carry 258 bits; a SHA-256 output only fills 256 of them, so the
 * last character of a genuine challenge has its two low bits clear. Anything else could
 * never match a verifier, and accepting it would only store garbage.
 */
function isCanonicalBase64url(value: string): boolean {
  return Buffer.from(value, 'base64url').toString('base64url') === value;
}

function quoteForMessage(value: string): string {
  return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
}
