import { describe, expect, it } from 'vitest';
import { type AuthenticationState, signInNeeded } from '../../../src/oidc/checks/authentication.js';
import { ACR_MFA, ACR_PHISHING_RESISTANT } from '../../../src/sessions/service.js';

const now = new Date('2026-01-01T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
const state = (overrides: Partial<AuthenticationState>): AuthenticationState => ({
  session: { auth_time: minutesAgo(10), acr: ACR_PHISHING_RESISTANT },
  prompt: [],
  maxAge: undefined,
  requiredAcr: undefined,
  now,
  requestedAt: undefined,
  ...overrides,
});

describe('signInNeeded (OIDC Core §3.1.2.3)', () => {
  it('needs a session', () => {
    expect(signInNeeded(state({ session: undefined }))).toBe('no_session');
    expect(signInNeeded(state({}))).toBeUndefined();
  });

  it('forces re-authentication for prompt=login and select_account, satisfied by a sign-in after the request', () => {
    expect(signInNeeded(state({ prompt: ['login'] }))).toBe('prompt_login');
    expect(signInNeeded(state({ prompt: ['select_account'] }))).toBe('prompt_login');
    expect(signInNeeded(state({ prompt: ['login'], requestedAt: minutesAgo(11) }))).toBeUndefined();
    expect(signInNeeded(state({ prompt: ['login'], requestedAt: minutesAgo(9) }))).toBe('prompt_login');
  });

  it('re-authenticates when more than max_age seconds have passed', () => {
    expect(signInNeeded(state({ maxAge: 600 }))).toBeUndefined();
    expect(signInNeeded(state({ maxAge: 599 }))).toBe('max_age');
    expect(signInNeeded(state({ maxAge: 0, requestedAt: minutesAgo(11) }))).toBeUndefined();
  });

  it('steps up a session below the required acr, even right after a sign-in', () => {
    expect(signInNeeded(state({ session: { auth_time: minutesAgo(1), acr: ACR_MFA }, requiredAcr: ACR_PHISHING_RESISTANT }))).toBe('acr');
    expect(signInNeeded(state({ session: { auth_time: minutesAgo(1), acr: ACR_MFA }, requiredAcr: ACR_PHISHING_RESISTANT, requestedAt: minutesAgo(2) }))).toBe('acr');
    expect(signInNeeded(state({ requiredAcr: ACR_PHISHING_RESISTANT }))).toBeUndefined();
  });
});
