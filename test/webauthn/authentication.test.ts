import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealAuditLog, verifyAuditChain } from '../../src/audit/audit.js';
import { hashToken } from '../../src/crypto/random.js';
import { ACR_HARDWARE } from '../../src/sessions/service.js';
import { openChallenge } from '../../src/webauthn/sealed-challenge.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { createTestRuntime } from '../support/runtime.js';
import { authenticationOptions, browser, enroll, lastAudit, origin, reauthenticate, reauthenticationOptions, signIn, TEST_ENV } from './ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

const credentialRow = (credentialId: string) => runtime.db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', credentialId).executeTakeFirstOrThrow();
const storedChallenge = (challenge: string) => runtime.db.selectFrom('webauthn_challenges').selectAll().where('challenge_hash', '=', hashToken(challenge)).executeTakeFirst();
const liveSessions = (userId: string) => runtime.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).execute();

describe('usernameless sign-in', () => {
  it('offers options without allowCredentials that require user verification, with a sealed challenge and nothing stored', async () => {
    const options = await authenticationOptions(browser(runtime));
    expect(options.allowCredentials).toEqual([]);
    expect(options.userVerification).toBe('required');
    expect(options.rpId).toBe('localhost');
    const expiresAt = new Date(runtime.clock.now().getTime() + runtime.config.webauthn.challengeTtlSeconds * 1000);
    expect(openChallenge(runtime.challengeSealKey, options.challenge)).toEqual({ ceremony: 'authentication', expiresAt, userId: null });
    expect(await storedChallenge(options.challenge)).toBeUndefined();
  });

  it('signs in with a discoverable passkey, records hwk+user, and moves the counter and last-used time', async () => {
    const { authenticator, user } = await enroll(runtime);
    runtime.clock.advance(60);
    const client = browser(runtime);
    const reply = await signIn(runtime, client, authenticator);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ user: { id: user.id }, amr: ['hwk', 'user'], acr: ACR_HARDWARE, redirect_to: '/account' });
    const session = await runtime.db.selectFrom('sessions').selectAll().where('token_hash', '=', hashToken(client.state.cookie!)).executeTakeFirstOrThrow();
    expect(session.amr).toEqual(['hwk', 'user']);
    const stored = await credentialRow(authenticator.credentials[0]!.id);
    expect(stored.sign_count).toBe(1);
    expect(stored.last_used_at).toEqual(runtime.clock.now());
    expect(await lastAudit(runtime, 'signin.succeeded')).toMatchObject({ subject: `user:${user.id}`, details: expect.objectContaining({ method: 'passkey' }) });
  });

  it('writes the session and the audit entry with the counter in one statement: the session as configured, an entry whose MAC seals', async () => {
    const { authenticator, user } = await enroll(runtime);
    const client = browser(runtime);
    expect((await signIn(runtime, client, authenticator)).status).toBe(200);
    const now = runtime.clock.now().getTime();
    const session = await runtime.db.selectFrom('sessions').selectAll().where('token_hash', '=', hashToken(client.state.cookie!)).executeTakeFirstOrThrow();
    expect(session).toMatchObject({ user_id: user.id, acr: ACR_HARDWARE, revoked_at: null, auth_time: runtime.clock.now() });
    // testConfig's defaults: 30 minutes idle, 12 hours at most.
    expect([session.idle_expires_at.getTime() - now, session.expires_at.getTime() - now]).toEqual([30 * 60_000, 12 * 3600_000]);
    const entry = await lastAudit(runtime, 'signin.succeeded');
    expect(entry).toMatchObject({ subject: `user:${user.id}`, details: { method: 'passkey', amr: ['hwk', 'user'], acr: ACR_HARDWARE, session_id: session.id } });
    await sealAuditLog(runtime.db, runtime);
    expect(await verifyAuditChain(runtime.db, runtime)).toMatchObject({ ok: true, refused: [] });
  });

  it('records swk for a synced passkey', async () => {
    const { authenticator } = await enroll(runtime, { authenticator: { backupEligible: true } });
    const reply = await signIn(runtime, browser(runtime), authenticator);
    expect(reply.body.amr).toEqual(['swk', 'user']);
  });

  it('rotates the session id at sign-in and ends the session the browser had', async () => {
    const { authenticator, client, user } = await enroll(runtime);
    const before = client.state.cookie!;
    const reply = await signIn(runtime, client, authenticator);
    expect(reply.status).toBe(200);
    expect(client.state.cookie).not.toBe(before);
    const old = await runtime.db.selectFrom('sessions').selectAll().where('token_hash', '=', hashToken(before)).executeTakeFirstOrThrow();
    expect(old.revoked_reason).toBe('replaced_at_sign_in');
    expect(await liveSessions(user.id)).toHaveLength(1);
  });

  it('accepts authenticators whose counter stays at zero', async () => {
    const { authenticator } = await enroll(runtime);
    for (let i = 0; i < 2; i++) expect((await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 0 } })).status).toBe(200);
  });

  it('accepts the Android app’s origin derived from its signing certificate, and refuses an app signed with another key', async () => {
    const certificate = randomBytes(32);
    const fingerprint = [...certificate].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
    const withApp = await createTestRuntime({ env: { ...TEST_ENV, WARTA_ANDROID_APPS: `gov.example.messenger=${fingerprint}` } });
    const { authenticator } = await enroll(withApp);
    const client = browser(withApp);
    const appOrigin = `android:apk-key-hash:${certificate.toString('base64url')}`;
    const credential = authenticator.getAssertion(await authenticationOptions(client), { origin: appOrigin });
    expect((await client.post('/api/webauthn/authentication/verify', { credential })).status).toBe(200);

    const repackaged = browser(withApp);
    const phishing = authenticator.getAssertion(await authenticationOptions(repackaged), { origin: `android:apk-key-hash:${randomBytes(32).toString('base64url')}` });
    const refused = await repackaged.post('/api/webauthn/authentication/verify', { credential: phishing });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('origin_mismatch');
    expect(repackaged.state.cookie).toBeUndefined();
  });
});

