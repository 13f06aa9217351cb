import { URI } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { codeAt, freshIp, GOOD_PASSWORD, givePasskey, givePassword, givePasswordAndTotp, secretFromDisplay } from '../passwords/support.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient, usingPostgres } from '../support/runtime.js';

const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true' } });
const { request } = testClient(runtime);

interface SetupBody {
  otpauth_uri: string;
  secret: string;
  qr_svg: string;
  algorithm: string;
  digits: number;
  period: number;
  expires_at: string;
}

async function signedIn(options: Parameters<typeof createTestUser>[1] = {}) {
  const user = await createTestUser(runtime, options);
  const cookie = await sessionCookie(runtime, user);
  const api = (path: string, init: { method: string; json?: unknown }) => request(path, { ...init, cookie, headers: { 'x-forwarded-for': freshIp() } });
  const setUp = async () => {
    const res = await api('/api/account/totp/setup', { method: 'POST', json: {} });
    expect(res.status).toBe(200);
    const body = (await res.json()) as SetupBody;
    return { ...body, key: secretFromDisplay(body.secret) };
  };
  const confirm = (code: string) => api('/api/account/totp/confirm', { method: 'POST', json: { code } });
  return { user, cookie, api, setUp, confirm };
}

const credentialOf = (userId: string) => runtime.db.selectFrom('totp_credentials').selectAll().where('user_id', '=', userId).executeTakeFirst();
const auditOf = (action: string, userId: string) => runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('subject', '=', `user:${userId}`).execute();

