import { describe, expect, it } from 'vitest';
import { countSignInMethods } from '../../src/users/sign-in-methods.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { createTestRuntime, createTestUser, sessionCookie } from '../support/runtime.js';
import { browser, enroll, lastAudit, origin, reauthenticate, signIn, TEST_ENV } from '../webauthn/ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

const passkeysOf = async (userId: string) => runtime.db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();

/** A user with two passkeys (two authenticators), signed in on `client`. */
async function withTwoPasskeys() {
  const enrolled = await enroll(runtime, { name: 'Laptop' });
  const second = new SoftAuthenticator();
  const options = await enrolled.client.post('/api/webauthn/registration/options', {});
  const added = await enrolled.client.post('/api/webauthn/registration/verify', { credential: second.createCredential(options.body as never, { origin: origin(runtime) }), name: 'YubiKey 5 — desk' });
  expect(added.status).toBe(201);
  return { ...enrolled, second, passkeys: await passkeysOf(enrolled.user.id) };
}

describe('account page', () => {
  it('sends a visitor who is not signed in to the sign-in page', async () => {
    const reply = await browser(runtime).get('/account');
    expect(reply.status).toBe(303);
    expect(reply.headers.get('location')).toBe('/signin?return_to=%2Faccount');
  });

  it('lists the passkeys with name, kind, added and last used, and links the other sign-in methods', async () => {
    const { client } = await withTwoPasskeys();
    const reply = await client.get('/account');
    expect(reply.status).toBe(200);
    const html = reply.body.text as string;
    expect(html).toContain('Laptop');
    expect(html).toContain('YubiKey 5 — desk');
    expect(html).toContain('Bound to one device or key');
    expect(html).toMatch(/<time datetime="[^"]+">/);
    expect(html).toContain('never');
    expect(html).toContain('href="/account/totp"');
    expect(html).toContain('href="/account/password"');
    expect(html).toContain('Warta staff will never ask you for a code');
    expect(html).toContain('<script src="/static/account.js" defer=""></script>');
    // The CSP forbids inline scripts: every script element loads a file.
    expect(html.match(/<script[^>]*>/g)!.every((tag) => / src="\/static\//.test(tag))).toBe(true);
  });

  it('speaks Polish when the browser asks for it', async () => {
    const { client } = await enroll(runtime);
    const reply = await client.get('/account', { 'accept-language': 'pl-PL,pl;q=0.9,en;q=0.5' });
    expect(reply.body.text).toContain('Klucze dostępu');
    expect(reply.body.text).toContain('<html lang="pl">');
  });

  it('shows a blocked passkey and what to do about it', async () => {
    const { client, user } = await enroll(runtime);
    await runtime.db.updateTable('webauthn_credentials').set({ blocked_at: runtime.clock.now(), blocked_reason: 'sign_count_regressed' }).where('user_id', '=', user.id).execute();
    expect((await client.get('/account')).body.text).toContain('Contact the recovery desk');
  });
});

describe('passkey API for the signed-in user', () => {
  it('lists the passkeys without their keys', async () => {
    const { client } = await withTwoPasskeys();
    const reply = await client.get('/api/account/passkeys');
    expect(reply.body.sign_in_methods).toBe(2);
    expect(reply.body.passkeys.map((p: { name: string }) => p.name)).toEqual(['Laptop', 'YubiKey 5 — desk']);
    expect(JSON.stringify(reply.body)).not.toContain('public_key');
  });

  it('renames a passkey and audits it', async () => {
    const { client, passkeys, user } = await withTwoPasskeys();
    const reply = await client.call('PATCH', `/api/account/passkeys/${passkeys[0]!.id}`, { name: 'Work laptop' });
    expect(reply.status).toBe(200);
    expect(reply.body.passkey.name).toBe('Work laptop');
    expect(await lastAudit(runtime, 'passkey.renamed')).toMatchObject({ subject: `user:${user.id}`, details: { passkey_id: passkeys[0]!.id, name: 'Work laptop' } });
  });

  it('refuses to rename another user’s passkey, an empty name, or a name with control characters', async () => {
    const alice = await withTwoPasskeys();
    const bob = await enroll(runtime);
    expect((await bob.client.call('PATCH', `/api/account/passkeys/${alice.passkeys[0]!.id}`, { name: 'mine' })).body.error).toBe('passkey_not_found');
    expect((await alice.client.call('PATCH', `/api/account/passkeys/${alice.passkeys[0]!.id}`, { name: '   ' })).status).toBe(400);
    expect((await alice.client.call('PATCH', `/api/account/passkeys/${alice.passkeys[0]!.id}`, { name: 'a\u0000b' })).status).toBe(400);
    expect((await alice.client.call('PATCH', '/api/account/passkeys/not-a-uuid', { name: 'x' })).status).toBe(404);
    expect((await passkeysOf(alice.user.id))[0]!.name).toBe('Laptop');
  });

  it('removes a passkey after a recent passkey sign-in, and the removed passkey no longer signs in', async () => {
    const { client, passkeys, second, user } = await withTwoPasskeys();
    const reply = await client.call('DELETE', `/api/account/passkeys/${passkeys[1]!.id}`);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toEqual({ removed: true, remaining_sign_in_methods: 1 });
    expect(await lastAudit(runtime, 'passkey.removed')).toMatchObject({ subject: `user:${user.id}`, details: expect.objectContaining({ passkey_id: passkeys[1]!.id, remaining_sign_in_methods: 1 }) });
    expect((await signIn(runtime, browser(runtime), second)).body.error).toBe('credential_revoked');
  });

  it('asks for a passkey re-authentication when the last one is older than five minutes', async () => {
    const { client, passkeys, authenticator } = await withTwoPasskeys();
    runtime.clock.advance(301);
    const stale = await client.call('DELETE', `/api/account/passkeys/${passkeys[1]!.id}`);
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe('reauthentication_required');
    expect((await passkeysOf(passkeys[1]!.user_id)).every((p) => p.revoked_at === null)).toBe(true);

    expect((await reauthenticate(runtime, client, authenticator)).status).toBe(200);
    expect((await client.call('DELETE', `/api/account/passkeys/${passkeys[1]!.id}`)).status).toBe(200);
  });

  it('does not accept a password sign-in as the re-authentication for removing a passkey', async () => {
    const { passkeys, user } = await withTwoPasskeys();
    const passwordSession = browser(runtime);
    passwordSession.state.cookie = (await sessionCookie(runtime, (await runtime.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow()), ['pwd', 'otp'])).split('=')[1];
    const reply = await passwordSession.call('DELETE', `/api/account/passkeys/${passkeys[0]!.id}`);
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('reauthentication_required');
  });

  it('warns before removing the last way to sign in, and removes it only when confirmed', async () => {
    const { client, user, authenticator } = await enroll(runtime);
    const [only] = await passkeysOf(user.id);
    const warned = await client.call('DELETE', `/api/account/passkeys/${only!.id}`);
    expect(warned.status).toBe(409);
    expect(warned.body.error).toBe('last_sign_in_method');
    expect(warned.body.error_description).toMatch(/recovery desk/);
    expect((await passkeysOf(user.id))[0]!.revoked_at).toBeNull();

    const confirmed = await client.call('DELETE', `/api/account/passkeys/${only!.id}?confirm_last_method=true`);
    expect(confirmed.body).toEqual({ removed: true, remaining_sign_in_methods: 0 });
    expect(await lastAudit(runtime, 'passkey.removed')).toMatchObject({ details: expect.objectContaining({ last_method_confirmed: true }) });
    expect((await signIn(runtime, browser(runtime), authenticator)).body.error).toBe('credential_revoked');
  });

  it('lets only one of two simultaneous removals of the last two passkeys go through unconfirmed', async () => {
    const { client, passkeys, user } = await withTwoPasskeys();
    const replies = await Promise.all(passkeys.map((p) => client.call('DELETE', `/api/account/passkeys/${p.id}`)));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await countSignInMethods(runtime.db, user.id)).total).toBe(1);
  });

  it('needs a session', async () => {
    expect((await browser(runtime).get('/api/account/passkeys')).status).toBe(401);
    expect((await browser(runtime).call('DELETE', '/api/account/passkeys/00000000-0000-4000-8000-000000000000')).status).toBe(401);
  });
});

describe('countSignInMethods', () => {
  it('counts passkeys that can sign in: not removed, not blocked', async () => {
    const { passkeys, user } = await withTwoPasskeys();
    expect(await countSignInMethods(runtime.db, user.id)).toMatchObject({ total: 2, byMethod: { passkeys: 2 } });
    await runtime.db.updateTable('webauthn_credentials').set({ blocked_at: runtime.clock.now() }).where('id', '=', passkeys[0]!.id).execute();
    expect((await countSignInMethods(runtime.db, user.id)).total).toBe(1);
    await runtime.db.updateTable('webauthn_credentials').set({ revoked_at: runtime.clock.now() }).where('id', '=', passkeys[1]!.id).execute();
    expect((await countSignInMethods(runtime.db, user.id)).total).toBe(0);
  });

  it('is zero for a user who never had a passkey', async () => {
    const user = await createTestUser(runtime);
    expect((await countSignInMethods(runtime.db, user.id)).total).toBe(0);
  });
});
