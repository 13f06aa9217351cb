import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { checkPkceRequest, verifyPkce } from '../../../src/oidc/checks/pkce.js';
import { errorFrom } from '../expect-error.js';

// RFC 7636 Appendix B.
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

describe('checkPkceRequest (RFC 7636 §4.3, §4.4.1)', () => {
  it('accepts an S256 challenge and returns what to store with the code', () => {
    expect(checkPkceRequest({ codeChallenge: RFC_CHALLENGE, codeChallengeMethod: 'S256' })).toEqual({
      codeChallenge: RFC_CHALLENGE,
      codeChallengeMethod: 'S256',
    });
  });

  it.each([undefined, null, ''])('requires a code_challenge from every client (got %o)', (codeChallenge) => {
    const error = errorFrom(() => checkPkceRequest({ codeChallenge, codeChallengeMethod: 'S256' }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.description).toMatch(/code_challenge required/);
  });

  it('refuses a challenge without code_challenge_method, because the default is plain', () => {
    const error = errorFrom(() => checkPkceRequest({ codeChallenge: RFC_CHALLENGE, codeChallengeMethod: undefined }));
    expect(error.code).toBe('invalid_request');
    expect(error.description).toMatch(/code_challenge_method required/);
  });

  it('refuses the plain method', () => {
    const error = errorFrom(() => checkPkceRequest({ codeChallenge: RFC_VERIFIER, codeChallengeMethod: 'plain' }));
    expect(error.code).toBe('invalid_request');
    expect(error.description).toMatch(/transform algorithm not supported/);
  });

  it.each(['s256', 'S512', 'SHA256'])('refuses the unknown method %o (method names are case-sensitive)', (method) => {
    expect(errorFrom(() => checkPkceRequest({ codeChallenge: RFC_CHALLENGE, codeChallengeMethod: method })).code).toBe(
      'invalid_request',
    );
  });

  it.each([
    ['42 characters', RFC_CHALLENGE.slice(0, 42)],
    ['44 characters', `${RFC_CHALLENGE}A`],
    ['padding', `${RFC_CHALLENGE.slice(0, 42)}=`],
    ['base64 (not url) alphabet', `${RFC_CHALLENGE.slice(0, 41)}+/`],
    ['a 43-character verifier instead of its hash, with "."', `${RFC_VERIFIER.slice(0, 42)}.`],
  ])('refuses a malformed code_challenge (%s)', (_, codeChallenge) => {
    const error = errorFrom(() => checkPkceRequest({ codeChallenge, codeChallengeMethod: 'S256' }));
    expect(error.code).toBe('invalid_request');
    expect(error.description).toMatch(/43-character BASE64URL/);
  });

  it('refuses a 43-character value that no SHA-256 output encodes to (non-canonical last character)', () => {
    // 'M' ends in bits ..00 as a 256-bit value requires; 'N' sets a bit beyond the 256th.
    const codeChallenge = `${RFC_CHALLENGE.slice(0, 42)}N`;
    expect(errorFrom(() => checkPkceRequest({ codeChallenge, codeChallengeMethod: 'S256' })).code).toBe('invalid_request');
  });
});

describe('verifyPkce (RFC 7636 §4.5, §4.6)', () => {
  it('accepts the RFC 7636 Appendix B verifier for its challenge', () => {
    expect(() => verifyPkce({ codeChallenge: RFC_CHALLENGE, codeVerifier: RFC_VERIFIER })).not.toThrow();
  });

  it('rejects a verifier that does not hash to the challenge with invalid_grant', () => {
    const error = errorFrom(() => verifyPkce({ codeChallenge: RFC_CHALLENGE, codeVerifier: `${RFC_VERIFIER.slice(0, 42)}A` }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_grant');
  });

  it('rejects the challenge itself sent as the verifier (a plain-method downgrade)', () => {
    expect(errorFrom(() => verifyPkce({ codeChallenge: RFC_CHALLENGE, codeVerifier: RFC_CHALLENGE })).code).toBe('invalid_grant');
  });

  it.each([undefined, null, ''])('requires a code_verifier (got %o)', (codeVerifier) => {
    const error = errorFrom(() => verifyPkce({ codeChallenge: RFC_CHALLENGE, codeVerifier }));
    expect(error.code).toBe('invalid_request');
    expect(error.description).toMatch(/code_verifier required/);
  });

  it('rejects a code exchange for a code that carries no challenge (PKCE downgrade)', () => {
    const error = errorFrom(() => verifyPkce({ codeChallenge: undefined, codeVerifier: RFC_VERIFIER }));
    expect(error.code).toBe('invalid_grant');
  });

  it('accepts verifiers of exactly 43 and 128 characters using every unreserved character', () => {
    const short = 'abcXYZ019-._~'.padEnd(43, 'q');
    const long = 'abcXYZ019-._~'.padEnd(128, 'Q');
    expect(() => verifyPkce({ codeChallenge: challengeOf(short), codeVerifier: short })).not.toThrow();
    expect(() => verifyPkce({ codeChallenge: challengeOf(long), codeVerifier: long })).not.toThrow();
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['129 characters', 'a'.repeat(129)],
    ['a space', `${'a'.repeat(42)} `],
    ['"+"', `${'a'.repeat(42)}+`],
    ['"/"', `${'a'.repeat(42)}/`],
    ['"="', `${'a'.repeat(42)}=`],
    ['a non-ASCII letter', `${'a'.repeat(42)}é`],
  ])('rejects a verifier with %s even when its hash matches', (_, codeVerifier) => {
    const error = errorFrom(() => verifyPkce({ codeChallenge: challengeOf(codeVerifier), codeVerifier }));
    expect(error.code).toBe('invalid_request');
    expect(error.description).toMatch(/43 to 128 characters/);
  });

  it('fails as invalid_grant, not with a crash, when the stored challenge has an unexpected length', () => {
    expect(errorFrom(() => verifyPkce({ codeChallenge: 'short', codeVerifier: RFC_VERIFIER })).code).toBe('invalid_grant');
  });
});
