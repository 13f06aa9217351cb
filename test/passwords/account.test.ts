import * as argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';
import { codeAt, freshIp, GOOD_PASSWORD, givePasskey, givePasswordAndTotp } from './support.js';

const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true' } });
const { request } = testClient(runtime);

const hashOf = async (userId: string) => (await runtime.db.selectFrom('password_credentials').select('hash').where('user_id', '=', userId).executeTakeFirst())?.hash;
const auditOf = (action: string, userId: string) => runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('subject', '=', `user:${userId}`).orderBy('id').execute();

async function signedIn(options: Parameters<typeof createTestUser>[1] = {}) {
  const user = await createTestUser(runtime, options);
  const cookie = await sessionCookie(runtime, user);
  const putPassword = (json: unknown) => request('/api/account/password', { method: 'PUT', cookie, json });
  return { user, cookie, putPassword };
}

describe('setting a password', () => {
  it('stores an argon2id hash at the configured parameters, and never the password', async () => {
    const { user, putPassword } = await signedIn();
    const res = await putPassword({ password: GOOD_PASSWORD });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'set' });
    const hash = (await hashOf(user.id))!;
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(hash).toContain('m=19456');
    expect(hash).toContain('t=2');
    expect(hash).not.toContain(GOOD_PASSWORD);
    expect(await argon2.verify(hash, GOOD_PASSWORD)).toBe(true);
    const [audit] = await auditOf('password.set', user.id);
    expect(JSON.stringify(audit)).not.toContain(GOOD_PASSWORD);
  });

  it('hashes the NFKC form, so the same password typed differently still signs in', async () => {
    const { user, putPassword } = await signedIn();
    const { secret } = await givePasswordAndTotp(runtime, user, 'placeholder password');
    const composed = 'Zażółć gęślą jaźń, ﬁnally';
    expect((await putPassword({ password: composed.normalize('NFD') })).status).toBe(200);
    const res = await request('/api/signin/password', { method: 'POST', json: { username: user.username, password: composed.replace('ﬁ', 'fi').normalize('NFC'), code: codeAt(secret, runtime.clock) }, headers: { 'x-forwarded-for': freshIp() } });
    expect(res.status).toBe(200);
  });

  it('refuses passwords the rules forbid, with a stable code each, and stores nothing', async () => {
    const { user, putPassword } = await signedIn();
    const local = user.username.split('@')[0]!;
    const cases: [unknown, string][] = [
      [{ password: 'seven77' }, 'password_too_short'],
      [{ password: 'password' }, 'password_blocklisted'],
      [{ password: 'Qwertyuiop' }, 'password_blocklisted'],
      [{ password: `my ${local} secret` }, 'password_contains_context'],
      [{ password: 'my warta password' }, 'password_contains_context'],
      [{ password: 'x'.repeat(1025) }, 'password_too_long'],
      [{ password: '' }, 'invalid_request'],
      [{ password: 12345678 }, 'invalid_request'],
      [{}, 'invalid_request'],
    ];
    for (const [json, error] of cases) {
      const res = await putPassword(json);
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error, error_description: expect.any(String) } });
    }
    expect(await hashOf(user.id)).toBeUndefined();
    // Eight characters is enough: a password never signs in without a TOTP code (NIST SP 800-63B: 8 with a second factor).
    expect((await putPassword({ password: 'tulip-37' })).status).toBe(200);
  });

  it('changes the password, signing out the other sessions but not this one', async () => {
    const { user, cookie, putPassword } = await signedIn();
    expect((await putPassword({ password: GOOD_PASSWORD })).status).toBe(200);
    const otherDevice = await sessionCookie(runtime, user);
    const res = await putPassword({ password: 'a completely new phrase' });
    expect(await res.json()).toEqual({ status: 'changed' });
    const sessions = await runtime.db.selectFrom('sessions').select(['revoked_reason']).where('user_id', '=', user.id).orderBy('created_at').execute();
    expect(sessions.map((s) => s.revoked_reason ?? 'active').sort()).toEqual(['active', 'password_changed']);
    expect((await request('/account/password', { cookie })).status).toBe(200);
    expect((await request('/account/password', { cookie: otherDevice })).status).toBe(302);
    expect(await auditOf('password.changed', user.id)).toHaveLength(1);
  });

  it('refuses where the organisation or role does not allow passwords', async () => {
    for (const options of [{ policy: { allowPasswords: false } }, { policy: { allowTotp: false } }, { role: 'admin' as const }]) {
      const { user, putPassword } = await signedIn(options);
      const res = await putPassword({ password: GOOD_PASSWORD });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'passkey_required' });
      expect(await hashOf(user.id)).toBeUndefined();
    }
  });

  it('needs a sign-in or re-authentication within the last 5 minutes', async () => {
    const { user, putPassword, cookie } = await signedIn();
    runtime.clock.advance(301);
    const res = await putPassword({ password: GOOD_PASSWORD });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'reauthentication_required' });
    expect(await hashOf(user.id)).toBeUndefined();
    const page = await request('/account/password', { cookie });
    expect(page.headers.get('location')).toBe('/account/reauth?return_to=%2Faccount%2Fpassword');
    expect((await request('/api/account/password', { method: 'PUT', json: { password: GOOD_PASSWORD } })).status).toBe(401);
  });
});

