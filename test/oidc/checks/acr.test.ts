import { describe, expect, it } from 'vitest';
import { acrSatisfies, requiredAcr } from '../../../src/oidc/checks/acr.js';
import { ACR_MFA, ACR_PHISHING_RESISTANT, ACR_SINGLE_FACTOR } from '../../../src/sessions/service.js';

describe('requiredAcr', () => {
  it('is the lowest requested value Warta knows: any listed value satisfies the request', () => {
    expect(requiredAcr(ACR_PHISHING_RESISTANT, null)).toBe(ACR_PHISHING_RESISTANT);
    expect(requiredAcr(`${ACR_PHISHING_RESISTANT} ${ACR_MFA}`, null)).toBe(ACR_MFA);
    expect(requiredAcr('urn:other:gold', null)).toBeUndefined();
    expect(requiredAcr(undefined, null)).toBeUndefined();
  });

  it('never drops below what the client is registered to require', () => {
    expect(requiredAcr(undefined, ACR_PHISHING_RESISTANT)).toBe(ACR_PHISHING_RESISTANT);
    expect(requiredAcr(ACR_MFA, ACR_PHISHING_RESISTANT)).toBe(ACR_PHISHING_RESISTANT);
    expect(requiredAcr(ACR_PHISHING_RESISTANT, ACR_MFA)).toBe(ACR_PHISHING_RESISTANT);
  });
});

describe('acrSatisfies', () => {
  it('orders single-factor < mfa < phishing-resistant and treats unknown session values as none', () => {
    expect(acrSatisfies(ACR_PHISHING_RESISTANT, ACR_MFA)).toBe(true);
    expect(acrSatisfies(ACR_MFA, ACR_PHISHING_RESISTANT)).toBe(false);
    expect(acrSatisfies(ACR_SINGLE_FACTOR, ACR_MFA)).toBe(false);
    expect(acrSatisfies('urn:other:gold', ACR_MFA)).toBe(false);
    expect(acrSatisfies(ACR_SINGLE_FACTOR, undefined)).toBe(true);
  });
});
