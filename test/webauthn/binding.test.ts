/**
 * A passkey's assurance is bounded by how it was bound (src/webauthn/binding.ts).
 * The attack, end to end over HTTP: a phished password and TOTP code give an
 * `mfa` session; that session adds the attacker's passkey; a sign-in with it
 * must stay `mfa`, in the session and in the ID token a relying service gets,
 * until an officer at the desk or the owner's phishing-resistant passkey
 * confirms that named passkey. Plus the device-bound tier (`hardware`).
 */
import { describe, expect, it } from 'vitest';
import type { User } from '../../src/db/schema.js';
import { sessionCookieName } from '../../src/http/session-cookie.js';
import { ACR_HARDWARE, ACR_MFA, ACR_PHISHING_RESISTANT } from '../../src/sessions/service.js';
import { authorizeWithSession, basicAuth, browserGet, locationOf, pkceRequest, postForm, REDIRECT_URI, registerWebClient, startOidcServer } from '../oidc/support.js';
import { codeAt, GOOD_PASSWORD, givePasswordAndTotp } from '../passwords/support.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { type Browser, browser, enroll, origin, reauthenticate, signIn, TEST_ENV } from './ceremony.js';

const server = await startOidcServer(TEST_ENV);
const { runtime } = server;
const client = await registerWebClient(runtime);

const web = () => browser(runtime, { baseUrl: server.issuer });
const cookieOf = (b: Browser) => `${sessionCookieName(runtime.config.secureCookies)}=${b.state.cookie}`;
const passkeyRow = (id: string) => runtime.db.selectFrom('webauthn_credentials').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const audits = (action: string, subject: string) => runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('subject', '=', subject).orderBy('id').execute();

/** A member enrolled by invitation with a device-bound passkey, who also has a password and TOTP (the factors a phishing page collects). */
async function victim(options: { role?: 'member' | 'recovery_officer'; organisationId?: string } = {}) {
  // Officers here may hold a password too (passkeyRequiredRoles: []), so an officer's own phished factors can be tried.
  const enrolled = await enroll(runtime, { client: web(), policy: { passkeyRequiredRoles: [] }, ...options } as Parameters<typeof enroll>[1]);
  const user = await runtime.db.selectFrom('users').selectAll().where('id', '=', enrolled.user.id).executeTakeFirstOrThrow();
  const { secret } = await givePasswordAndTotp(runtime, user);
  return { ...enrolled, user, secret };
}