describe('removing the password', () => {
  it('refuses when it would leave no way to sign in, unless confirmed', async () => {
    const { user, cookie } = await signedIn();
    await givePasswordAndTotp(runtime, user);
    await runtime.db.updateTable('sessions').set({ auth_time: runtime.clock.now() }).where('user_id', '=', user.id).execute();
    const refused = await request('/api/account/password', { method: 'DELETE', cookie });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: 'last_sign_in_method' });
    expect(await hashOf(user.id)).toBeDefined();
    const confirmed = await request('/api/account/password?confirm_last_method=true', { method: 'DELETE', cookie });
    expect(await confirmed.json()).toEqual({ status: 'removed', remaining_sign_in_methods: 0 });
    expect(await hashOf(user.id)).toBeUndefined();
  });

  it('removes it when a passkey remains, audited; a second removal finds nothing', async () => {
    const { user, cookie, putPassword } = await signedIn();
    await givePasskey(runtime, user);
    expect((await putPassword({ password: GOOD_PASSWORD })).status).toBe(200);
    const removed = await request('/api/account/password', { method: 'DELETE', cookie });
    expect(await removed.json()).toEqual({ status: 'removed', remaining_sign_in_methods: 1 });
    expect(await auditOf('password.removed', user.id)).toHaveLength(1);
    const again = await request('/api/account/password', { method: 'DELETE', cookie });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: 'password_not_set' });
  });
});

describe('re-authentication with password and TOTP', () => {
  async function staleSession() {
    const user = await createTestUser(runtime);
    const { secret } = await givePasswordAndTotp(runtime, user);
    const cookie = await sessionCookie(runtime, user, ['hwk', 'user']);
    runtime.clock.advance(600);
    const reauth = (json: unknown) => request('/api/account/reauth/password', { method: 'POST', cookie, json, headers: { 'x-forwarded-for': freshIp() } });
    return { user, cookie, reauth, code: (steps = 0) => codeAt(secret, runtime.clock, steps) };
  }

  it('refreshes auth_time and amr, audited, and unlocks changes for 5 minutes', async () => {
    const { user, cookie, reauth, code } = await staleSession();
    expect((await request('/api/account/password', { method: 'PUT', cookie, json: { password: 'another good phrase' } })).status).toBe(403);
    const res = await reauth({ password: GOOD_PASSWORD, code: code() });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ amr: ['hwk', 'user', 'pwd', 'otp', 'mfa'], acr: 'urn:warta:acr:mfa', auth_time: runtime.clock.now().toISOString() });
    expect(await auditOf('reauth.succeeded', user.id)).toHaveLength(1);
    expect((await request('/api/account/password', { method: 'PUT', cookie, json: { password: 'another good phrase' } })).status).toBe(200);
  });

  it('refuses a wrong password or code with the sign-in answer, counted against the account', async () => {
    const { user, reauth, code } = await staleSession();
    for (const json of [{ password: 'not my password', code: code() }, { password: GOOD_PASSWORD, code: code(5) }, { password: GOOD_PASSWORD, code: 'abc' }]) {
      const res = await reauth(json);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const failed = await auditOf('reauth.failed', user.id);
    expect(failed.map((row) => row.details.reason)).toEqual(['wrong_password', 'wrong_code', 'invalid_code_format']);
    const counters = await runtime.db.selectFrom('rate_limits').select('failures').where('key', 'like', 'signin:account:%').where('updated_at', '=', runtime.clock.now()).execute();
    expect(counters.map((row) => row.failures)).toContain(3);
    const session = await runtime.db.selectFrom('sessions').select('auth_time').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(session.auth_time.getTime()).toBeLessThan(runtime.clock.now().getTime() - 500_000);
  });

  it('needs a session', async () => {
    const res = await request('/api/account/reauth/password', { method: 'POST', json: { password: GOOD_PASSWORD, code: '123456' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'login_required' });
  });

  it('offers the password form to users who have password and TOTP, and the passkey button to users with a passkey', async () => {
    const { user, cookie } = await staleSession();
    const page = await (await request('/account/reauth?return_to=/account/totp', { cookie })).text();
    expect(page).toContain('id="password-reauth"');
    expect(page).toContain('data-next="/account/totp"');
    expect(page).not.toContain('id="passkey-reauth"');
    await givePasskey(runtime, user);
    const withPasskey = await (await request('/account/reauth?return_to=https://evil.example/', { cookie })).text();
    expect(withPasskey).toContain('id="passkey-reauth"');
    expect(withPasskey).toContain('data-next="/account"');
  });
});
