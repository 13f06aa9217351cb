import { describe, expect, it } from 'vitest';
import { acrSatisfies, claimedAcr, requestedAcrValues, requiredAcr } from '../../../src/oidc/checks/acr.js';
import { ACR_HARDWARE, ACR_MFA, ACR_PHISHING_RESISTANT, ACR_SINGLE_FACTOR, acrFor } from '../../../src/sessions/service.js';

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
    expect(requiredAcr(ACR_PHISHING_RESISTANT, ACR_HARDWARE)).toBe(ACR_HARDWARE);
  });

  it('knows the hardware tier, and a request listing it with phishing-resistant accepts either', () => {
    expect(requiredAcr(ACR_HARDWARE, null)).toBe(ACR_HARDWARE);
    expect(requiredAcr(`${ACR_HARDWARE} ${ACR_PHISHING_RESISTANT}`, null)).toBe(ACR_PHISHING_RESISTANT);
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

  it('puts hardware above phishing-resistant: a request for phishing-resistant accepts it, one for hardware refuses a synced passkey', () => {
    expect(acrSatisfies(ACR_HARDWARE, ACR_PHISHING_RESISTANT)).toBe(true);
    expect(acrSatisfies(ACR_HARDWARE, ACR_HARDWARE)).toBe(true);
    expect(acrSatisfies(ACR_PHISHING_RESISTANT, ACR_HARDWARE)).toBe(false);
    expect(acrSatisfies(ACR_MFA, ACR_HARDWARE)).toBe(false);
  });
});

describe('acrFor', () => {
  it('gives hardware to a device-bound passkey (hwk), phishing-resistant to a synced one (swk)', () => {
    expect(acrFor(['hwk', 'user'])).toBe(ACR_HARDWARE);
    expect(acrFor(['swk', 'user'])).toBe(ACR_PHISHING_RESISTANT);
  });

  it('never goes above the ceiling of the passkey used, and treats an unknown ceiling as single-factor (fail closed)', () => {
    expect(acrFor(['hwk', 'user'], ACR_MFA)).toBe(ACR_MFA);
    expect(acrFor(['swk', 'user'], ACR_HARDWARE)).toBe(ACR_PHISHING_RESISTANT);
    expect(acrFor(['hwk', 'user'], 'urn:other:gold')).toBe(ACR_SINGLE_FACTOR);
  });
});

describe('claimedAcr', () => {
  it('claims the strongest requested value the session meets, never one the client did not list', () => {
    expect(claimedAcr(ACR_HARDWARE, [ACR_PHISHING_RESISTANT])).toBe(ACR_PHISHING_RESISTANT);
    expect(claimedAcr(ACR_HARDWARE, [ACR_MFA, ACR_PHISHING_RESISTANT])).toBe(ACR_PHISHING_RESISTANT);
    expect(claimedAcr(ACR_HARDWARE, [ACR_PHISHING_RESISTANT, ACR_HARDWARE])).toBe(ACR_HARDWARE);
    expect(claimedAcr(ACR_MFA, [ACR_MFA, ACR_PHISHING_RESISTANT])).toBe(ACR_MFA);
  });

  it('claims the session\'s own acr when the client listed nothing, or nothing it meets', () => {
    expect(claimedAcr(ACR_HARDWARE, [])).toBe(ACR_HARDWARE);
    expect(claimedAcr(ACR_MFA, [ACR_PHISHING_RESISTANT])).toBe(ACR_MFA);
  });

  it('counts the client\'s registered requirement as requested, and ignores unknown values', () => {
    expect(requestedAcrValues(`${ACR_MFA} urn:example:gold`, ACR_PHISHING_RESISTANT)).toEqual([ACR_MFA, ACR_PHISHING_RESISTANT]);
    expect(requestedAcrValues(undefined, null)).toEqual([]);
  });
});