/** The attacker signs in with the phished password and TOTP code: an `mfa` session. */
async function phishedSession(target: { user: User; secret: Uint8Array }): Promise<Browser> {
  const attacker = web();
  const reply = await attacker.post('/api/signin/password', { username: target.user.username, password: GOOD_PASSWORD, code: codeAt(target.secret, runtime.clock) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body.acr).toBe(ACR_MFA);
  runtime.clock.advance(30);
  return attacker;
}

async function addPasskey(b: Browser, authenticator: SoftAuthenticator, name: string): Promise<{ id: string; bound_acr: string; confirmation_needed: boolean }> {
  const options = await b.post('/api/webauthn/registration/options', {});
  expect(options.status, JSON.stringify(options.body)).toBe(200);
  const reply = await b.post('/api/webauthn/registration/verify', { credential: authenticator.createCredential(options.body as never, { origin: origin(runtime) }), name });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.passkey;
}

/** What a relying service gets from a sign-in on `b`: the ID token's claims. */
async function idTokenClaims(b: Browser, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const request = await pkceRequest(client, extra);
  const callback = await authorizeWithSession(server, request.params, cookieOf(b));
  const token = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return JSON.parse(Buffer.from((token.body.id_token as string).split('.')[1]!, 'base64url').toString());
}

/** The attacker's state after the attack: their own passkey on the victim's account. */
async function plantedPasskey(target: Awaited<ReturnType<typeof victim>>, options: { backupEligible?: boolean } = {}) {
  const attacker = await phishedSession(target);
  const authenticator = new SoftAuthenticator({ backupEligible: options.backupEligible ?? false });
  const passkey = await addPasskey(attacker, authenticator, 'Attacker key');
  return { attacker, authenticator, passkey };
}

describe('a passkey added from a password + TOTP session (attack: phished factors mint "phishing-resistant")', () => {
  it('signs in at mfa, not phishing-resistant, in the session and in the ID token (amr still says a passkey was used)', async () => {
    const target = await victim();
    const { authenticator, passkey } = await plantedPasskey(target);
    expect(passkey).toMatchObject({ bound_acr: ACR_MFA, confirmation_needed: true });
    expect(await passkeyRow(passkey.id)).toMatchObject({ bound_acr: ACR_MFA, bound_via: 'session', confirmed_at: null });

    const later = web();
    const signedIn = await signIn(runtime, later, authenticator);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(signedIn.body).toMatchObject({ amr: ['hwk', 'user'], acr: ACR_MFA });
    expect(await idTokenClaims(later)).toMatchObject({ sub: target.user.id, acr: ACR_MFA, amr: ['hwk', 'user'] });

    // A service asking for phishing resistance sends this session to sign in again with a passkey.
    const strict = await pkceRequest(client, { acr_values: ACR_PHISHING_RESISTANT });
    const stepUp = locationOf(await browserGet(`${server.url('/authorize')}?${new URLSearchParams(strict.params)}`, cookieOf(later)));
    expect(stepUp.pathname).toBe('/signin');
    expect(stepUp.searchParams.get('acr')).toBe('phishing-resistant');
  });

  it('re-authenticates at mfa with it too (it cannot lift a session to phishing-resistant)', async () => {
    const target = await victim();
    const { attacker, authenticator } = await plantedPasskey(target);
    const reauth = await reauthenticate(runtime, attacker, authenticator);
    expect(reauth.status, JSON.stringify(reauth.body)).toBe(200);
    expect(reauth.body.acr).toBe(ACR_MFA);
  });

  it('binds at phishing-resistant when added from a session that used a passkey', async () => {
    const target = await victim();
    const added = await addPasskey(target.client, new SoftAuthenticator(), 'Second key');
    expect(added).toMatchObject({ bound_acr: ACR_PHISHING_RESISTANT, confirmation_needed: false });
    expect((await passkeyRow(added.id)).bound_via).toBe('passkey_session');
  });

  it('is phishing-resistant after the owner confirms it from a passkey session', async () => {
    const target = await victim();
    const { authenticator, passkey } = await plantedPasskey(target);
    expect((await reauthenticate(runtime, target.client, target.authenticator)).status).toBe(200);
    const confirmed = await target.client.post(`/api/account/passkeys/${passkey.id}/confirm`, {});
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body.passkey).toMatchObject({ bound_acr: ACR_PHISHING_RESISTANT, confirmation_needed: false });
    expect(await passkeyRow(passkey.id)).toMatchObject({ bound_acr: ACR_PHISHING_RESISTANT, confirmed_by: target.user.id });
    expect((await audits('passkey.confirmed', `user:${target.user.id}`)).at(-1)?.details).toMatchObject({ passkey_id: passkey.id, by: 'owner' });

    const later = web();
    expect((await signIn(runtime, later, authenticator)).body).toMatchObject({ amr: ['hwk', 'user'], acr: ACR_HARDWARE });
    expect(await idTokenClaims(later, { acr_values: ACR_HARDWARE })).toMatchObject({ acr: ACR_HARDWARE });
  });

  it('refuses the confirmation from a password + TOTP session, audited, nothing changed', async () => {
    const target = await victim();
    const { attacker, passkey } = await plantedPasskey(target);
    const refused = await attacker.post(`/api/account/passkeys/${passkey.id}/confirm`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('reauthentication_required');
    expect(await passkeyRow(passkey.id)).toMatchObject({ bound_acr: ACR_MFA, confirmed_at: null, confirmed_by: null });
    expect((await audits('passkey.confirmation_refused', `user:${target.user.id}`)).at(-1)).toMatchObject({ outcome: 'failure', details: expect.objectContaining({ passkey_id: passkey.id, reason: 'reauthentication_required', session_acr: ACR_MFA }) });
  });

  it('refuses the confirmation when the passkey session was verified more than 5 minutes ago', async () => {
    const target = await victim();
    const { passkey } = await plantedPasskey(target);
    expect((await reauthenticate(runtime, target.client, target.authenticator)).status).toBe(200);
    runtime.clock.advance(301);
    const refused = await target.client.post(`/api/account/passkeys/${passkey.id}/confirm`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('reauthentication_required');
    expect((await passkeyRow(passkey.id)).bound_acr).toBe(ACR_MFA);
    expect((await audits('passkey.confirmation_refused', `user:${target.user.id}`)).length).toBe(1);
  });

  it('refuses to confirm a passkey that is already phishing-resistant (409) or someone else\'s (404)', async () => {
    const target = await victim();
    const other = await victim();
    const { passkey } = await plantedPasskey(other);
    expect((await reauthenticate(runtime, target.client, target.authenticator)).status).toBe(200);
    const own = await runtime.db.selectFrom('webauthn_credentials').select('id').where('user_id', '=', target.user.id).executeTakeFirstOrThrow();
    expect((await target.client.post(`/api/account/passkeys/${own.id}/confirm`, {})).body.error).toBe('passkey_not_awaiting_confirmation');
    const foreign = await target.client.post(`/api/account/passkeys/${passkey.id}/confirm`, {});
    expect(foreign.status).toBe(404);
    expect((await passkeyRow(passkey.id)).bound_acr).toBe(ACR_MFA);
  });
});

describe('confirmation by an officer at the recovery desk', () => {
  async function desk() {
    const officer = await victim({ role: 'recovery_officer' });
    const target = await victim({ organisationId: officer.user.organisation_id });
    const planted = await plantedPasskey(target);
    return { officer, target, ...planted };
  }

  it('lists the person\'s passkeys and confirms the named one with a fresh officer passkey: later sign-ins are phishing-resistant', async () => {
    const { officer, target, authenticator, passkey } = await desk();
    const listed = await officer.client.get(`/api/recovery/people/${target.user.id}/passkeys`);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.passkeys).toEqual(expect.arrayContaining([expect.objectContaining({ id: passkey.id, name: 'Attacker key', confirmation_needed: true })]));

    expect((await reauthenticate(runtime, officer.client, officer.authenticator)).status).toBe(200);
    const confirmed = await officer.client.post(`/api/recovery/people/${target.user.id}/passkeys/${passkey.id}/confirm`, {});
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(await passkeyRow(passkey.id)).toMatchObject({ bound_acr: ACR_PHISHING_RESISTANT, confirmed_by: officer.user.id });
    expect((await audits('passkey.confirmed', `user:${target.user.id}`)).at(-1)).toMatchObject({ actor: `user:${officer.user.id}`, details: expect.objectContaining({ by: 'officer', officer_id: officer.user.id }) });

    const later = web();
    expect((await signIn(runtime, later, authenticator)).body.acr).toBe(ACR_HARDWARE);
    expect(await idTokenClaims(later)).toMatchObject({ acr: ACR_HARDWARE });
  });

  it('refuses an officer confirming their own passkey, audited, nothing changed', async () => {
    const officer = await victim({ role: 'recovery_officer' });
    // The officer's own password + TOTP session adds a passkey; their passkey session tries to vouch for it.
    const { passkey } = await plantedPasskey(officer);
    expect((await reauthenticate(runtime, officer.client, officer.authenticator)).status).toBe(200);
    const refused = await officer.client.post(`/api/recovery/people/${officer.user.id}/passkeys/${passkey.id}/confirm`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('own_passkey');
    expect(await passkeyRow(passkey.id)).toMatchObject({ bound_acr: ACR_MFA, confirmed_by: null });
    expect((await audits('passkey.confirmation_refused', `user:${officer.user.id}`)).at(-1)).toMatchObject({ outcome: 'failure', details: expect.objectContaining({ by: 'officer', reason: 'own_passkey' }) });
  });

  it('refuses an officer whose passkey was verified more than 5 minutes ago, audited, nothing changed', async () => {
    const { officer, target, passkey } = await desk();
    runtime.clock.advance(301);
    const refused = await officer.client.post(`/api/recovery/people/${target.user.id}/passkeys/${passkey.id}/confirm`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('reauthentication_required');
    expect((await passkeyRow(passkey.id)).bound_acr).toBe(ACR_MFA);
    expect((await audits('passkey.confirmation_refused', `user:${target.user.id}`)).at(-1)?.details).toMatchObject({ reason: 'reauthentication_required' });
  });

  it('refuses a person of another organisation (404), audited', async () => {
    const officer = await victim({ role: 'recovery_officer' });
    const outsider = await victim();
    const { passkey } = await plantedPasskey(outsider);
    expect((await reauthenticate(runtime, officer.client, officer.authenticator)).status).toBe(200);
    const refused = await officer.client.post(`/api/recovery/people/${outsider.user.id}/passkeys/${passkey.id}/confirm`, {});
    expect(refused.status).toBe(404);
    expect((await passkeyRow(passkey.id)).bound_acr).toBe(ACR_MFA);
    expect((await audits('passkey.confirmation_refused', `user:${outsider.user.id}`)).length).toBe(1);
  });
});

describe('the device-bound tier, urn:warta:acr:hardware', () => {
  it('is advertised in discovery, strongest last', async () => {
    const metadata = (await (await fetch(server.url('/.well-known/openid-configuration'))).json()) as Record<string, unknown>;
    expect(metadata.acr_values_supported).toEqual([ACR_MFA, ACR_PHISHING_RESISTANT, ACR_HARDWARE]);
  });

  it('refuses a synced passkey for acr_values=hardware (step-up), and accepts it for phishing-resistant', async () => {
    const synced = await enroll(runtime, { client: web(), authenticator: { backupEligible: true } });
    expect(synced.reply.body).toMatchObject({ amr: ['swk', 'user'], acr: ACR_PHISHING_RESISTANT });
    const hardware = await pkceRequest(client, { acr_values: ACR_HARDWARE });
    const stepUp = locationOf(await browserGet(`${server.url('/authorize')}?${new URLSearchParams(hardware.params)}`, cookieOf(synced.client)));
    expect(stepUp.pathname).toBe('/signin');
    expect(stepUp.searchParams.get('acr')).toBe('hardware');
    // The sign-in page does not wave the synced session through either.
    expect((await browserGet(server.url(`/signin?${stepUp.searchParams}`), cookieOf(synced.client))).status).toBe(200);
    expect(await idTokenClaims(synced.client, { acr_values: ACR_PHISHING_RESISTANT })).toMatchObject({ acr: ACR_PHISHING_RESISTANT, amr: ['swk', 'user'] });
  });

  it('accepts a device-bound passkey for hardware and for a client registered to require it', async () => {
    const bound = await enroll(runtime, { client: web(), authenticator: { backupEligible: false } });
    expect(bound.reply.body).toMatchObject({ amr: ['hwk', 'user'], acr: ACR_HARDWARE });
    expect(await idTokenClaims(bound.client, { acr_values: ACR_HARDWARE })).toMatchObject({ acr: ACR_HARDWARE, amr: ['hwk', 'user'] });
    const strict = await registerWebClient(runtime, { required_acr: ACR_HARDWARE });
    const request = await pkceRequest(strict);
    expect((await authorizeWithSession(server, request.params, cookieOf(bound.client))).searchParams.get('code')).toBeTruthy();
  });

  it('refuses hardware to a device-bound passkey added from a password + TOTP session', async () => {
    const target = await victim();
    const { authenticator } = await plantedPasskey(target, { backupEligible: false });
    const later = web();
    expect((await signIn(runtime, later, authenticator)).body.acr).toBe(ACR_MFA);
    const hardware = await pkceRequest(client, { acr_values: ACR_HARDWARE });
    expect(locationOf(await browserGet(`${server.url('/authorize')}?${new URLSearchParams(hardware.params)}`, cookieOf(later))).pathname).toBe('/signin');
  });
});
