import { describe, expect, it } from 'vitest';

import { leftHalfHash } from '../../src/oidc/hashes.js';
import type { HalfHashAlg } from '../../src/oidc/hashes.js';
import { errorFrom } from './expect-error.js';

describe('leftHalfHash (OIDC Core §3.1.3.6 at_hash, §3.3.2.11 c_hash)', () => {
  it('reproduces the at_hash of the OIDC Core Appendix A.3 example (RS256)', () => {
    expect(leftHalfHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y', 'RS256')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
  });

  it('reproduces the c_hash of the OIDC Core Appendix A.4 example (RS256)', () => {
    expect(leftHalfHash('Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk', 'RS256')).toBe('LDktKdoQak3Pk0cnXxCltA');
  });

  const token = 'dNZX1hEZ9wBCzNL40Upu646bdzQA';

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
