/**
 * Removing a second factor (TOTP, password) or a passkey needs a re-authentication
 * as strong as the strongest way the user signs in (sessions/reauth.ts
 * assertStrongReauthentication): phished password + TOTP must not strip the
 * passkey or the factors that protect the account.
 */
import { describe, expect, it } from 'vitest';
import { ACR_MFA } from '../../src/sessions/service.js';
import { codeAt, GOOD_PASSWORD, givePasswordAndTotp } from '../passwords/support.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';
import { type Browser, browser, enroll, reauthenticate, TEST_ENV } from '../webauthn/ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });
const { request } = testClient(runtime);

const rows = async (userId: string) => ({
  passkeys: (await runtime.db.selectFrom('webauthn_credentials').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute()).length,
  password: (await runtime.db.selectFrom('password_credentials').select('user_id').where('user_id', '=', userId).execute()).length,
  totp: (await runtime.db.selectFrom('totp_credentials').select('user_id').where('user_id', '=', userId).execute()).length,
});
const refusals = (userId: string) => runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'factor_removal.refused').where('subject', '=', `user:${userId}`).execute();

/** A member with a phishing-resistant passkey (invitation), a password and TOTP. */
async function member() {
  const enrolled = await enroll(runtime);
  const user = await runtime.db.selectFrom('users').selectAll().where('id', '=', enrolled.user.id).executeTakeFirstOrThrow();
  const { secret } = await givePasswordAndTotp(runtime, user);
  const passkeyId = (await runtime.db.selectFrom('webauthn_credentials').select('id').where('user_id', '=', user.id).executeTakeFirstOrThrow()).id;
  return { ...enrolled, user, secret, passkeyId };
}

/** A fresh password + TOTP sign-in (what a phishing page yields): acr mfa, authenticated just now. */
async function passwordSession(target: { user: { username: string }; secret: Uint8Array }): Promise<Browser> {
  const b = browser(runtime);
  const reply = await b.post('/api/signin/password', { username: target.user.username, password: GOOD_PASSWORD, code: codeAt(target.secret, runtime.clock) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body.acr).toBe(ACR_MFA);
  runtime.clock.advance(30);
  return b;
}

describe('removing a factor from an account with a phishing-resistant passkey', () => {
  it.each([
    ['the authenticator app', '/api/account/totp?confirm_last_method=true'],
    ['the password', '/api/account/password?confirm_last_method=true'],
  ])('refuses to remove %s after a fresh password + TOTP sign-in, audited, nothing changed', async (_what, path) => {
    const target = await member();
    const attacker = await passwordSession(target);
    const before = await rows(target.user.id);
    const refused = await attacker.call('DELETE', path);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('reauthentication_required');
    expect(await rows(target.user.id)).toEqual(before);
    expect((await refusals(target.user.id)).at(-1)).toMatchObject({ outcome: 'failure', details: expect.objectContaining({ required_acr: 'urn:warta:acr:phishing-resistant', session_acr: ACR_MFA }) });
  });

  it('refuses to remove the last passkey after a fresh password + TOTP sign-in, audited, nothing changed', async () => {
    const target = await member();
    const attacker = await passwordSession(target);
    const refused = await attacker.call('DELETE', `/api/account/passkeys/${target.passkeyId}?confirm_last_method=true`);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('reauthentication_required');
    expect((await rows(target.user.id)).passkeys).toBe(1);
    expect((await refusals(target.user.id)).at(-1)?.details).toMatchObject({ removing: 'passkey' });
  });

  it('refuses a password re-authentication on a passkey session (the latest proof counts, not the earlier passkey)', async () => {
    const target = await member();
    const reauth = await target.client.post('/api/account/reauth/password', { password: GOOD_PASSWORD, code: codeAt(target.secret, runtime.clock) });
    expect(reauth.status, JSON.stringify(reauth.body)).toBe(200);
    expect(reauth.body.acr).toBe(ACR_MFA);
    const refused = await target.client.call('DELETE', '/api/account/totp');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('reauthentication_required');
    expect((await rows(target.user.id)).totp).toBe(1);
  });

  it('refuses a passkey re-authentication older than 5 minutes', async () => {
    const target = await member();
    runtime.clock.advance(301);
    expect((await target.client.call('DELETE', `/api/account/passkeys/${target.passkeyId}?confirm_last_method=true`)).body.error).toBe('reauthentication_required');
    expect((await rows(target.user.id)).passkeys).toBe(1);
  });

  it('removes TOTP and the password after a fresh passkey re-authentication', async () => {
    const target = await member();
    runtime.clock.advance(301);
    expect((await reauthenticate(runtime, target.client, target.authenticator)).status).toBe(200);
    expect((await target.client.call('DELETE', '/api/account/totp')).status).toBe(200);
    expect((await target.client.call('DELETE', '/api/account/password')).status).toBe(200);
    expect(await rows(target.user.id)).toEqual({ passkeys: 1, password: 0, totp: 0 });
  });
});

describe('removing a factor from an account without a phishing-resistant passkey', () => {
  it('accepts a fresh password + TOTP sign-in, the strongest method such a user has', async () => {
    const user = await createTestUser(runtime);
    await givePasswordAndTotp(runtime, user);
    const cookie = await sessionCookie(runtime, user, ['pwd', 'otp', 'mfa']);
    const removed = await request('/api/account/totp?confirm_last_method=true', { method: 'DELETE', cookie });
    expect(removed.status).toBe(200);
    expect((await rows(user.id)).totp).toBe(0);
  });
});
