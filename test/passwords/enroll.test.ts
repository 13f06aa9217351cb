import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/db/schema.js';
import { createInvitation } from '../../src/invitations/service.js';
import type { OrganisationPolicy } from '../../src/orgs/policy.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { ACR_MFA } from '../../src/sessions/service.js';
import { userRoles } from '../../src/users/service.js';
import { createTestRuntime, testClient, usingPostgres } from '../support/runtime.js';
import { codeAt, freshIp, GOOD_PASSWORD, secretFromDisplay } from './support.js';

const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true' } });
const { request } = testClient(runtime);

let orgCounter = 0;
async function invite(options: { role?: Role; policy?: Partial<OrganisationPolicy> } = {}) {
  orgCounter += 1;
  const org = await createOrganisation(runtime, { actor: 'test' }, { name: `Enroll Org ${orgCounter}`, ...(options.policy ? { policy: options.policy } : {}) });
  const email = `anna.nowak${orgCounter}@example.gov`;
  const issued = await createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'Anna Nowak', email, role: options.role ?? 'member' });
  return { ...issued, email, org };
}

const post = (path: string, json: unknown) => request(path, { method: 'POST', json, headers: { 'x-forwarded-for': freshIp() } });

async function start(token: string) {
  const res = await post('/api/enroll/password/start', { token });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { secret: string; otpauth_uri: string; qr_svg: string; username: string; display_name: string; organisation: string; min_password_length: number };
  return { ...body, key: secretFromDisplay(body.secret) };
}

