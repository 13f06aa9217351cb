/**
 * The reference relying service (examples/relying-service/) against a real Warta,
 * both over HTTP: registered with the README's own `warta client create` and
 * `warta receiver add`, signing a person in with a software passkey, stepping up,
 * checking access tokens across a key rotation, and acting on back-channel logouts
 * and Security Event Tokens. The integration guide, as code that runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { createRelyingService } from '../../examples/relying-service/app.js';
import { readConfig } from '../../examples/relying-service/config.js';
import { generateClientKey } from '../../examples/relying-service/generate-key.js';
import { connectToWarta } from '../../examples/relying-service/sign-in.js';
import { runForwardedCli } from '../../src/cli/main.js';
import { deliverPendingEvents } from '../../src/events/deliver.js';
import { sessionCookieName } from '../../src/http/session-cookie.js';
import { deliverPendingLogouts } from '../../src/oidc/logout/backchannel.js';
import type { User } from '../../src/db/schema.js';
import { authorizeWithSession, pkceRequest, REDIRECT_URI, registerWebClient, startOidcServer } from '../oidc/support.js';
import { cleanUpLater, sessionCookie } from '../support/runtime.js';
import { browser, enroll, signIn } from '../webauthn/ceremony.js';

const warta = await startOidcServer();
const { runtime } = warta;
// The service (openid-client, jose) lives in real time, and Warta accepts client assertions only
// seconds ahead of its own clock: here Warta's clock is the real one too, however slow the machine.
runtime.clock.now = () => new Date();

/** A `warta …` command line, run by the CLI on this Warta's runtime, its JSON answer parsed. */
async function wartaCli(...argv: string[]): Promise<any> {
  const result = await runForwardedCli([...argv, '--json'], runtime, () => {});
  if (result.exitCode !== 0) throw new Error(`warta ${argv.join(' ')}: ${result.stdout}${result.stderr}`);
  return JSON.parse(result.stdout);
}

// The service listens before it exists, so its URLs can be registered at Warta first.
let serviceFetch: ((request: Request) => Response | Promise<Response>) | undefined;
const listener = serve({ fetch: (request) => (serviceFetch ? serviceFetch(request) : new Response('starting', { status: 503 })), port: 0, hostname: '127.0.0.1' });
await new Promise<void>((resolve) => (listener.listening ? resolve() : listener.once('listening', () => resolve())));
cleanUpLater(() => new Promise<void>((resolve) => listener.close(() => resolve())));
const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;

const files = mkdtempSync(path.join(tmpdir(), 'relying-service-'));
cleanUpLater(() => rmSync(files, { recursive: true, force: true }));
const { privateJwk, publicJwks } = await generateClientKey();
writeFileSync(path.join(files, 'client-key.json'), JSON.stringify(privateJwk));
writeFileSync(path.join(files, 'client-jwks.json'), JSON.stringify(publicJwks));
const SET_BEARER_TOKEN = 'receiver-secret-7f3a9c';
writeFileSync(path.join(files, 'set-token.txt'), `${SET_BEARER_TOKEN}\n`);

// README.md of the example, "Register it in Warta".
const registered = await wartaCli(
  'client', 'create', '--name', 'Records',
  '--grant-types', 'authorization_code',
  '--redirect-uri', `${base}/oidc/callback`,
  '--post-logout-redirect-uri', `${base}/signed-out`,
  '--backchannel-logout-uri', `${base}/oidc/backchannel-logout`,
  '--profile', 'fapi2', '--auth-method', 'private_key_jwt', '--jwks-file', path.join(files, 'client-jwks.json'),
  '--first-party',
);
// An app that calls the service's API: its access tokens are for the API's audience.
const apiCaller = await wartaCli('client', 'create', '--name', 'Records app', '--grant-types', 'authorization_code', '--redirect-uri', REDIRECT_URI, '--audience', `${base}/api`, '--first-party');
const config = readConfig({
  OIDC_ISSUER: warta.issuer,
  OIDC_CLIENT_ID: registered.client_id,
  OIDC_CLIENT_KEY_FILE: path.join(files, 'client-key.json'),
  SERVICE_BASE_URL: base,
  SET_BEARER_TOKEN_FILE: path.join(files, 'set-token.txt'),
  // No cooldown between JWKS fetches, so a rotation right after a fetch is seen at once.
  JWKS_COOLDOWN_SECONDS: '0',
});
const service = createRelyingService(config, await connectToWarta(config));
serviceFetch = service.app.fetch;