describe('username-first sign-in', () => {
  it('lists the account’s passkeys and binds the challenge to the account', async () => {
    const { authenticator, user } = await enroll(runtime);
    const client = browser(runtime);
    const options = await authenticationOptions(client, user.username.toUpperCase());
    expect(options.allowCredentials).toEqual([{ id: authenticator.credentials[0]!.id, type: 'public-key', transports: ['internal'] }]);
    expect(openChallenge(runtime.challengeSealKey, options.challenge)?.userId).toBe(user.id);
    expect(await storedChallenge(options.challenge)).toBeUndefined();
    const credential = authenticator.getAssertion(options, { origin: origin(runtime) });
    expect((await client.post('/api/webauthn/authentication/verify', { credential })).status).toBe(200);
    // Spending the seal is what stores its row.
    expect(await storedChallenge(options.challenge)).toMatchObject({ ceremony: 'authentication', user_id: user.id, used_at: runtime.clock.now() });
  });

  it('seals the account into the challenge without showing it: a bound challenge looks like an unknown name’s', async () => {
    const { user } = await enroll(runtime);
    const bound = (await authenticationOptions(browser(runtime), user.username)).challenge;
    const decoy = (await authenticationOptions(browser(runtime), 'nobody@example.gov')).challenge;
    expect(openChallenge(runtime.challengeSealKey, decoy)?.userId).toBeNull();
    expect(bound).toHaveLength(decoy.length);
    expect(Buffer.from(bound, 'base64url').includes(Buffer.from(user.id.replaceAll('-', ''), 'hex'))).toBe(false);
  });

  it('answers an unknown username with decoy credentials, the same each time (shapes: decoy.test.ts)', async () => {
    const options = await authenticationOptions(browser(runtime), 'nobody@example.gov');
    expect(options.allowCredentials!.length).toBeGreaterThan(0);
    const again = await authenticationOptions(browser(runtime), 'nobody@example.gov');
    expect(again.allowCredentials).toEqual(options.allowCredentials);
  });

  it('refuses another account’s passkey on a challenge bound to an account', async () => {
    const alice = await enroll(runtime);
    const bob = await enroll(runtime);
    const client = browser(runtime);
    const options = await authenticationOptions(client, alice.user.username);
    const credential = bob.authenticator.getAssertion({ ...options, allowCredentials: [] }, { origin: origin(runtime) });
    const reply = await client.post('/api/webauthn/authentication/verify', { credential });
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('credential_not_allowed');
    expect(client.state.cookie).toBeUndefined();
  });
});