const usersNamed = (email: string) => runtime.db.selectFrom('users').selectAll().where('email', '=', email).execute();
const invitationRow = (id: string) => runtime.db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('enrollment by invitation with a password and an authenticator app', () => {
  it('shows a TOTP secret tied to the invitation, then creates the account, both credentials and a session in one go', async () => {
    const { token, invitation, email, org } = await invite();
    const started = await start(token);
    expect(started).toMatchObject({ username: email, display_name: 'Anna Nowak', organisation: org.name, min_password_length: 8 });
    expect(started.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Warta:/);
    expect(started.qr_svg).toMatch(/^<svg/);
    const setup = await runtime.db.selectFrom('totp_setups').selectAll().where('invitation_id', '=', invitation.id).executeTakeFirstOrThrow();
    expect(setup.user_id).toBeNull();

    const res = await post('/api/enroll/password', { token, password: GOOD_PASSWORD, code: codeAt(started.key, runtime.clock) });
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).toMatch(/^warta_session=/);
    const body = (await res.json()) as { user_id: string };
    expect(body).toMatchObject({ username: email, amr: ['pwd', 'otp', 'mfa'], acr: ACR_MFA, redirect_to: '/account' });

    const [user] = await usersNamed(email);
    expect(user!.id).toBe(body.user_id);
    expect(await userRoles(runtime.db, user!.id)).toEqual(['member']);
    expect((await invitationRow(invitation.id)).redeemed_by).toBe(user!.id);
    expect(await runtime.db.selectFrom('password_credentials').select('user_id').where('user_id', '=', user!.id).execute()).toHaveLength(1);
    const credential = await runtime.db.selectFrom('totp_credentials').selectAll().where('user_id', '=', user!.id).executeTakeFirstOrThrow();
    expect(credential.last_used_step).not.toBeNull();
    expect(await runtime.db.selectFrom('totp_setups').select('id').where('invitation_id', '=', invitation.id).execute()).toHaveLength(0);
    const actions = (await runtime.db.selectFrom('audit_log').select('action').where('actor', '=', `user:${user!.id}`).orderBy('id').execute()).map((row) => row.action);
    expect(actions).toEqual(['invitation.redeemed', 'password.set', 'totp.enrolled', 'signin.succeeded']);

    // And the new account signs in with the next code.
    const signIn = await post('/api/signin/password', { username: email, password: GOOD_PASSWORD, code: codeAt(started.key, runtime.clock, 1) });
    expect(signIn.status).toBe(200);
  });

  it('keeps one pending secret per invitation: starting again replaces it', async () => {
    const { token, invitation } = await invite();
    const first = await start(token);
    const second = await start(token);
    expect(second.secret).not.toBe(first.secret);
    expect(await runtime.db.selectFrom('totp_setups').select('id').where('invitation_id', '=', invitation.id).execute()).toHaveLength(1);
    const stale = await post('/api/enroll/password', { token, password: GOOD_PASSWORD, code: codeAt(first.key, runtime.clock) });
    expect(stale.status).toBe(400);
    expect(await stale.json()).toMatchObject({ error: 'invalid_code' });
  });

  it('refuses roles that must use a passkey, and passkey-only organisations', async () => {
    for (const options of [{ role: 'admin' as const }, { role: 'recovery_officer' as const }, { policy: { allowPasswords: false } }, { policy: { allowTotp: false } }]) {
      const { token, invitation } = await invite(options);
      const res = await post('/api/enroll/password/start', { token });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'passkey_required' });
      expect(await runtime.db.selectFrom('totp_setups').select('id').where('invitation_id', '=', invitation.id).execute()).toHaveLength(0);
    }
  });

  it('refuses unknown, expired and used invitations', async () => {
    expect((await post('/api/enroll/password/start', { token: 'no-such-token' })).status).toBe(404);
    const expired = await invite();
    runtime.clock.advance(72 * 3600);
    const res = await post('/api/enroll/password/start', { token: expired.token });
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ error: 'invitation_expired' });
  });

  it('refuses a wrong code, a weak password and missing fields, changing nothing but the failure counter', async () => {
    const { token, invitation, email } = await invite();
    const started = await start(token);
    const right = codeAt(started.key, runtime.clock);
    const cases: [unknown, number, string][] = [
      [{ token, password: GOOD_PASSWORD, code: right === '000000' ? '111111' : '000000' }, 400, 'invalid_code'],
      [{ token, password: GOOD_PASSWORD, code: 'abcdef' }, 400, 'invalid_code_format'],
      [{ token, password: 'short', code: right }, 400, 'password_too_short'],
      [{ token, password: 'anna nowak 1990', code: right }, 400, 'password_contains_context'],
      [{ token, password: 'iloveyou', code: right }, 400, 'password_blocklisted'],
      [{ token, password: 'x'.repeat(1025), code: right }, 400, 'password_too_long'],
      [{ token, code: right }, 400, 'invalid_request'],
      [{ password: GOOD_PASSWORD, code: right }, 400, 'invalid_request'],
      [{ token, password: GOOD_PASSWORD }, 400, 'invalid_request'],
    ];
    for (const [json, status, error] of cases) {
      const res = await post('/api/enroll/password', json);
      expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { error, error_description: expect.any(String) } });
    }
    expect(await usersNamed(email)).toHaveLength(0);
    expect((await invitationRow(invitation.id)).redeemed_at).toBeNull();
    const counter = await runtime.db.selectFrom('rate_limits').select('failures').where('key', '=', `enroll:invitation:${invitation.id}`).executeTakeFirstOrThrow();
    expect(counter.failures).toBe(1);
    expect((await post('/api/enroll/password', { token, password: GOOD_PASSWORD, code: right })).status).toBe(201);
  });

  it('refuses to finish without a started set-up, or after it expired', async () => {
    const { token } = await invite();
    const missing = await post('/api/enroll/password', { token, password: GOOD_PASSWORD, code: '123456' });
    expect(missing.status).toBe(409);
    expect(await missing.json()).toMatchObject({ error: 'totp_setup_missing' });
    const started = await start(token);
    runtime.clock.advance(15 * 60);
    const late = await post('/api/enroll/password', { token, password: GOOD_PASSWORD, code: codeAt(started.key, runtime.clock) });
    expect(late.status).toBe(410);
    expect(await late.json()).toMatchObject({ error: 'totp_setup_expired' });
  });

  it(`creates one account when two finishes race${usingPostgres ? '' : ' (serialised by PGlite)'}`, async () => {
    const { token, email } = await invite();
    const started = await start(token);
    const json = { token, password: GOOD_PASSWORD, code: codeAt(started.key, runtime.clock) };
    const results = await Promise.all([post('/api/enroll/password', json), post('/api/enroll/password', json)]);
    const [winner, loser] = [...results].sort((a, b) => a.status - b.status);
    expect(winner!.status).toBe(201);
    // The loser meets the winner either at the set-up's one-time activation (409) or at the invitation it already used (410), depending on which row it reaches first.
    expect([409, 410]).toContain(loser!.status);
    expect(await usersNamed(email)).toHaveLength(1);
  });

  it('serves the page without the token in any URL the server sees', async () => {
    const res = await request('/enroll/password');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="password-enroll"');
    expect(html).toContain('/static/password-totp.js');
    const script = await (await request('/static/password-totp.js')).text();
    expect(script).toContain('history.replaceState');
  });
});
