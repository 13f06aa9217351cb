/**
 * First-party native sign-in without a browser (draft-ietf-oauth-first-party-apps,
 * src/first-party/), over real HTTP: the app's passkey assertion, made with the
 * Android app's origin, becomes an authorization code and then the same tokens the
 * code flow gives.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type CryptoKey, decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { OPERATOR, organisationAdmin, registerClient } from '../../src/clients/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { ACR_HARDWARE } from '../../src/sessions/service.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { enroll, lastAudit } from '../webauthn/ceremony.js';
import { postForm, startOidcServer } from './support.js';

const certificate = randomBytes(32);
const fingerprint = [...certificate].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
const APP_ORIGIN = `android:apk-key-hash:${certificate.toString('base64url')}`;
const NATIVE_REDIRECT = 'gov.example.messenger:/oauth/callback';

const server = await startOidcServer({ WARTA_ANDROID_APPS: `gov.example.messenger=${fingerprint}` });
const { runtime } = server;
const CHALLENGE_URL = server.url('/authorize-challenge');
const TOKEN_URL = server.url('/token');

const messengerMetadata = { client_name: 'Messenger', application_type: 'native', redirect_uris: [NATIVE_REDIRECT], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile email offline_access', first_party: true };
const messenger = await registerClient(runtime, { actor: 'test' }, { ...messengerMetadata, first_party_native: true }, { authority: OPERATOR });
const browserOnly = await registerClient(runtime, { actor: 'test' }, { ...messengerMetadata, client_name: 'Browser-only app' }, { authority: OPERATOR });

interface DpopKey {
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

async function dpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

const dpopProof = (key: DpopKey, url: string, nonce?: string) =>
  new SignJWT({ jti: randomUUID(), htm: 'POST', htu: url, iat: Math.floor(runtime.clock.now().getTime() / 1000), ...(nonce ? { nonce } : {}) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk }).sign(key.privateKey);

async function challengeRequest(form: Record<string, string>, key: DpopKey | undefined) {
  return postForm(CHALLENGE_URL, form, key ? { dpop: await dpopProof(key, CHALLENGE_URL) } : {});
}

async function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const { createHash } = await import('node:crypto');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Step 1: the auth_session and the passkey request options. */
async function startChallenge(key: DpopKey, options: { clientId?: string; extra?: Record<string, string> } = {}) {
  const { verifier, challenge } = await pkce();
  const reply = await challengeRequest({ client_id: options.clientId ?? messenger.client_id, scope: 'openid profile offline_access', code_challenge: challenge, code_challenge_method: 'S256', nonce: 'n-0S6_WzA2Mj', ...options.extra }, key);
  return { reply, verifier, authSession: reply.body.auth_session as string, webauthnOptions: reply.body.webauthn_options as PublicKeyCredentialRequestOptionsJSON };
}

/** Step 2: the assertion for the auth_session. */
const answerChallenge = (key: DpopKey | undefined, authSession: string, assertion: unknown, clientId = messenger.client_id) =>
  challengeRequest({ client_id: clientId, auth_session: authSession, webauthn_response: JSON.stringify(assertion) }, key);

async function redeem(key: DpopKey, code: string, verifier: string, extra: Record<string, string> = {}) {
  return postForm(TOKEN_URL, { grant_type: 'authorization_code', client_id: messenger.client_id, code, code_verifier: verifier, ...extra }, { dpop: await dpopProof(key, TOKEN_URL) });
}

const liveSessions = (userId: string) => runtime.db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
const codesOfClient = (clientId: string) => runtime.db.selectFrom('oauth_authorization_codes').select('code_hash').where('client_id', '=', clientId).execute();

