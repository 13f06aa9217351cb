import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { HALF_HASH_ALGS, leftHalfHash } from '../../src/oidc/hashes.js';
import type { HalfHashAlg } from '../../src/oidc/hashes.js';
import { errorFrom } from './expect-error.js';

/** Independent computation: left-most half of the digest, base64url. */
function reference(value: string, hash: 'sha256' | 'sha384' | 'sha512'): string {
  const digest = createHash(hash).update(Buffer.from(value, 'ascii')).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

describe('leftHalfHash (OIDC Core §3.1.3.6 at_hash, §3.3.2.11 c_hash)', () => {
  it('reproduces the at_hash of the OIDC Core Appendix A.3 example (RS256)', () => {
    expect(leftHalfHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y', 'RS256')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
  });

  it('reproduces the c_hash of the OIDC Core Appendix A.4 example (RS256)', () => {
    expect(leftHalfHash('Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk', 'RS256')).toBe('LDktKdoQak3Pk0cnXxCltA');
  });

  const token = 'dNZX1hEZ9wBCzNL40Upu646bdzQA';
  const expectedHash: Record<HalfHashAlg, 'sha256' | 'sha384' | 'sha512'> = {
    ES256: 'sha256',
    RS256: 'sha256',
    PS256: 'sha256',
    ES384: 'sha384',
    RS384: 'sha384',
    PS384: 'sha384',
    ES512: 'sha512',
    RS512: 'sha512',
    PS512: 'sha512',
    EdDSA: 'sha512',
    Ed25519: 'sha512',
  };

  it.each(Object.entries(expectedHash))('hashes with the hash of %s (%s), left half only', (alg, hash) => {
    const result = leftHalfHash(token, alg as HalfHashAlg);
    expect(result).toBe(reference(token, hash));
    // Half of 32/48/64 bytes is 16/24/32 bytes: 22/32/43 base64url characters, unpadded.
    expect(result).toHaveLength({ sha256: 22, sha384: 32, sha512: 43 }[hash]);
  });

  it('lists exactly the algorithms it supports', () => {
    expect([...HALF_HASH_ALGS].sort()).toEqual(Object.keys(expectedHash).sort());
  });

  it.each(['HS256', 'none', 'ES256K', 'toString', ''])('refuses the unsupported alg %o as a server error', (alg) => {
    const error = errorFrom(() => leftHalfHash(token, alg as HalfHashAlg));
    expect(error.status).toBe(500);
    expect(error.code).toBe('server_error');
  });

  it('refuses to hash a value that is not ASCII', () => {
    const error = errorFrom(() => leftHalfHash('tökén', 'RS256'));
    expect(error.status).toBe(500);
  });
});