const wartaCookieName = sessionCookieName(runtime.config.secureCookies);

/** A browser at the service: keeps the service's cookies, follows nothing by itself. */
function serviceBrowser() {
  const jar = new Map<string, string>();
  async function request(target: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(new URL(target, base), { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [name, value] = cookie.split(';')[0]!.split('=') as [string, string];
      if (value === '' || /max-age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }
  return { jar, get: (target: string | URL) => request(target), post: (target: string, init: RequestInit = {}) => request(target, { ...init, method: 'POST' }) };
}
type ServiceBrowser = ReturnType<typeof serviceBrowser>;

const redirectOf = (response: Response): URL => {
  expect(response.status).toBe(303);
  return new URL(response.headers.get('location')!, base);
};

/** Service → Warta (with Warta's cookie) → the service's callback; returns Warta's answer. */
async function throughWarta(at: ServiceBrowser, startPath: string, wartaCookie: string): Promise<Response> {
  const toWarta = redirectOf(await at.get(startPath));
  expect(toWarta.origin).toBe(warta.issuer);
  // PAR: the browser carries only client_id and request_uri.
  expect([...toWarta.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  return fetch(toWarta, { redirect: 'manual', headers: { cookie: wartaCookie } });
}

/** Follows Warta's redirect to the callback and on to the page the sign-in was for. */
async function backToService(at: ServiceBrowser, wartaAnswer: Response): Promise<Response> {
  const callback = redirectOf(wartaAnswer);
  expect(callback.origin).toBe(base);
  const landing = redirectOf(await at.get(callback));
  return at.get(landing);
}

/** A person who enrolled a passkey (the software authenticator, through Warta's JSON API) and is signed in at Warta with it. */
async function passkeyPerson() {
  const enrolled = await enroll(runtime, { client: browser(runtime, { baseUrl: warta.issuer }) });
  const reply = await signIn(runtime, enrolled.client, enrolled.authenticator);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const organisation = await runtime.db.selectFrom('organisations').select('name').where('id', '=', enrolled.invitation.organisationId).executeTakeFirstOrThrow();
  return { ...enrolled, userId: enrolled.user.id, organisationName: organisation.name, wartaCookie: () => `${wartaCookieName}=${enrolled.client.state.cookie}` };
}

async function signedInAtService(wartaCookie: string) {
  const at = serviceBrowser();
  const home = await backToService(at, await throughWarta(at, '/login', wartaCookie));
  expect(home.status).toBe(200);
  return { at, home: await home.text() };
}

/** An access token Warta issues to `client` (a confidential web client) for the signed-in person. */
async function accessTokenFor(wartaCookie: string, client: { client_id: string; client_secret?: string } = apiCaller): Promise<string> {
  const configuration = await oidc.discovery(new URL(warta.issuer), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret!), { execute: [oidc.allowInsecureRequests] });
  const request = await pkceRequest(client, { scope: 'openid' });
  const callback = await authorizeWithSession(warta, request.params, wartaCookie);
  const tokens = await oidc.authorizationCodeGrant(configuration, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
  return tokens.access_token;
}

const callApi = (token: string | undefined) => fetch(`${base}/api/me`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

describe('sign-in, step-up and sign-out', () => {
  it('signs a passkey user in under the FAPI 2.0 profile (PAR, PKCE, private_key_jwt, DPoP) with an HttpOnly SameSite session, serves the passkey-only page, and signs out through end_session', async () => {
    // Warta refuses a fapi2 client's sign-in without PAR, without its key or without a DPoP proof: that this one succeeds is the proof.
    expect(registered).toMatchObject({ security_profile: 'fapi2', token_endpoint_auth_method: 'private_key_jwt', dpop_bound_access_tokens: true, require_pushed_authorization_requests: true });
    const person = await passkeyPerson();
    const at = serviceBrowser();
    const anonymous = await at.get('/');
    expect(await anonymous.text()).toContain('You are not signed in');

    const atWarta = await throughWarta(at, '/login', person.wartaCookie());
    const callback = redirectOf(atWarta);
    expect(callback.searchParams.get('iss')).toBe(warta.issuer);
    const landing = await at.get(callback);
    const setCookie = landing.headers.getSetCookie().find((cookie) => cookie.startsWith('session='))!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(redirectOf(landing).pathname).toBe('/');
    const home = await (await at.get('/')).text();
    expect(home).toContain('Signed in as');
    expect(home).toMatch(/urn:warta:acr:(phishing-resistant|hardware)/);

    const sensitive = await at.get('/sensitive');
    expect(sensitive.status).toBe(200);
    expect(await sensitive.text()).toContain('here are the records');

    const endSession = redirectOf(await at.post('/logout'));
    expect(endSession.origin + endSession.pathname).toBe(`${warta.issuer}/end_session`);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/signed-out`);
    const backHome = redirectOf(await fetch(endSession, { redirect: 'manual', headers: { cookie: person.wartaCookie() } }));
    expect(backHome.href).toBe(`${base}/signed-out`);
    expect(await (await at.get('/')).text()).toContain('You are not signed in');
    // Warta's session ended too: the next sign-in asks for a passkey again.
    expect(redirectOf(await throughWarta(at, '/login', person.wartaCookie())).pathname).toBe('/signin');
  });

  it('steps a password + TOTP session up to a passkey before the passkey-only page, and says so when the person goes back without one', async () => {
    const person = await passkeyPerson();
    const passwordAndTotp = await sessionCookie(runtime, { id: person.userId } as User, ['pwd', 'otp', 'mfa']);
    const { at, home } = await signedInAtService(passwordAndTotp);
    expect(home).toContain('urn:warta:acr:mfa');

    // The page is not served: the browser goes back to Warta asking for a passkey, and Warta asks for one.
    const stepUp = await throughWarta(at, '/sensitive', passwordAndTotp);
    const signInPage = redirectOf(stepUp);
    expect(signInPage.pathname).toBe('/signin');
    expect(signInPage.searchParams.get('acr')).toBe('phishing-resistant');

    // "Go back to Records" on Warta's sign-in page: the service tells the person what is missing.
    const requestId = new URL(signInPage.searchParams.get('return_to')!, warta.issuer).searchParams.get('request')!;
    const goBack = await fetch(warta.url('/authorize/consent'), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: passwordAndTotp, origin: warta.issuer, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: requestId, decision: 'unmet' }),
    });
    const refused = await at.get(redirectOf(goBack));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('needs a sign-in with a passkey');
    expect(await (await at.get('/')).text()).toContain('urn:warta:acr:mfa');

    // Signing in with the passkey at Warta completes the step-up: a new session, at the passkey level.
    const again = redirectOf(await throughWarta(at, '/sensitive', passwordAndTotp));
    expect((await signIn(runtime, person.client, person.authenticator)).status).toBe(200);
    const oldSessionId = at.jar.get('session');
    const sensitive = await backToService(at, await fetch(new URL(again.searchParams.get('return_to')!, warta.issuer), { redirect: 'manual', headers: { cookie: person.wartaCookie() } }));
    expect(sensitive.status).toBe(200);
    expect(await sensitive.text()).toContain('here are the records');
    expect(at.jar.get('session')).not.toBe(oldSessionId);
  });
});

describe('the API: Warta access tokens checked locally against the JWKS', () => {
  it('accepts a valid token and refuses a missing, forged, expired, other-audience, ID-token or sender-constrained one with 401 invalid_token', async () => {
    const person = await passkeyPerson();
    const token = await accessTokenFor(person.wartaCookie());
    const accepted = await callApi(token);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ sub: person.userId, client_id: apiCaller.client_id, scope: ['openid'] });

    const missing = await callApi(undefined);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="relying-service"');

    const claims = decodeJwt(token);
    const { kid } = decodeProtectedHeader(token);
    const now = Math.floor(Date.now() / 1000);
    const attacker = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: kid! }).sign(attacker.privateKey);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const expired = await runtime.signingKeys.sign({ ...claims, iat: now - 900, exp: now - 600 }, { typ: 'at+jwt' });
    const otherClient = await registerWebClient(runtime);
    const otherAudience = await accessTokenFor(person.wartaCookie(), otherClient);
    const dpopBound = await runtime.signingKeys.sign({ ...claims, cnf: { jkt: 'c2Vlbi1ieS1hbm90aGVyLWtleQ' } }, { typ: 'at+jwt' });
    const idTokenShaped = await runtime.signingKeys.sign({ ...claims }, { typ: 'JWT' });

    for (const [what, bad, reason] of [
      ['forged', forged, 'not signed by Warta'],
      ['unsigned', unsigned, 'malformed'],
      ['expired', expired, 'expired'],
      ['other audience', otherAudience, 'aud'],
      ['sender-constrained', dpopBound, 'proof of possession'],
      ['not an access token', idTokenShaped, 'typ'],
    ] as const) {
      const refused = await callApi(bad);
      expect(refused.status, what).toBe(401);
      expect(refused.headers.get('www-authenticate'), what).toMatch(/error="invalid_token"/);
      expect((await refused.json()).error_description, what).toContain(reason);
    }
  });

  it('keeps verifying after Warta rotates its signing key (warta keys rotate): the unknown kid makes it fetch the JWKS again', async () => {
    const person = await passkeyPerson();
    const before = await accessTokenFor(person.wartaCookie());
    expect((await callApi(before)).status).toBe(200);

    const rotation = await wartaCli('keys', 'rotate', '--publish-ahead-seconds', '0');
    const after = await accessTokenFor(person.wartaCookie());
    expect(decodeProtectedHeader(after).kid).toBe(rotation.kid);
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    expect((await callApi(after)).status).toBe(200);
    // The replaced key stays published until its tokens have expired.
    expect((await callApi(before)).status).toBe(200);
  });
});

describe('back-channel logout (OpenID Connect Back-Channel Logout 1.0)', () => {
  const postLogoutToken = (token: string) =>
    fetch(`${base}/oidc/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }) });

  it('ends the service session when the person signs out at Warta', async () => {
    const person = await passkeyPerson();
    const { at, home } = await signedInAtService(person.wartaCookie());
    expect(home).toContain('Signed in as');

    const signOut = await fetch(warta.url('/signout'), { method: 'POST', redirect: 'manual', headers: { cookie: person.wartaCookie(), origin: warta.issuer } });
    expect(signOut.status).toBe(303);
    // Every logout Warta had queued for the service (earlier tests' sign-outs too) is accepted.
    const report = await deliverPendingLogouts(runtime);
    expect(report.delivered).toBeGreaterThanOrEqual(1);
    expect(report.delivered).toBe(report.claimed);
    expect(await (await at.get('/')).text()).toContain('You are not signed in');
  });

  it('ends the service session when the operator disables the person (warta user disable)', async () => {
    const person = await passkeyPerson();
    const { at } = await signedInAtService(person.wartaCookie());
    await wartaCli('user', 'disable', '--username', person.user.username, '--reason', 'left the ministry');
    const report = await deliverPendingLogouts(runtime);
    expect(report.delivered).toBeGreaterThanOrEqual(1);
    expect(report.delivered).toBe(report.claimed);
    expect(await (await at.get('/')).text()).toContain('You are not signed in');
  });

  it('refuses logout tokens that fail §2.6 with 400, and ends nothing', async () => {
    const person = await passkeyPerson();
    const { at } = await signedInAtService(person.wartaCookie());
    const sid = (await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', person.userId).where('revoked_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirstOrThrow()).id;
    const now = Math.floor(Date.now() / 1000);
    const valid = { iss: warta.issuer, aud: registered.client_id, iat: now, exp: now + 120, jti: crypto.randomUUID(), sub: person.userId, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } };
    const attacker = await generateKeyPair('ES256');
    const { kid } = decodeProtectedHeader(await runtime.signingKeys.sign({}, { typ: 'logout+jwt' }));

    for (const [what, token] of [
      ['with a nonce', await runtime.signingKeys.sign({ ...valid, nonce: 'n-0S6_WzA2Mj' }, { typ: 'logout+jwt' })],
      ['without the event', await runtime.signingKeys.sign({ ...valid, events: {} }, { typ: 'logout+jwt' })],
      ['for another client', await runtime.signingKeys.sign({ ...valid, aud: 'another-client' }, { typ: 'logout+jwt' })],
      ['an ID token', await runtime.signingKeys.sign(valid, { typ: 'JWT' })],
      ['naming no one', await runtime.signingKeys.sign({ ...valid, sub: undefined, sid: undefined }, { typ: 'logout+jwt' })],
      ['forged', await new SignJWT(valid).setProtectedHeader({ alg: 'ES256', typ: 'logout+jwt', kid: kid! }).sign(attacker.privateKey)],
    ] as const) {
      const refused = await postLogoutToken(token);
      expect(refused.status, what).toBe(400);
      expect((await refused.json()).error, what).toBe('invalid_request');
    }
    expect(await (await at.get('/')).text()).toContain('Signed in as');

    // The genuine article works, once; its replay is acknowledged and does nothing more.
    const genuine = await runtime.signingKeys.sign(valid, { typ: 'logout+jwt' });
    expect((await postLogoutToken(genuine)).status).toBe(200);
    expect(await (await at.get('/')).text()).toContain('You are not signed in');
    expect((await postLogoutToken(genuine)).status).toBe(200);
  });
});

describe('Security Event Tokens (RFC 8417, pushed per RFC 8935)', () => {
  const postSet = (token: string, headers: Record<string, string> = { authorization: `Bearer ${SET_BEARER_TOKEN}` }) =>
    fetch(`${base}/security-events`, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt', ...headers }, body: token });

  /** Delivery rounds until Warta's outbox has nothing due (one SET per receiver and user per round). */
  async function deliverAllEvents(): Promise<void> {
    for (let round = 0; round < 20; round++) if ((await deliverPendingEvents(runtime)).claimed === 0) return;
    throw new Error('SET delivery did not settle');
  }

  it('shows "a new device was linked" on the person\'s next page, once', async () => {
    const person = await passkeyPerson();
    // README.md of the example, "Receive security events".
    await wartaCli('receiver', 'add', '--org', person.organisationName, '--url', `${base}/security-events`, '--audience', `${base}/security-events`, '--bearer-token-file', path.join(files, 'set-token.txt'));
    const { at } = await signedInAtService(person.wartaCookie());
    await deliverAllEvents();
    // The service's own sign-in linked a device too: that notice is read away first.
    expect(await (await at.get('/')).text()).toContain('A new device was linked');

    // The person links the messenger on another device.
    const messenger = await registerWebClient(runtime, { client_name: 'Messenger' });
    await authorizeWithSession(warta, { ...(await pkceRequest(messenger, { scope: 'openid', device_name: 'Pixel 8 (work)' })).params }, person.wartaCookie());
    await deliverAllEvents();
    const page = await (await at.get('/')).text();
    expect(page).toContain('A new device was linked to your account: “Pixel 8 (work)”');
    expect(await (await at.get('/')).text()).not.toContain('Pixel 8 (work)');
  });

  it('answers 503, so Warta sends it again, a SET signed with a key it cannot fetch yet (within the JWKS cooldown)', async () => {
    const person = await passkeyPerson();
    // A second instance of the service with jose's default 30-second cooldown between JWKS fetches.
    const cautious = createRelyingService({ ...config, jwksCooldownSeconds: 30 }, await connectToWarta(config));
    const pushSet = async () => {
      const now = Math.floor(Date.now() / 1000);
      const set = { iss: warta.issuer, iat: now, jti: crypto.randomUUID(), aud: config.setAudience, sub_id: { format: 'iss_sub', iss: warta.issuer, sub: person.userId }, events: { 'urn:warta:secevent:device-linked': { device_id: 'd1', device_name: 'Laptop', event_timestamp: now } } };
      const token = await runtime.signingKeys.sign(set, { typ: 'secevent+jwt' });
      return cautious.app.request('/security-events', { method: 'POST', headers: { 'content-type': 'application/secevent+jwt', authorization: `Bearer ${SET_BEARER_TOKEN}` }, body: token });
    };
    expect((await pushSet()).status).toBe(202);
    await wartaCli('keys', 'rotate', '--publish-ahead-seconds', '0');
    const retryLater = await pushSet();
    expect(retryLater.status).toBe(503);
    expect(await retryLater.json()).not.toHaveProperty('err');
  });

  it('refuses a SET without the bearer token (401), or for another audience, forged, or of the wrong type (400 with the RFC 8935 code)', async () => {
    const person = await passkeyPerson();
    const { at } = await signedInAtService(person.wartaCookie());
    const set = {
      iss: warta.issuer,
      iat: Math.floor(Date.now() / 1000),
      jti: crypto.randomUUID(),
      aud: `${base}/security-events`,
      sub_id: { format: 'iss_sub', iss: warta.issuer, sub: person.userId },
      events: { 'https://schemas.openid.net/secevent/risc/event-type/sessions-revoked': { event_timestamp: Math.floor(Date.now() / 1000) } },
    };
    const attacker = await generateKeyPair('ES256');
    const { kid } = decodeProtectedHeader(await runtime.signingKeys.sign({}, { typ: 'secevent+jwt' }));

    expect((await postSet(await runtime.signingKeys.sign(set, { typ: 'secevent+jwt' }), {})).status).toBe(401);
    expect((await postSet(await runtime.signingKeys.sign(set, { typ: 'secevent+jwt' }), { authorization: 'Bearer guessed' })).status).toBe(401);
    for (const [what, token, err] of [
      ['other audience', await runtime.signingKeys.sign({ ...set, aud: 'https://elsewhere.example.gov/events' }, { typ: 'secevent+jwt' }), 'invalid_audience'],
      ['forged', await new SignJWT(set).setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid: kid! }).sign(attacker.privateKey), 'invalid_key'],
      ['a logout token', await runtime.signingKeys.sign(set, { typ: 'logout+jwt' }), 'invalid_request'],
    ] as const) {
      const refused = await postSet(token);
      expect(refused.status, what).toBe(400);
      expect((await refused.json()).err, what).toBe(err);
    }
    expect(await (await at.get('/')).text()).toContain('Signed in as');

    // The same SET, genuine: every session of the person ends (RISC sessions-revoked).
    expect((await postSet(await runtime.signingKeys.sign(set, { typ: 'secevent+jwt' }))).status).toBe(202);
    expect(await (await at.get('/')).text()).toContain('You are not signed in');
  });
});
