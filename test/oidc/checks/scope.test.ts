import { describe, expect, it } from 'vitest';
import { checkNarrowedScope, checkRequestedScope } from '../../../src/oidc/checks/scope.js';
import { errorFrom } from '../expect-error.js';

describe('checkRequestedScope (RFC 6749 §3.3)', () => {
  it('returns the requested scopes, deduplicated in order, when all are registered', () => {
    expect(checkRequestedScope('openid email openid', 'openid profile email')).toEqual(['openid', 'email']);
    expect(checkRequestedScope(undefined, 'openid')).toEqual([]);
  });

  it('refuses any scope the client is not registered for with invalid_scope', () => {
    expect(errorFrom(() => checkRequestedScope('openid admin', 'openid profile'))).toMatchObject({ status: 400, code: 'invalid_scope' });
  });
});

describe('checkNarrowedScope (RFC 6749 §6)', () => {
  it('keeps the granted scope by default and allows narrowing, never widening', () => {
    expect(checkNarrowedScope(undefined, 'openid email')).toEqual(['openid', 'email']);
    expect(checkNarrowedScope('email', 'openid email')).toEqual(['email']);
    expect(errorFrom(() => checkNarrowedScope('openid profile', 'openid email')).code).toBe('invalid_scope');
  });
});