describe('setting up an authenticator app', () => {
  it('shows a fresh 160-bit secret as otpauth URI, grouped base32 and a QR SVG, with the SHA-1/6/30 defaults', async () => {
    const { user, setUp } = await signedIn();
    const setup = await setUp();
    expect(setup.key).toHaveLength(20);
    expect(setup.secret).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const uri = URI.parse(setup.otpauth_uri);
    expect(uri).toMatchObject({ issuer: 'Warta', label: user.username, algorithm: 'SHA1', digits: 6, period: 30 });
    expect(uri.secret.base32).toBe(setup.secret.replaceAll(' ', ''));
    expect(setup.qr_svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(new Date(setup.expires_at).getTime() - runtime.clock.now().getTime()).toBe(15 * 60 * 1000);
    // Nothing is active until a code proves the app has the secret.
    expect(await credentialOf(user.id)).toBeUndefined();
    const second = await setUp();
    expect(second.secret).not.toBe(setup.secret);
  });

  it('stores the pending secret sealed, never in the clear', async () => {
    const { user, setUp } = await signedIn();
    const setup = await setUp();
    const row = await runtime.db.selectFrom('totp_setups').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.secret_enc).toMatch(/^v1\./);
    expect(row.secret_enc).not.toContain(setup.secret.replaceAll(' ', ''));
    expect(row.secret_enc).not.toContain(Buffer.from(setup.key).toString('base64url'));
    expect(runtime.box.open(row.secret_enc, `totp setup user:${user.id}`)).toEqual(Buffer.from(setup.key));
  });

  it('activates the credential only with a valid code, audited, and seals it under its own id', async () => {
    const { user, setUp, confirm } = await signedIn();
    const setup = await setUp();
    const res = await confirm(codeAt(setup.key, runtime.clock));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'active' });
    const credential = (await credentialOf(user.id))!;
    expect(credential).toMatchObject({ algorithm: 'SHA1', digits: 6, period: 30 });
    expect(runtime.box.open(credential.secret_enc, `totp ${credential.id}`)).toEqual(Buffer.from(setup.key));
    expect(() => runtime.box.open(credential.secret_enc, `totp setup user:${user.id}`)).toThrow();
    expect(await runtime.db.selectFrom('totp_setups').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
    expect(await auditOf('totp.enrolled', user.id)).toHaveLength(1);
    const again = await confirm(codeAt(setup.key, runtime.clock, 1));
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'totp_setup_missing' });
  });

  it('refuses wrong, malformed and missing codes, changing nothing but the failure counter', async () => {
    const { user, setUp, confirm, api } = await signedIn();
    const setup = await setUp();
    const right = codeAt(setup.key, runtime.clock);
    const wrong = right === '000000' ? '111111' : '000000';
    const cases: [unknown, number, string][] = [
      [{ code: wrong }, 400, 'invalid_code'],
      [{ code: '12345' }, 400, 'invalid_code_format'],
      [{ code: '1234567' }, 400, 'invalid_code_format'],
      [{ code: '12345a' }, 400, 'invalid_code_format'],
      [{ code: 'x'.repeat(5000) }, 400, 'invalid_code_format'],
      [{ code: 123456 }, 400, 'invalid_code_format'],
      [{}, 400, 'invalid_request'],
    ];
    for (const [json, status, error] of cases) {
      const res = await api('/api/account/totp/confirm', { method: 'POST', json });
      expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { error, error_description: expect.any(String) } });
    }
    expect(await credentialOf(user.id)).toBeUndefined();
    const counter = await runtime.db.selectFrom('rate_limits').select('failures').where('key', '=', `totp:user:${user.id}`).executeTakeFirstOrThrow();
    expect(counter.failures).toBe(1);
    expect(await auditOf('totp.confirm_failed', user.id)).toHaveLength(1);
    expect((await confirm(right)).status).toBe(200);
  });

  it('expires a set-up left waiting longer than the set-up time', async () => {
    const { user, setUp, confirm } = await signedIn();
    const setup = await setUp();
    runtime.clock.advance(15 * 60);
    // Re-authentication is needed again by now; refresh it so only the set-up's age is tested.
    await runtime.db.updateTable('sessions').set({ auth_time: runtime.clock.now() }).where('user_id', '=', user.id).execute();
    const res = await confirm(codeAt(setup.key, runtime.clock));
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ error: 'totp_setup_expired' });
    expect(await credentialOf(user.id)).toBeUndefined();
  });

  it(`confirms a set-up once when two confirmations race${usingPostgres ? '' : ' (serialised by PGlite)'}`, async () => {
    const { user, setUp, confirm } = await signedIn();
    const setup = await setUp();
    const code = codeAt(setup.key, runtime.clock);
    const results = await Promise.all([confirm(code), confirm(code)]);
    expect(results.map((res) => res.status).sort()).toEqual([200, 409]);
    expect(await runtime.db.selectFrom('totp_credentials').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
    expect(await auditOf('totp.enrolled', user.id)).toHaveLength(1);
  });

  it('uses the organisation TOTP settings for new set-ups', async () => {
    const { setUp, confirm } = await signedIn({ policy: { totpAlgorithm: 'SHA256', totpDigits: 8, totpPeriod: 60 } });
    const setup = await setUp();
    expect(URI.parse(setup.otpauth_uri)).toMatchObject({ algorithm: 'SHA256', digits: 8, period: 60 });
    expect((await confirm(codeAt(setup.key, runtime.clock, 0, { algorithm: 'SHA256', digits: 8, period: 60 }))).status).toBe(200);
  });

  it('refuses set-up where the organisation disallows TOTP, and for roles that must use a passkey', async () => {
    for (const options of [{ policy: { allowTotp: false } }, { role: 'admin' as const }, { role: 'recovery_officer' as const }]) {
      const { user, api } = await signedIn(options);
      const res = await api('/api/account/totp/setup', { method: 'POST', json: {} });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'passkey_required' });
      expect(await runtime.db.selectFrom('totp_setups').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
    }
  });
});

describe('re-authentication before changes', () => {
  it('refuses set-up, confirmation and removal with a session older than 5 minutes, and anonymous callers', async () => {
    const { user, api } = await signedIn();
    runtime.clock.advance(301);
    for (const [path, method] of [['/api/account/totp/setup', 'POST'], ['/api/account/totp/confirm', 'POST'], ['/api/account/totp', 'DELETE']] as const) {
      const res = await api(path, { method, json: method === 'POST' ? { code: '123456' } : undefined });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'reauthentication_required' });
      const anonymous = await request(path, { method, json: method === 'POST' ? { code: '123456' } : undefined });
      expect(anonymous.status).toBe(401);
    }
    expect(await runtime.db.selectFrom('totp_setups').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
  });

  it('sends the page to the sign-in, or to re-authentication, when needed', async () => {
    const anonymous = await request('/account/totp');
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toBe('/signin?return_to=%2Faccount%2Ftotp');
    const { cookie } = await signedIn();
    const fresh = await request('/account/totp', { cookie });
    expect(fresh.status).toBe(200);
    const html = await fresh.text();
    expect(html).toContain('id="totp-start"');
    expect(html).toContain('/static/password-totp.js');
    runtime.clock.advance(301);
    const stale = await request('/account/totp', { cookie });
    expect(stale.status).toBe(302);
    expect(stale.headers.get('location')).toBe('/account/reauth?return_to=%2Faccount%2Ftotp');
  });

  it('renders the page in Polish', async () => {
    const { cookie } = await signedIn();
    const res = await request('/account/totp?lang=pl', { cookie });
    expect(await res.text()).toContain('Skonfiguruj aplikację uwierzytelniającą');
  });
});

