import * as argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/passwords/hash.js';
import { ACR_MFA } from '../../src/sessions/service.js';
import { anonymousFailureCount } from '../support/anonymous-failures.js';
import { createTestRuntime, createTestUser, testClient } from '../support/runtime.js';
import { codeAt, freshIp, GOOD_PASSWORD, givePassword, givePasswordAndTotp } from './support.js';

const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true', WARTA_SIGNIN_FREE_ATTEMPTS: '3', WARTA_SIGNIN_LOCK_AFTER: '8', WARTA_SIGNIN_LOCK_MINUTES: '60' } });
const { request } = testClient(runtime);

const signIn = (json: unknown, ip = freshIp()) => request('/api/signin/password', { method: 'POST', json, headers: { 'x-forwarded-for': ip } });

async function newAccount(options: Parameters<typeof createTestUser>[1] = {}) {
  const user = await createTestUser(runtime, options);
  const { secret } = await givePasswordAndTotp(runtime, user);
  return { user, secret, code: (steps = 0) => codeAt(secret, runtime.clock, steps) };
}

const sessionsOf = (userId: string) => runtime.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).execute();
const auditOf = (action: string, subject?: string) => {
  let query = runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action);
  if (subject) query = query.where('subject', '=', subject);
  return query.execute();
};
const failuresOf = async (key: string) => (await runtime.db.selectFrom('rate_limits').select('failures').where('key', '=', key).executeTakeFirst())?.failures ?? 0;

/** Status, body and header names: what a client (or an attacker) can compare. The request id differs by design. */
async function observable(response: Response) {
  const headers: string[] = [];
  response.headers.forEach((value, name) => {
    if (name !== 'x-request-id') headers.push(`${name}: ${value}`);
  });
  headers.sort();
  return { status: response.status, headers, body: await response.text() };
}

describe('sign-in with password and TOTP', () => {
  it('signs in, sets the session cookie and records amr pwd+otp+mfa with the MFA acr', async () => {
    const { user, code } = await newAccount();
    const res = await signIn({ username: user.username, password: GOOD_PASSWORD, code: code() });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^warta_session=[\w-]+;.*HttpOnly/);
    expect(await res.json()).toMatchObject({ user_id: user.id, amr: ['pwd', 'otp', 'mfa'], acr: ACR_MFA });
    const [session] = await sessionsOf(user.id);
    expect(session).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: ACR_MFA, revoked_at: null });
    expect(await auditOf('signin.succeeded', `user:${user.id}`)).toHaveLength(1);
  });

  it('takes the username in any letter case and a code typed with a space', async () => {
    const { user, code } = await newAccount();
    const typed = `${code().slice(0, 3)} ${code().slice(3)}`;
    const res = await signIn({ username: `  ${user.username.toUpperCase()} `, password: GOOD_PASSWORD, code: typed });
    expect(res.status).toBe(200);
  });

  it('accepts a code one time step early or late, but not two', async () => {
    const { user, code } = await newAccount();
    // One step further, so the step before now is not the one the set-up confirmation used.
    runtime.clock.advance(30);
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: code(-2) })).status).toBe(401);
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: code(2) })).status).toBe(401);
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: code(-1) })).status).toBe(200);
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: code(1) })).status).toBe(200);
  });

  it('gives one answer for a wrong password, a wrong code, and an account without TOTP', async () => {
    const { user, code } = await newAccount();
    const noTotp = await createTestUser(runtime);
    await givePassword(runtime, noTotp);
    const answers = [
      await signIn({ username: user.username, password: 'wrong horse battery staple', code: code() }),
      await signIn({ username: user.username, password: GOOD_PASSWORD, code: code() === '000000' ? '111111' : '000000' }),
      await signIn({ username: noTotp.username, password: GOOD_PASSWORD, code: '123456' }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_credentials', error_description: expect.any(String) });
    }
    expect(await sessionsOf(user.id)).toHaveLength(0);
    expect(await sessionsOf(noTotp.id)).toHaveLength(0);
  });

  it('answers an unknown username exactly like a wrong password, after spending the same argon2 work', async () => {
    const { user, code } = await newAccount();
    const wrongPassword = await observable(await signIn({ username: user.username, password: 'not the password at all', code: code() }));
    const unknown = await observable(await signIn({ username: 'nobody@example.gov', password: 'not the password at all', code: code() }));
    expect(unknown).toEqual(wrongPassword);

    const verifyTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await verifyPassword(await runtime.dummyPasswordHash, 'anything');
      verifyTimes.push(performance.now() - started);
    }
    const started = performance.now();
    await signIn({ username: 'still-nobody@example.gov', password: 'not the password at all', code: '123456' });
    expect(performance.now() - started).toBeGreaterThan(0.5 * Math.min(...verifyTimes));
  });

  it('refuses a passkey-only role with a clear error, but only once password and code are both right', async () => {
    const { user, code } = await newAccount();
    // The role was raised after the password was set: the credentials exist, the policy forbids them.
    await runtime.db.insertInto('user_roles').values({ user_id: user.id, role: 'admin', granted_at: runtime.clock.now() }).execute();
    const wrong = await signIn({ username: user.username, password: 'a wrong password here', code: code() });
    expect(wrong.status).toBe(401);
    const right = await signIn({ username: user.username, password: GOOD_PASSWORD, code: code() });
    expect(right.status).toBe(403);
    expect(await right.json()).toMatchObject({ error: 'passkey_required', error_description: expect.stringContaining('admin') });
    expect(await sessionsOf(user.id)).toHaveLength(0);
    expect(await auditOf('signin.refused', `user:${user.id}`)).toHaveLength(1);
  });

  it('refuses password sign-in in a passkey-only organisation', async () => {
    const user = await createTestUser(runtime, { policy: { allowPasswords: false } });
    const { secret } = await givePasswordAndTotp(runtime, user);
    const res = await signIn({ username: user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'passkey_required' });
    expect(await sessionsOf(user.id)).toHaveLength(0);
  });

  it('rehashes a password stored with weaker argon2 parameters at the next sign-in', async () => {
    const { user, code } = await newAccount();
    const weak = await argon2.hash(GOOD_PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await runtime.db.updateTable('password_credentials').set({ hash: weak }).where('user_id', '=', user.id).execute();
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: code() })).status).toBe(200);
    const { hash } = await runtime.db.selectFrom('password_credentials').select('hash').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(hash).toContain('m=19456');
    expect(hash).toContain('t=2');
    expect(hash).not.toBe(weak);
    expect(await argon2.verify(hash, GOOD_PASSWORD)).toBe(true);
    expect(await auditOf('password.rehashed', `user:${user.id}`)).toHaveLength(1);
  });

  it('leaves a hash at the configured parameters alone', async () => {
    const { user, code } = await newAccount();
    const before = await runtime.db.selectFrom('password_credentials').select('hash').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: code() })).status).toBe(200);
    const after = await runtime.db.selectFrom('password_credentials').select('hash').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(after.hash).toBe(before.hash);
  });
});