describe('the authorization challenge endpoint', () => {
  it('is published in discovery', async () => {
    const metadata = (await (await fetch(server.url('/.well-known/openid-configuration'))).json()) as Record<string, unknown>;
    expect(metadata.authorization_challenge_endpoint).toBe(CHALLENGE_URL);
  });

  it('signs a user in with a passkey from the Android app and gives the tokens of the code flow, DPoP-bound', async () => {
    const { authenticator, user } = await enroll(runtime);
    const key = await dpopKey();
    const started = await startChallenge(key);
    expect(started.reply.status, JSON.stringify(started.reply.body)).toBe(403);
    expect(started.reply.body).toMatchObject({ error: 'insufficient_authorization', auth_session: expect.any(String), expires_in: runtime.config.webauthn.challengeTtlSeconds });
    expect(started.reply.headers.get('cache-control')).toBe('no-store');
    expect(started.webauthnOptions).toMatchObject({ rpId: runtime.config.webauthn.rpId, userVerification: 'required', allowCredentials: [] });

    const assertion = authenticator.getAssertion(started.webauthnOptions, { origin: APP_ORIGIN });
    const answered = await answerChallenge(key, started.authSession, assertion);
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    expect(answered.body).toEqual({ authorization_code: expect.any(String) });

    const tokens = await redeem(key, answered.body.authorization_code as string, started.verifier);
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'DPoP', refresh_token: expect.any(String), scope: 'openid profile offline_access' });
    const access = decodeJwt(tokens.body.access_token as string);
    expect(access).toMatchObject({ sub: user.id, client_id: messenger.client_id, cnf: { jkt: key.jkt } });
    const idToken = decodeJwt(tokens.body.id_token as string);
    // A device-bound passkey, as in a browser sign-in (test/webauthn/authentication.test.ts).
    expect(idToken).toMatchObject({ sub: user.id, aud: messenger.client_id, nonce: 'n-0S6_WzA2Mj', acr: ACR_HARDWARE, amr: ['hwk', 'user'] });
    expect(await lastAudit(runtime, 'oidc.authorized')).toMatchObject({ actor: `user:${user.id}`, subject: `client:${messenger.client_id}` });
    expect(await lastAudit(runtime, 'signin.succeeded')).toMatchObject({ subject: `user:${user.id}`, details: expect.objectContaining({ method: 'passkey' }) });
  });

  it('refuses a client the operator has not marked first-party native', async () => {
    const key = await dpopKey();
    const { reply } = await startChallenge(key, { clientId: browserOnly.client_id });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('unauthorized_client');
  });

  it('refuses an unknown client with invalid_client', async () => {
    const { reply } = await startChallenge(await dpopKey(), { clientId: 'no-such-client' });
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('invalid_client');
  });

  it('refuses a request without DPoP, and an auth_session presented with another DPoP key', async () => {
    const { reply } = await startChallenge(undefined as unknown as DpopKey);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_dpop_proof');

    const { authenticator } = await enroll(runtime);
    const key = await dpopKey();
    const started = await startChallenge(key);
    const assertion = authenticator.getAssertion(started.webauthnOptions, { origin: APP_ORIGIN });
    const noProof = await answerChallenge(undefined, started.authSession, assertion);
    expect(noProof.body.error).toBe('invalid_dpop_proof');
    const stolen = await answerChallenge(await dpopKey(), started.authSession, assertion);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_session');
    // Neither attempt spent the auth_session: its owner still signs in.
    expect((await answerChallenge(key, started.authSession, assertion)).status).toBe(200);
  });

  it('refuses an assertion from an app signed with another key (another apk-key-hash origin)', async () => {
    const { authenticator } = await enroll(runtime);
    const key = await dpopKey();
    const started = await startChallenge(key);
    const phishing = authenticator.getAssertion(started.webauthnOptions, { origin: `android:apk-key-hash:${randomBytes(32).toString('base64url')}` });
    const before = await codesOfClient(messenger.client_id);
    const reply = await answerChallenge(key, started.authSession, phishing);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('origin_mismatch');
    expect(reply.body.authorization_code).toBeUndefined();
    expect(await codesOfClient(messenger.client_id)).toHaveLength(before.length);
  });

  it('refuses a forged assertion: a bad signature, or a passkey never registered', async () => {
    const { authenticator } = await enroll(runtime);
    const key = await dpopKey();
    const forged = await startChallenge(key);
    const badSignature = await answerChallenge(key, forged.authSession, authenticator.getAssertion(forged.webauthnOptions, { origin: APP_ORIGIN, overrides: { corruptSignature: true } }));
    expect(badSignature.status).toBe(401);
    expect(badSignature.body.error).toBe('signature_invalid');

    const stranger = new SoftAuthenticator({});
    stranger.createCredential(
      { rp: { id: runtime.config.webauthn.rpId, name: 'Warta' }, user: { id: randomBytes(16).toString('base64url'), name: 'x', displayName: 'x' }, challenge: randomBytes(32).toString('base64url'), pubKeyCredParams: [{ type: 'public-key', alg: -7 }] },
      { origin: runtime.config.origin },
    );
    const unknown = await startChallenge(key);
    const strangerOptions = { ...unknown.webauthnOptions, allowCredentials: [{ id: stranger.credentials[0]!.id, type: 'public-key' as const }] };
    const reply = await answerChallenge(key, unknown.authSession, stranger.getAssertion(strangerOptions, { origin: APP_ORIGIN }));
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('credential_unknown');
    expect(reply.body.authorization_code).toBeUndefined();
  });

  it('refuses a replayed assertion: on the same auth_session, and on a fresh one', async () => {
    const { authenticator } = await enroll(runtime);
    const key = await dpopKey();
    const started = await startChallenge(key);
    const assertion = authenticator.getAssertion(started.webauthnOptions, { origin: APP_ORIGIN });
    expect((await answerChallenge(key, started.authSession, assertion)).status).toBe(200);

    const again = await answerChallenge(key, started.authSession, assertion);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_session');

    const fresh = await startChallenge(key);
    const replayed = await answerChallenge(key, fresh.authSession, assertion);
    expect(replayed.status).toBe(400);
    expect(replayed.body.error).toBe('challenge_mismatch');
  });

  it('binds the code to the DPoP key and to no redirect URI', async () => {
    const { authenticator } = await enroll(runtime);
    const key = await dpopKey();
    const started = await startChallenge(key);
    const answered = await answerChallenge(key, started.authSession, authenticator.getAssertion(started.webauthnOptions, { origin: APP_ORIGIN }));
    const code = answered.body.authorization_code as string;
    const otherKey = await redeem(await dpopKey(), code, started.verifier);
    expect(otherKey.body.error).toBe('invalid_grant');
    const withRedirect = await redeem(key, code, started.verifier, { redirect_uri: NATIVE_REDIRECT });
    expect(withRedirect.body.error).toBe('invalid_grant');
    const wrongVerifier = await redeem(key, code, randomBytes(32).toString('base64url'));
    expect(wrongVerifier.body.error).toBe('invalid_grant');
    expect((await redeem(key, code, started.verifier)).status).toBe(200);
  });

  it('refuses a user of another organisation at an organisation’s client (access_denied, audited), and issues no code', async () => {
    const owner = await createOrganisation(runtime, { actor: 'test' }, { name: `Owner ${randomBytes(3).toString('hex')}` });
    const orgApp = await registerClient(runtime, { actor: 'test' }, { ...messengerMetadata, client_name: 'Org app', first_party_native: true }, { authority: OPERATOR, organisationId: owner.id });
    const { authenticator, user } = await enroll(runtime);
    const key = await dpopKey();
    const started = await startChallenge(key, { clientId: orgApp.client_id });
    const reply = await answerChallenge(key, started.authSession, authenticator.getAssertion(started.webauthnOptions, { origin: APP_ORIGIN }), orgApp.client_id);
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('access_denied');
    expect(await lastAudit(runtime, 'oidc.organisation_refused')).toMatchObject({ subject: `client:${orgApp.client_id}`, details: expect.objectContaining({ user_id: user.id }) });
    expect(await codesOfClient(orgApp.client_id)).toEqual([]);
  });

  it('refuses a passkey below the client’s required acr', async () => {
    const strict = await registerClient(runtime, { actor: 'test' }, { ...messengerMetadata, client_name: 'Hardware only', first_party_native: true, required_acr: ACR_HARDWARE }, { authority: OPERATOR });
    const { authenticator, user } = await enroll(runtime, { authenticator: { backupEligible: true } });
    const key = await dpopKey();
    const started = await startChallenge(key, { clientId: strict.client_id });
    const reply = await answerChallenge(key, started.authSession, authenticator.getAssertion(started.webauthnOptions, { origin: APP_ORIGIN }), strict.client_id);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('unmet_authentication_requirements');
    expect(await codesOfClient(strict.client_id)).toEqual([]);
    expect(await liveSessions(user.id)).toHaveLength(1); // the enrollment's; the refused sign-in's is ended
  });

  it('asks for the server’s DPoP nonce when the client requires one', async () => {
    const nonced = await registerClient(runtime, { actor: 'test' }, { ...messengerMetadata, client_name: 'Nonce app', first_party_native: true, require_dpop_nonce: true }, { authority: OPERATOR });
    const key = await dpopKey();
    const { challenge } = await pkce();
    const form = { client_id: nonced.client_id, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' };
    const first = await postForm(CHALLENGE_URL, form, { dpop: await dpopProof(key, CHALLENGE_URL) });
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce')!;
    expect(nonce).toBeTruthy();
    const second = await postForm(CHALLENGE_URL, form, { dpop: await dpopProof(key, CHALLENGE_URL, nonce) });
    expect(second.status, JSON.stringify(second.body)).toBe(403);
    expect(second.body.error).toBe('insufficient_authorization');
    expect(second.headers.get('dpop-nonce')).toBeTruthy();
  });

  it('refuses a request without PKCE', async () => {
    const reply = await challengeRequest({ client_id: messenger.client_id, scope: 'openid' }, await dpopKey());
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
  });
});