describe('replacing and removing the authenticator app', () => {
  it('keeps the old app working until the new one is confirmed, then only the new one', async () => {
    const user = await createTestUser(runtime);
    const { secret: oldKey } = await givePasswordAndTotp(runtime, user);
    const cookie = await sessionCookie(runtime, user);
    const signIn = (code: string) => request('/api/signin/password', { method: 'POST', json: { username: user.username, password: GOOD_PASSWORD, code }, headers: { 'x-forwarded-for': freshIp() } });
    const setupRes = await request('/api/account/totp/setup', { method: 'POST', cookie, json: {} });
    const newKey = secretFromDisplay(((await setupRes.json()) as SetupBody).secret);
    expect((await signIn(codeAt(oldKey, runtime.clock))).status).toBe(200);

    runtime.clock.advance(30);
    const confirmed = await request('/api/account/totp/confirm', { method: 'POST', cookie, json: { code: codeAt(newKey, runtime.clock) } });
    expect(confirmed.status).toBe(200);
    expect(await auditOf('totp.replaced', user.id)).toHaveLength(1);
    runtime.clock.advance(30);
    expect((await signIn(codeAt(oldKey, runtime.clock))).status).toBe(401);
    expect((await signIn(codeAt(newKey, runtime.clock))).status).toBe(200);
    expect(await runtime.db.selectFrom('totp_credentials').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
  });

  it('refuses to remove the app when that leaves no way to sign in, unless confirmed', async () => {
    const user = await createTestUser(runtime);
    await givePasswordAndTotp(runtime, user);
    const cookie = await sessionCookie(runtime, user);
    const refused = await request('/api/account/totp', { method: 'DELETE', cookie });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: 'last_sign_in_method' });
    expect(await credentialOf(user.id)).toBeDefined();
    expect(await auditOf('totp.removed', user.id)).toHaveLength(0);

    const confirmed = await request('/api/account/totp?confirm_last_method=true', { method: 'DELETE', cookie });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toEqual({ status: 'removed', remaining_sign_in_methods: 0 });
    const [audit] = await auditOf('totp.removed', user.id);
    expect(audit!.details).toMatchObject({ remaining_sign_in_methods: 0, last_method_confirmed: true });
  });

  it('removes the app of a user who also has a passkey, and says so when there is none left to remove', async () => {
    const user = await createTestUser(runtime);
    await givePasswordAndTotp(runtime, user);
    await givePasskey(runtime, user);
    const cookie = await sessionCookie(runtime, user);
    const removed = await request('/api/account/totp', { method: 'DELETE', cookie });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ status: 'removed', remaining_sign_in_methods: 1 });
    expect(await credentialOf(user.id)).toBeUndefined();
    const again = await request('/api/account/totp', { method: 'DELETE', cookie });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: 'totp_not_enrolled' });
  });

  it('counts password + TOTP as one sign-in method, only when both exist and the policy allows them', async () => {
    const methodsOf = async (user: Awaited<ReturnType<typeof createTestUser>>) => {
      const res = await request('/api/account/passkeys', { cookie: await sessionCookie(runtime, user) });
      return ((await res.json()) as { sign_in_methods: number }).sign_in_methods;
    };
    const passwordOnly = await createTestUser(runtime);
    await givePassword(runtime, passwordOnly);
    await givePasskey(runtime, passwordOnly);
    expect(await methodsOf(passwordOnly)).toBe(1);

    const both = await createTestUser(runtime);
    await givePasswordAndTotp(runtime, both);
    await givePasskey(runtime, both);
    expect(await methodsOf(both)).toBe(2);

    const raisedToAdmin = await createTestUser(runtime);
    await givePasswordAndTotp(runtime, raisedToAdmin);
    await givePasskey(runtime, raisedToAdmin);
    await runtime.db.insertInto('user_roles').values({ user_id: raisedToAdmin.id, role: 'admin', granted_at: runtime.clock.now() }).execute();
    expect(await methodsOf(raisedToAdmin)).toBe(1);
  });
});
