import { describe, expect, it } from 'vitest';
import { consentNeeded } from '../../../src/oidc/checks/consent.js';

describe('consentNeeded (OIDC Core §3.1.2.4)', () => {
  it('skips first-party clients unless prompt=consent', () => {
    expect(consentNeeded({ firstParty: true, prompt: [], scopes: ['openid', 'email'], consentedScope: undefined })).toBe(false);
    expect(consentNeeded({ firstParty: true, prompt: ['consent'], scopes: ['openid'], consentedScope: undefined })).toBe(true);
  });

  it('asks a third-party client until a stored consent covers every requested scope', () => {
    expect(consentNeeded({ firstParty: false, prompt: [], scopes: ['openid'], consentedScope: undefined })).toBe(true);
    expect(consentNeeded({ firstParty: false, prompt: [], scopes: ['openid', 'email'], consentedScope: 'openid email profile' })).toBe(false);
    expect(consentNeeded({ firstParty: false, prompt: [], scopes: ['openid', 'offline_access'], consentedScope: 'openid email' })).toBe(true);
    expect(consentNeeded({ firstParty: false, prompt: ['consent'], scopes: ['openid'], consentedScope: 'openid' })).toBe(true);
  });
});
