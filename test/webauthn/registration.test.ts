import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/crypto/random.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { createTestRuntime, createTestUser, sessionCookie } from '../support/runtime.js';
import { browser, type Browser, enroll, lastAudit, origin, reauthenticate, signIn, TEST_ENV } from './ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

async function registrationOptions(client: Browser): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const reply = await client.post('/api/webauthn/registration/options', {});
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as PublicKeyCredentialCreationOptionsJSON;
}

describe('adding a passkey to a signed-in account', () => {
  it('excludes the passkeys the user already has and reuses their user handle', async () => {
    const { client, authenticator } = await enroll(runtime);
    const options = await registrationOptions(client);
    expect(options.excludeCredentials).toEqual([{ id: authenticator.credentials[0]!.id, type: 'public-key', transports: ['internal'] }]);
    expect(options.user.id).toBe(authenticator.credentials[0]!.userHandle);
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'preferred', userVerification: 'required' });
    // An authenticator that already holds one of the excluded credentials refuses, as browsers do.
    expect(() => authenticator.createCredential(options, { origin: origin(runtime) })).toThrow(/excluded/);
  });

  it('stores a named second passkey, audits it, and both sign in', async () => {
    const { client, authenticator, user } = await enroll(runtime);
    const second = new SoftAuthenticator({ transports: ['usb'] });
    const options = await registrationOptions(client);
    const row = await runtime.db.selectFrom('webauthn_challenges').selectAll().where('challenge_hash', '=', hashToken(options.challenge)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ ceremony: 'registration', user_id: user.id });
    const credential = second.createCredential(options, { origin: origin(runtime) });
    const reply = await client.post('/api/webauthn/registration/verify', { credential, name: '  YubiKey 5 —   desk ' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.passkey).toMatchObject({ name: 'YubiKey 5 — desk', type: 'device_bound', last_used_at: null });
    expect(await lastAudit(runtime, 'passkey.registered')).toMatchObject({ actor: `user:${user.id}`, subject: `user:${user.id}` });
    const stored = await runtime.db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', second.credentials[0]!.id).executeTakeFirstOrThrow();
    expect(stored.transports).toEqual(['usb']);

    expect((await signIn(runtime, browser(runtime), authenticator)).status).toBe(200);
    expect((await signIn(runtime, browser(runtime), second)).status).toBe(200);
  });

  it('needs a session', async () => {
    const reply = await browser(runtime).post('/api/webauthn/registration/options', {});
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('login_required');
  });

  it('needs a sign-in or re-authentication within the last five minutes', async () => {
    const { client, authenticator } = await enroll(runtime);
    runtime.clock.advance(301);
    const stale = await client.post('/api/webauthn/registration/options', {});
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe('reauthentication_required');

    expect((await reauthenticate(runtime, client, authenticator)).status).toBe(200);
    expect((await client.post('/api/webauthn/registration/options', {})).status).toBe(200);
  });

  it('refuses at verification too when the session went stale after the options', async () => {
    const { client } = await enroll(runtime);
    const options = await registrationOptions(client);
    runtime.clock.advance(301);
    const credential = new SoftAuthenticator().createCredential(options, { origin: origin(runtime) });
    const reply = await client.post('/api/webauthn/registration/verify', { credential });
    expect(reply.body.error).toBe('reauthentication_required');
  });

  it('refuses a challenge bound to another user, without spending it', async () => {
    const alice = await enroll(runtime);
    const bob = await enroll(runtime);
    const options = await registrationOptions(alice.client);
    const credential = new SoftAuthenticator().createCredential(options, { origin: origin(runtime) });
    const stolen = await bob.client.post('/api/webauthn/registration/verify', { credential });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('challenge_foreign');
    expect(await runtime.db.selectFrom('webauthn_credentials').select('id').where('credential_id', '=', credential.id).execute()).toEqual([]);
    expect((await alice.client.post('/api/webauthn/registration/verify', { credential })).status).toBe(201);
  });

  it('gives a user without passkeys (e.g. password only) a user handle at their first passkey', async () => {
    const user = await createTestUser(runtime);
    const client = browser(runtime);
    client.state.cookie = (await sessionCookie(runtime, user, ['pwd', 'otp'])).split('=')[1];
    const options = await registrationOptions(client);
    const handle = await runtime.db.selectFrom('webauthn_user_handles').select('handle').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(options.user.id).toBe(handle.handle);
    expect(options.excludeCredentials).toEqual([]);
    const authenticator = new SoftAuthenticator();
    const credential = authenticator.createCredential(options, { origin: origin(runtime) });
    expect((await client.post('/api/webauthn/registration/verify', { credential })).status).toBe(201);
    expect((await signIn(runtime, browser(runtime), authenticator)).status).toBe(200);
  });
});
