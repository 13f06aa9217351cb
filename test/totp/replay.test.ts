import { describe, expect, it } from 'vitest';
import { confirmTotpSetup, startTotpSetup } from '../../src/totp/service.js';
import { codeAt, freshIp, GOOD_PASSWORD, givePassword, givePasswordAndTotp, secretFromDisplay } from '../passwords/support.js';
import { createTestRuntime, createTestUser, testClient, usingPostgres } from '../support/runtime.js';

const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true' } });
const { request } = testClient(runtime);

const signIn = (json: unknown) => request('/api/signin/password', { method: 'POST', json, headers: { 'x-forwarded-for': freshIp() } });

async function newAccount() {
  const user = await createTestUser(runtime);
  const { secret } = await givePasswordAndTotp(runtime, user);
  const attempt = (code: string) => signIn({ username: user.username, password: GOOD_PASSWORD, code });
  return { user, attempt, code: (steps = 0) => codeAt(secret, runtime.clock, steps) };
}

const lastUsedStep = async (userId: string) =>
  (await runtime.db.selectFrom('totp_credentials').select('last_used_step').where('user_id', '=', userId).executeTakeFirstOrThrow()).last_used_step;

describe('TOTP replay protection', () => {
  it('refuses the same code a second time', async () => {
    const { user, attempt, code } = await newAccount();
    const used = code();
    expect((await attempt(used)).status).toBe(200);
    const again = await attempt(used);
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: 'invalid_credentials' });
    expect(await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
    const failed = await runtime.db.selectFrom('audit_log').select('details').where('action', '=', 'signin.failed').where('subject', '=', `user:${user.id}`).execute();
    expect(failed.map((row) => row.details.reason)).toEqual(['code_reused']);
  });

  it('refuses the same code still when the clock has moved on but the code is inside the window', async () => {
    const { attempt, code } = await newAccount();
    const used = code();
    expect((await attempt(used)).status).toBe(200);
    runtime.clock.advance(30);
    expect((await attempt(used)).status).toBe(401);
  });

  it('refuses a code older than the last accepted one, though it was never used', async () => {
    const { user, attempt, code } = await newAccount();
    runtime.clock.advance(30);
    const newer = code(1);
    const older = code(0);
    expect((await attempt(newer)).status).toBe(200);
    const stepAfterNewer = await lastUsedStep(user.id);
    expect((await attempt(older)).status).toBe(401);
    expect(await lastUsedStep(user.id)).toBe(stepAfterNewer);
  });

  it('does not let the code that confirmed the set-up sign in', async () => {
    const user = await createTestUser(runtime);
    const setup = await startTotpSetup(runtime, { actor: 'test' }, user);
    const secret = secretFromDisplay(setup.secret);
    const confirming = codeAt(secret, runtime.clock);
    await confirmTotpSetup(runtime, { actor: 'test' }, user, confirming);
    await givePassword(runtime, user);
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: confirming })).status).toBe(401);
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock, 1) })).status).toBe(200);
  });

  it(`accepts exactly one of two simultaneous sign-ins with the same code${usingPostgres ? '' : ' (serialised by PGlite; meaningful on PostgreSQL)'}`, async () => {
    const { user, attempt, code } = await newAccount();
    const same = code();
    const results = await Promise.all([attempt(same), attempt(same)]);
    expect(results.map((res) => res.status).sort()).toEqual([200, 401]);
    expect(await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
  });

  it('accepts exactly one of many simultaneous sign-ins with the same code', async () => {
    const { user, attempt, code } = await newAccount();
    const same = code();
    const results = await Promise.all(Array.from({ length: 6 }, () => attempt(same)));
    expect(results.filter((res) => res.status === 200)).toHaveLength(1);
    expect(results.filter((res) => res.status === 401)).toHaveLength(5);
    expect(await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
  });

  it('shares one replay record between sign-in and re-authentication', async () => {
    const { attempt, code } = await newAccount();
    const used = code();
    const signedIn = await attempt(used);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    const reauth = await request('/api/account/reauth/password', { method: 'POST', cookie, json: { password: GOOD_PASSWORD, code: used }, headers: { 'x-forwarded-for': freshIp() } });
    expect(reauth.status).toBe(401);
  });
});