describe('clone detection', () => {
  it('blocks a passkey whose signature counter goes backwards, audits it, and sends the user to the recovery desk', async () => {
    const { authenticator, user } = await enroll(runtime);
    expect((await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 10 } })).status).toBe(200);
    const cloned = await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 9 } });
    expect(cloned.status).toBe(403);
    expect(cloned.body.error).toBe('credential_blocked');
    expect(cloned.body.error_description).toMatch(/recovery desk/);

    const stored = await credentialRow(authenticator.credentials[0]!.id);
    expect(stored.blocked_reason).toBe('sign_count_regressed');
    expect(stored.sign_count).toBe(10);
    expect(await lastAudit(runtime, 'passkey.blocked')).toMatchObject({ subject: `user:${user.id}`, outcome: 'failure', details: expect.objectContaining({ stored_sign_count: 10, presented_sign_count: 9 }) });

    // The genuine authenticator is refused too until the recovery desk acts.
    const later = await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 11 } });
    expect(later.body.error).toBe('credential_blocked');
    expect(await liveSessions(user.id)).toHaveLength(2); // enrollment + the first sign-in; none from the clone
  });

  it('treats a repeated non-zero counter as a clone', async () => {
    const { authenticator } = await enroll(runtime);
    expect((await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 5 } })).status).toBe(200);
    expect((await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 5 } })).body.error).toBe('credential_blocked');
  });

  it('does not let a forged assertion with a low counter block someone else’s passkey', async () => {
    const { authenticator } = await enroll(runtime);
    expect((await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 10 } })).status).toBe(200);
    const forged = await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 1, corruptSignature: true } });
    expect(forged.body.error).toBe('signature_invalid');
    expect((await credentialRow(authenticator.credentials[0]!.id)).blocked_at).toBeNull();
    expect((await signIn(runtime, browser(runtime), authenticator, { overrides: { signCount: 11 } })).status).toBe(200);
  });

  it('refuses a passkey whose backup eligibility changed since registration', async () => {
    const { authenticator } = await enroll(runtime);
    const impostor = new SoftAuthenticator({ backupEligible: true });
    impostor.credentials.push({ ...authenticator.credentials[0]! });
    const reply = await signIn(runtime, browser(runtime), impostor);
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('backup_eligibility_changed');
  });
});