describe('the first_party_native setting', () => {
  it('is the operator’s alone: an organisation admin asking for it is refused and audited, and nothing is registered', async () => {
    const organisation = await createOrganisation(runtime, { actor: 'test' }, { name: `Native ${randomBytes(3).toString('hex')}` });
    const attempt = registerClient(runtime, { actor: 'user:admin' }, { ...messengerMetadata, first_party: false, client_name: 'Look-alike', first_party_native: true }, { authority: organisationAdmin(organisation.id) });
    await expect(attempt).rejects.toMatchObject({ status: 403, code: 'operator_only_setting' });
    expect(await lastAudit(runtime, 'client.operator_setting_refused')).toMatchObject({ outcome: 'failure', details: expect.objectContaining({ client_name: 'Look-alike', settings: ['first_party_native'] }) });
    expect(await runtime.db.selectFrom('oauth_clients').select('client_id').where('client_name', '=', 'Look-alike').execute()).toEqual([]);
  });

  it('needs a native client', async () => {
    const web = { client_name: 'Portal', redirect_uris: ['https://portal.example.gov/callback'], first_party: true, first_party_native: true };
    await expect(registerClient(runtime, { actor: 'test' }, web, { authority: OPERATOR })).rejects.toMatchObject({ code: 'invalid_client_metadata' });
  });
});
