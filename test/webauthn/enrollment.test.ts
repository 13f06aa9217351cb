import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/crypto/random.js';
import { ACR_HARDWARE } from '../../src/sessions/service.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { createTestRuntime } from '../support/runtime.js';
import { auditActions, browser, enroll, enrollmentOptions, inviteTo, origin, TEST_ENV } from './ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

describe('enrollment from an invitation', () => {
  it('offers options that require user verification, prefer a discoverable key, and allow ES256, EdDSA and RS256 only', async () => {
    const { token, invitation } = await inviteTo(runtime);
    const options = await enrollmentOptions(browser(runtime), token);
    expect(options.rp).toEqual({ id: 'localhost', name: 'Warta' });
    expect(options.user.name).toBe(invitation.email);
    expect(options.user.displayName).toBe('Anna Nowak');
    expect(Buffer.from(options.user.id, 'base64url')).toHaveLength(32);
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'preferred', userVerification: 'required' });
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-7, -8, -257]);
    expect(options.attestation).toBe('none');
    expect(options.excludeCredentials).toEqual([]);
    expect(options.timeout).toBe(300_000);
  });

  it('stores the challenge hashed, bound to the invitation and the enrollment ceremony, expiring after 5 minutes', async () => {
    const { token, invitation } = await inviteTo(runtime);
    const options = await enrollmentOptions(browser(runtime), token);
    const row = await runtime.db.selectFrom('webauthn_challenges').selectAll().where('challenge_hash', '=', hashToken(options.challenge)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ ceremony: 'enrollment', invitation_id: invitation.id, user_id: null, used_at: null, user_handle: options.user.id });
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(300_000);
    const all = await runtime.db.selectFrom('webauthn_challenges').selectAll().execute();
    expect(JSON.stringify(all)).not.toContain(options.challenge);
  });

  it('creates the user, stores the passkey, consumes the invitation and signs in, in one transaction', async () => {
    const { user, invitation, authenticator, reply, client } = await enroll(runtime, { name: 'YubiKey 5 — desk' });
    expect(reply.body).toMatchObject({ user: { username: invitation.invitation.email }, passkey: { name: 'YubiKey 5 — desk', type: 'device_bound' }, amr: ['hwk', 'user'], acr: ACR_HARDWARE, redirect_to: '/account' });

    const stored = await runtime.db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', user.id).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ credential_id: authenticator.credentials[0]!.id, aaguid: authenticator.aaguid, attestation_fmt: 'none', backup_eligible: false, sign_count: 0 });
    const redeemed = await runtime.db.selectFrom('invitations').selectAll().where('id', '=', invitation.invitation.id).executeTakeFirstOrThrow();
    expect(redeemed.redeemed_by).toBe(user.id);
    const handle = await runtime.db.selectFrom('webauthn_user_handles').select('handle').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(handle.handle).toBe(authenticator.credentials[0]!.userHandle);

    // Only the hash of the session id is stored.
    const sessions = await runtime.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.token_hash).toBe(hashToken(client.state.cookie!));
    expect(JSON.stringify(sessions)).not.toContain(client.state.cookie);

    expect(await auditActions(runtime, `user:${user.id}`)).toEqual(['passkey.registered', 'signin.succeeded']);
    expect(await auditActions(runtime, `invitation:${invitation.invitation.id}`)).toContain('invitation.redeemed');
  });

  it('sets an HttpOnly, SameSite=Lax session cookie for the whole site', async () => {
    const { reply } = await enroll(runtime);
    const cookie = reply.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^warta_session=[\w-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Domain=/);
  });

  it('records a synced passkey as swk', async () => {
    const { reply } = await enroll(runtime, { authenticator: { backupEligible: true } });
    expect(reply.body.amr).toEqual(['swk', 'user']);
    expect(reply.body.passkey).toMatchObject({ type: 'synced', name: 'Synced passkey' });
  });

  it('refuses a second use of the invitation and stores nothing more', async () => {
    const { invitation, user } = await enroll(runtime);
    const again = await browser(runtime).post('/api/webauthn/enrollment/options', { invitation: invitation.token });
    expect(again.status).toBe(410);
    expect(again.body.error).toBe('invitation_used');
    expect(await runtime.db.selectFrom('users').select('id').where('email', '=', invitation.invitation.email).execute()).toEqual([{ id: user.id }]);
  });

  it('lets exactly one of two enrollments racing on one invitation win', async () => {
    const { token, invitation } = await inviteTo(runtime);
    const [a, b] = [browser(runtime), browser(runtime)];
    const [optionsA, optionsB] = [await enrollmentOptions(a, token), await enrollmentOptions(b, token)];
    const credentialA = new SoftAuthenticator().createCredential(optionsA, { origin: origin(runtime) });
    const credentialB = new SoftAuthenticator().createCredential(optionsB, { origin: origin(runtime) });
    const replies = await Promise.all([a.post('/api/webauthn/enrollment/verify', { invitation: token, credential: credentialA }), b.post('/api/webauthn/enrollment/verify', { invitation: token, credential: credentialB })]);
    expect(replies.map((r) => r.status).sort()).toEqual([201, 410]);
    const users = await runtime.db.selectFrom('users').select('id').where('email', '=', invitation.email).execute();
    expect(users).toHaveLength(1);
    expect(await runtime.db.selectFrom('webauthn_credentials').select('id').where('user_id', '=', users[0]!.id).execute()).toHaveLength(1);
  });

  it('leaves the invitation usable when the passkey fails verification', async () => {
    const { token, invitation } = await inviteTo(runtime);
    const client = browser(runtime);
    const options = await enrollmentOptions(client, token);
    const bad = new SoftAuthenticator().createCredential(options, { origin: 'https://warta.example.evil' });
    const refused = await client.post('/api/webauthn/enrollment/verify', { invitation: token, credential: bad });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('origin_mismatch');
    const row = await runtime.db.selectFrom('invitations').selectAll().where('id', '=', invitation.id).executeTakeFirstOrThrow();
    expect(row.redeemed_at).toBeNull();
    expect(await auditActions(runtime, `invitation:${invitation.id}`)).toEqual(['invitation.created', 'passkey.registration_failed']);

    const retry = new SoftAuthenticator().createCredential(await enrollmentOptions(client, token), { origin: origin(runtime) });
    expect((await client.post('/api/webauthn/enrollment/verify', { invitation: token, credential: retry })).status).toBe(201);
  });

  it('refuses a challenge issued for another invitation', async () => {
    const first = await inviteTo(runtime);
    const second = await inviteTo(runtime);
    const client = browser(runtime);
    const options = await enrollmentOptions(client, first.token);
    const credential = new SoftAuthenticator().createCredential(options, { origin: origin(runtime) });
    const refused = await client.post('/api/webauthn/enrollment/verify', { invitation: second.token, credential });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('challenge_foreign');
    // The rightful invitee can still finish: a foreign attempt does not spend the challenge.
    expect((await client.post('/api/webauthn/enrollment/verify', { invitation: first.token, credential })).status).toBe(201);
  });
});

describe('enrollment over https', async () => {
  const secure = await createTestRuntime({ env: { ...TEST_ENV, WARTA_ISSUER: 'https://id.example.gov' } });

  it('names the cookie __Host-warta_session and marks it Secure', async () => {
    const { reply } = await enroll(secure);
    const cookie = reply.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^__Host-warta_session=/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });
});