describe('re-authentication', () => {
  it('offers only the user’s own passkeys and records a fresh auth_time, amr and acr on the session', async () => {
    const { authenticator, client, user } = await enroll(runtime);
    const session = await runtime.db.selectFrom('sessions').selectAll().where('token_hash', '=', hashToken(client.state.cookie!)).executeTakeFirstOrThrow();
    runtime.clock.advance(600);
    const options = await reauthenticationOptions(client);
    expect(options.allowCredentials!.map((c) => c.id)).toEqual([authenticator.credentials[0]!.id]);
    const credential = authenticator.getAssertion(options, { origin: origin(runtime) });
    const reply = await client.post('/api/webauthn/reauthentication/verify', { credential });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ auth_time: runtime.clock.now().toISOString(), amr: ['hwk', 'user'], acr: ACR_HARDWARE });
    const updated = await runtime.db.selectFrom('sessions').selectAll().where('id', '=', session.id).executeTakeFirstOrThrow();
    expect(updated.auth_time).toEqual(runtime.clock.now());
    expect(await lastAudit(runtime, 'session.reauthenticated')).toMatchObject({ subject: `user:${user.id}` });
  });

  it('refuses another user’s passkey and another session’s challenge', async () => {
    const alice = await enroll(runtime);
    const bob = await enroll(runtime);
    const options = await reauthenticationOptions(alice.client);
    const bobs = bob.authenticator.getAssertion({ ...options, allowCredentials: [] }, { origin: origin(runtime) });
    const refused = await alice.client.post('/api/webauthn/reauthentication/verify', { credential: bobs });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('credential_not_allowed');

    const fresh = await reauthenticationOptions(alice.client);
    const alices = alice.authenticator.getAssertion(fresh, { origin: origin(runtime) });
    const elsewhere = await bob.client.post('/api/webauthn/reauthentication/verify', { credential: alices });
    expect(elsewhere.body.error).toBe('challenge_foreign');
  });

  it('needs a session', async () => {
    const reply = await browser(runtime).post('/api/webauthn/reauthentication/options', {});
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('login_required');
  });

  it('runs with the helper used by the account tests', async () => {
    const { authenticator, client } = await enroll(runtime);
    expect((await reauthenticate(runtime, client, authenticator)).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('backs off an account after repeated failures, even for a valid passkey, and forgets them after a success', async () => {
    const { authenticator, user } = await enroll(runtime);
    for (let i = 0; i < 6; i++) {
      const reply = await signIn(runtime, browser(runtime), authenticator, { overrides: { corruptSignature: true } });
      expect(reply.body.error).toBe('signature_invalid');
    }
    const throttled = await signIn(runtime, browser(runtime), authenticator);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toBe('too_many_attempts');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    const counter = await runtime.db.selectFrom('rate_limits').selectAll().where('key', '=', `signin:user:${user.id}`).executeTakeFirstOrThrow();
    expect(counter.failures).toBe(6);

    runtime.clock.advance(3);
    expect((await signIn(runtime, browser(runtime), authenticator)).status).toBe(200);
    expect(await runtime.db.selectFrom('rate_limits').selectAll().where('key', '=', `signin:user:${user.id}`).executeTakeFirst()).toBeUndefined();
  });

  it('backs off a client address after repeated failures', async () => {
    const { authenticator } = await enroll(runtime);
    const attacker = browser(runtime);
    for (let i = 0; i < 31; i++) {
      const reply = await attacker.post('/api/webauthn/authentication/verify', { credential: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: {} } });
      expect(reply.status).toBe(400);
    }
    const throttled = await signIn(runtime, attacker, authenticator);
    expect(throttled.status).toBe(429);
    expect((await signIn(runtime, browser(runtime), authenticator)).status).toBe(200);
  });

  it('refuses a throttled address before judging its answer: an unknown challenge or passkey, a malformed body, and a live challenge, left unspent', async () => {
    const { authenticator } = await enroll(runtime);
    const ip = '10.254.0.1';
    const attacker = browser(runtime, { ip });
    const options = await authenticationOptions(attacker);
    const now = runtime.clock.now();
    await runtime.db.insertInto('rate_limits').values({ key: `signin:ip:${ip}`, failures: 40, window_started_at: now, blocked_until: new Date(now.getTime() + 60_000), updated_at: now }).execute();
    const unknownId = randomBytes(32).toString('base64url');
    const live = authenticator.getAssertion(options, { origin: origin(runtime) });
    const answers = [
      authenticator.getAssertion(options, { origin: origin(runtime), overrides: { challenge: randomBytes(32).toString('base64url') } }),
      { ...live, id: unknownId, rawId: unknownId },
      { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: {} },
      live,
    ];
    for (const credential of answers) {
      const reply = await attacker.post('/api/webauthn/authentication/verify', { credential });
      expect([reply.status, reply.body.error]).toEqual([429, 'too_many_attempts']);
    }
    // Nothing was counted and the challenge was not spent: once the back-off is over, the same answer signs in.
    expect((await runtime.db.selectFrom('rate_limits').select('failures').where('key', '=', `signin:ip:${ip}`).executeTakeFirstOrThrow()).failures).toBe(40);
    expect(await storedChallenge(options.challenge)).toBeUndefined();
    runtime.clock.advance(61);
    expect((await attacker.post('/api/webauthn/authentication/verify', { credential: live })).status).toBe(200);
  });

  it('audits failed sign-ins with the reason', async () => {
    const { authenticator, user } = await enroll(runtime);
    await signIn(runtime, browser(runtime), authenticator, { overrides: { corruptSignature: true } });
    expect(await lastAudit(runtime, 'signin.failed')).toMatchObject({ subject: `user:${user.id}`, outcome: 'failure', details: expect.objectContaining({ method: 'passkey', reason: 'signature_invalid' }) });
  });

  it('spends the challenge of a refused response: a correct answer to it afterwards is refused as used', async () => {
    const { authenticator } = await enroll(runtime);
    const options = await authenticationOptions(browser(runtime));
    const forged = authenticator.getAssertion(options, { origin: origin(runtime), overrides: { corruptSignature: true } });
    const refused = await browser(runtime).post('/api/webauthn/authentication/verify', { credential: forged });
    expect([refused.status, refused.body.error]).toEqual([401, 'signature_invalid']);
    const stored = await runtime.db.selectFrom('webauthn_challenges').select('used_at').where('challenge_hash', '=', hashToken(options.challenge)).executeTakeFirstOrThrow();
    expect(stored.used_at).not.toBeNull();
    const genuine = authenticator.getAssertion(options, { origin: origin(runtime) });
    const replayed = await browser(runtime).post('/api/webauthn/authentication/verify', { credential: genuine });
    expect([replayed.status, replayed.body.error]).toEqual([400, 'challenge_used']);
  });

  it('refuses a disabled account', async () => {
    const { authenticator, user } = await enroll(runtime);
    await runtime.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', user.id).execute();
    const reply = await signIn(runtime, browser(runtime), authenticator);
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('account_disabled');
  });
});