describe('bad sign-in input', () => {
  it('answers missing fields, malformed codes and over-long passwords with a 4xx and a stable code, counting each', async () => {
    const { user, code } = await newAccount();
    const ip = freshIp();
    // Each case names its own account so the low back-off threshold of this file does not turn later cases into 429s.
    const as = (i: number) => `case${i}.${user.username}`;
    const cases: [unknown, number, string][] = [
      [{ password: GOOD_PASSWORD, code: code() }, 400, 'invalid_request'],
      [{ username: as(1), code: code() }, 400, 'invalid_request'],
      [{ username: as(2), password: GOOD_PASSWORD }, 400, 'invalid_request'],
      [{ username: as(3), password: GOOD_PASSWORD, code: 'abcdef' }, 400, 'invalid_code_format'],
      [{ username: as(4), password: GOOD_PASSWORD, code: '12345' }, 400, 'invalid_code_format'],
      [{ username: as(5), password: GOOD_PASSWORD, code: '1234567890123' }, 400, 'invalid_code_format'],
      [{ username: as(6), password: GOOD_PASSWORD, code: 123456 }, 400, 'invalid_code_format'],
      [{ username: as(7), password: 42, code: code() }, 400, 'invalid_request'],
      [{ username: as(8), password: 'x'.repeat(1025), code: code() }, 400, 'password_too_long'],
    ];
    const sessionsBefore = (await runtime.db.selectFrom('sessions').select('id').execute()).length;
    const reasons = ['invalid_request', 'invalid_code_format', 'password_too_long'];
    const countedBefore = await Promise.all(reasons.map((reason) => anonymousFailureCount(runtime, 'signin.failed', `password:${reason}`)));
    for (const [json, status, error] of cases) {
      const res = await signIn(json, ip);
      expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { error, error_description: expect.any(String) } });
    }
    expect(await failuresOf(`signin:ip:${ip}`)).toBe(cases.length);
    expect(await runtime.db.selectFrom('rate_limits').select('key').where('key', 'like', 'signin:account:%').where('failures', '=', 1).where('updated_at', '=', runtime.clock.now()).execute()).toHaveLength(cases.length - 1);
    expect((await runtime.db.selectFrom('sessions').select('id').execute()).length).toBe(sessionsBefore);
    // Anonymous and naming no existing account: counted into the audit window of their reason, not one entry each.
    const countedAfter = await Promise.all(reasons.map((reason) => anonymousFailureCount(runtime, 'signin.failed', `password:${reason}`)));
    expect(countedAfter.map((count, i) => count - countedBefore[i]!)).toEqual([4, 4, 1]);
    expect(await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'signin.failed').where('ip', '=', ip).execute()).toEqual([]);
  });

  it('checks a 1,024-character password instead of refusing it as too long', async () => {
    const { user, code } = await newAccount();
    const res = await signIn({ username: user.username, password: 'ż'.repeat(1024), code: code() });
    expect(res.status).toBe(401);
  });

  it('refuses a body that is not JSON, or too large, with 4xx', async () => {
    const notJson = await request('/api/signin/password', { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': freshIp() }, body: '{"username":' });
    expect(notJson.status).toBe(400);
    const form = await request('/api/signin/password', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': freshIp() }, body: 'username=a' });
    expect(form.status).toBe(415);
    const huge = await signIn({ username: 'a@example.gov', password: 'x'.repeat(200_000), code: '123456' });
    expect(huge.status).toBe(413);
  });

  it('refuses a sign-in posted from another origin', async () => {
    const { user, code } = await newAccount();
    const res = await request('/api/signin/password', { method: 'POST', json: { username: user.username, password: GOOD_PASSWORD, code: code() }, headers: { origin: 'https://evil.example', 'x-forwarded-for': freshIp() } });
    expect(res.status).toBe(403);
    expect(await sessionsOf(user.id)).toHaveLength(0);
  });
});

describe('brute force', () => {
  it('backs off exponentially after the free attempts, then locks the account and audits the lock', async () => {
    const { user, code } = await newAccount();
    const wrong = () => signIn({ username: user.username, password: 'guess guess guess', code: code() });
    // WARTA_SIGNIN_FREE_ATTEMPTS=3: three failures cost nothing.
    for (let i = 0; i < 3; i++) expect((await wrong()).status).toBe(401);
    // The 4th starts the back-off: 1 s, then 2 s, 4 s … (doubling).
    for (const delay of [1, 2, 4, 8]) {
      expect((await wrong()).status).toBe(401);
      const throttled = await wrong();
      expect(throttled.status).toBe(429);
      expect(await throttled.json()).toMatchObject({ error: 'too_many_attempts' });
      expect(throttled.headers.get('retry-after')).toBe(String(delay));
      runtime.clock.advance(delay);
    }
    // WARTA_SIGNIN_LOCK_AFTER=8: the 8th failure locks for WARTA_SIGNIN_LOCK_MINUTES.
    expect((await wrong()).status).toBe(401);
    const locked = await signIn({ username: user.username, password: GOOD_PASSWORD, code: code() });
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('3600');
    expect(await auditOf('signin.account_locked', `user:${user.id}`)).toHaveLength(1);
    expect(await auditOf('signin.failed', `user:${user.id}`)).toHaveLength(8);

    runtime.clock.advance(3600);
    expect((await signIn({ username: user.username, password: GOOD_PASSWORD, code: code() })).status).toBe(200);
    // A success forgets the failures.
    const account = await runtime.db.selectFrom('rate_limits').selectAll().where('key', 'like', 'signin:account:%').where('blocked_until', '>', runtime.clock.now()).execute();
    expect(account).toHaveLength(0);
  });

  it('throttles and locks an unknown username exactly like a real account', async () => {
    const { user, code } = await newAccount();
    const real: Awaited<ReturnType<typeof observable>>[] = [];
    const ghost: Awaited<ReturnType<typeof observable>>[] = [];
    for (let i = 0; i < 9; i++) {
      real.push(await observable(await signIn({ username: user.username, password: 'guess guess guess', code: code() })));
      ghost.push(await observable(await signIn({ username: 'ghost@example.gov', password: 'guess guess guess', code: code() })));
      runtime.clock.advance(i < 4 ? 0 : 2 ** (i - 3));
    }
    expect(ghost).toEqual(real);
    expect(ghost.map((answer) => answer.status)).toContain(429);
  });

  it('throttles one address guessing across many usernames', async () => {
    const ip = freshIp();
    // PER_IP_POLICY: 30 free failures per address, then back-off.
    for (let i = 0; i < 31; i++) expect((await signIn({ username: `spray${i}@example.gov`, password: 'Summer2024!', code: '123456' }, ip)).status).toBe(401);
    const next = await signIn({ username: 'another@example.gov', password: 'Summer2024!', code: '123456' }, ip);
    expect(next.status).toBe(429);
    const elsewhere = await signIn({ username: 'another@example.gov', password: 'Summer2024!', code: '123456' });
    expect(elsewhere.status).toBe(401);
  });
});
