/** The authorization endpoint: OIDC Core §3.1.2, RFC 7636, RFC 8252, RFC 9126, RFC 9207. */
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { hashToken } from '../../src/crypto/random.js';
import { issueAuthorizationCode } from '../../src/oidc/authorize/issue-code.js';
import { ACR_HARDWARE, ACR_MFA, ACR_PHISHING_RESISTANT, startSession } from '../../src/sessions/service.js';
import { createTestUser, sessionCookie } from '../support/runtime.js';
import { authorizeWithSession, basicAuth, browserGet, discover, idTokenClaims, locationOf, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server = await startOidcServer();
const { runtime } = server;

const authorizeUrl = (params: Record<string, string> | [string, string][]) => `${server.url('/authorize')}?${new URLSearchParams(params)}`;

/** The error the client receives at its redirect URI (asserting state and iss come back). */
function clientError(response: Response, state: string): { error: string | null; description: string | null } {
  const location = locationOf(response);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  expect(location.searchParams.get('state')).toBe(state);
  expect(location.searchParams.get('iss')).toBe(server.issuer);
  expect(location.searchParams.has('code')).toBe(false);
  return { error: location.searchParams.get('error'), description: location.searchParams.get('error_description') };
}

/** An error shown to the user, with nothing sent to any redirect URI. */
async function errorPage(response: Response): Promise<string> {
  expect(response.status).toBe(400);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('content-type')).toMatch(/text\/html/);
  return response.text();
}

const client = await registerWebClient(runtime);
const thirdParty = await registerWebClient(runtime, { client_name: 'Ministry Wiki', first_party: false });
const passkeyUser = await signedInUser(runtime, ['hwk', 'user']);
const totpUser = await signedInUser(runtime, ['pwd', 'otp', 'mfa']);

describe('PKCE (RFC 7636, required for every client)', () => {
  it('refuses a request without code_challenge', async () => {
    const { params, state } = await pkceRequest(client);
    delete params.code_challenge;
    expect(clientError(await browserGet(authorizeUrl(params), passkeyUser.cookie), state)).toMatchObject({ error: 'invalid_request', description: expect.stringMatching(/code_challenge required/) });
  });

  it('refuses the plain method, and a challenge without a method (which means plain)', async () => {
    for (const method of ['plain', undefined]) {
      const { params, state } = await pkceRequest(client);
      if (method === undefined) delete params.code_challenge_method;
      else params.code_challenge_method = method;
      expect(clientError(await browserGet(authorizeUrl(params), passkeyUser.cookie), state).error).toBe('invalid_request');
    }
  });
});

describe('redirect URI (exact match; never redirect to an unregistered one)', () => {
  it.each([
    ['another host', 'https://evil.example/callback'],
    ['a trailing slash', `${REDIRECT_URI}/`],
    ['an added query', `${REDIRECT_URI}?next=/`],
    ['a different path', 'http://127.0.0.1:8765/callback2'],
    ['localhost instead of 127.0.0.1', 'http://localhost:8765/callback'],
  ])('shows an error page for %s', async (_label, redirectUri) => {
    const { params } = await pkceRequest(client, { redirect_uri: redirectUri });
    expect(await errorPage(await browserGet(authorizeUrl(params), passkeyUser.cookie))).toContain('redirect_uri is not registered');
  });

  it('shows an error page when redirect_uri is missing or the client is unknown', async () => {
    const { params } = await pkceRequest(client);
    delete params.redirect_uri;
    await errorPage(await browserGet(authorizeUrl(params), passkeyUser.cookie));
    const unknown = await pkceRequest({ client_id: 'no-such-client' });
    await errorPage(await browserGet(authorizeUrl(unknown.params), passkeyUser.cookie));
  });

  it('shows an error page for a client that may not use the code flow', async () => {
    const backend = await registerClient(runtime, { actor: 'test' }, { client_name: 'Backend', grant_types: ['client_credentials'] }, { authority: OPERATOR });
    expect(await errorPage(await browserGet(authorizeUrl((await pkceRequest(backend)).params), passkeyUser.cookie))).toContain('unauthorized_client');
  });

  it('delivers to a native app’s private-use scheme (RFC 8252 §7.1)', async () => {
    const app = await registerClient(runtime, { actor: 'test' }, { client_name: 'Messenger', application_type: 'native', redirect_uris: ['gov.messenger.app:/oauth/callback'], first_party: true }, { authority: OPERATOR });
    const request = await pkceRequest(app, { redirect_uri: 'gov.messenger.app:/oauth/callback', scope: 'openid' });
    const location = locationOf(await browserGet(authorizeUrl(request.params), passkeyUser.cookie));
    expect(location.protocol).toBe('gov.messenger.app:');
    expect(await idTokenClaims(server, location, request, app)).toMatchObject({ sub: passkeyUser.user.id, aud: app.client_id, nonce: request.nonce });
  });
});

describe('parameters', () => {
  it('refuses a duplicated parameter at the redirect URI when the client and redirect URI check out (RFC 6749 §3.1, §4.1.2.1)', async () => {
    const { params, state } = await pkceRequest(client);
    const entries: [string, string][] = [...Object.entries(params), ['scope', 'openid']];
    const { error, description } = clientError(await browserGet(authorizeUrl(entries), passkeyUser.cookie), state);
    expect(error).toBe('invalid_request');
    expect(description).toContain('more than once');
  });

  it('shows a page for a duplicated client_id or redirect_uri: parameter pollution must not choose the destination', async () => {
    const { params } = await pkceRequest(client);
    for (const name of ['client_id', 'redirect_uri']) {
      const entries: [string, string][] = [...Object.entries(params), [name, params[name]!]];
      expect(await errorPage(await browserGet(authorizeUrl(entries), passkeyUser.cookie))).toContain('more than once');
    }
  });

  it('refuses an oversized parameter', async () => {
    const { params, state } = await pkceRequest(client, { nonce: 'x'.repeat(3000) });
    const { error, description } = clientError(await browserGet(authorizeUrl(params), passkeyUser.cookie), state);
    expect(error).toBe('invalid_request');
    expect(description).toContain('at most');
  });

  it('returns unsupported_response_type to the client for response_type=token: no implicit flow (OIDC Core §3.1.2.6)', async () => {
    const { params, state } = await pkceRequest(client, { response_type: 'token' });
    const response = await browserGet(authorizeUrl(params), passkeyUser.cookie);
    expect(clientError(response, state).error).toBe('unsupported_response_type');
    // A strict client takes it as an authorization error from this issuer (RFC 9207 iss checked), not as a broken response.
    const issuer = new URL(server.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    expect(() => oauth.validateAuthResponse(as, { client_id: client.client_id }, locationOf(response), state)).toThrow(expect.objectContaining({ error: 'unsupported_response_type' }));
  });

  it('returns invalid_request to the client when response_type is missing, also to a POSTed request', async () => {
    const { params, state } = await pkceRequest(client);
    const { response_type: _omitted, ...withoutType } = params;
    expect(clientError(await browserGet(authorizeUrl(withoutType), passkeyUser.cookie), state)).toMatchObject({ error: 'invalid_request', description: 'response_type required' });
    const posted = await fetch(server.url('/authorize'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: passkeyUser.cookie }, body: new URLSearchParams(withoutType) });
    expect(clientError(posted, state).error).toBe('invalid_request');
  });

  it('shows a parse-stage error as a page when the client is unknown or the redirect URI is not registered', async () => {
    const { params } = await pkceRequest(client, { response_type: 'token' });
    expect(await errorPage(await browserGet(authorizeUrl({ ...params, client_id: 'no-such-client' }), passkeyUser.cookie))).toContain('unsupported_response_type');
    expect(await errorPage(await browserGet(authorizeUrl({ ...params, redirect_uri: 'https://evil.example/callback' }), passkeyUser.cookie))).toContain('unsupported_response_type');
    const { redirect_uri: _omitted, ...withoutRedirect } = params;
    expect(await errorPage(await browserGet(authorizeUrl(withoutRedirect), passkeyUser.cookie))).toContain('unsupported_response_type');
  });

  it('returns invalid_scope for a scope the client is not registered for', async () => {
    const { params, state } = await pkceRequest(client, { scope: 'openid admin:everything' });
    expect(clientError(await browserGet(authorizeUrl(params), passkeyUser.cookie), state).error).toBe('invalid_scope');
  });

  it('accepts the request by POST as well as GET (OIDC Core §3.1.2.1)', async () => {
    const request = await pkceRequest(client);
    const response = await fetch(server.url('/authorize'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: passkeyUser.cookie }, body: new URLSearchParams(request.params) });
    expect(await idTokenClaims(server, locationOf(response), request, client)).toMatchObject({ sub: passkeyUser.user.id, aud: client.client_id, nonce: request.nonce });
  });
});

describe('sign-in', () => {
  it('stores the request and sends the browser to /signin with a relative return_to; resumes after sign-in', async () => {
    const request = await pkceRequest(client, { login_hint: 'anna@example.gov', ui_locales: 'pl-PL en' });
    const signin = locationOf(await browserGet(authorizeUrl(request.params)));
    expect(signin.pathname).toBe('/signin');
    expect(signin.searchParams.get('login_hint')).toBe('anna@example.gov');
    expect(signin.searchParams.get('lang')).toBe('pl');
    const returnTo = signin.searchParams.get('return_to')!;
    expect(returnTo).toMatch(/^\/authorize\/resume\?request=[\w-]{43}$/);
    // Only the hash of the request id is stored.
    const id = new URLSearchParams(returnTo.split('?')[1]).get('request')!;
    expect(await runtime.db.selectFrom('oauth_authorization_requests').select('kind').where('id_hash', '=', hashToken(id)).executeTakeFirst()).toEqual({ kind: 'interactive' });

    const { user, cookie } = await signedInUser(runtime);
    const callback = locationOf(await browserGet(server.url(returnTo), cookie));
    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(await idTokenClaims(server, callback, request, client)).toMatchObject({ sub: user.id, aud: client.client_id, nonce: request.nonce });
    // The request is done: it cannot yield a second code.
    expect(await errorPage(await browserGet(server.url(returnTo), cookie))).toContain('expired or was already completed');
  });

  it('issues one code for a waiting request: a second issue (a resume racing the first) writes nothing', async () => {
    const request = await pkceRequest(client);
    const returnTo = locationOf(await browserGet(authorizeUrl(request.params))).searchParams.get('return_to')!;
    const id = new URLSearchParams(returnTo.split('?')[1]).get('request')!;
    const user = await createTestUser(runtime);
    const { session } = await startSession(runtime.db, runtime, { userId: user.id, amr: ['hwk', 'user'], ip: null, userAgent: 'vitest' });
    const codeRequest = { clientId: client.client_id, redirectUri: REDIRECT_URI, scopes: ['openid'], nonce: undefined, codeChallenge: request.params.code_challenge!, dpopJkt: undefined };
    // Both resumes found the request waiting; only the statement that marks it done decides.
    const issue = () => issueAuthorizationCode(runtime, { actor: 'anonymous' }, { request: codeRequest, clientName: client.client_name, session, pendingRequestId: id });
    await issue();
    await expect(issue()).rejects.toMatchObject({ code: 'invalid_request' });
    const count = async (table: 'oauth_grants' | 'devices' | 'security_events') => Number((await runtime.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', user.id).executeTakeFirstOrThrow()).n);
    expect([await count('oauth_grants'), await count('devices'), await count('security_events')]).toEqual([1, 1, 1]);
    const audited = await runtime.db.selectFrom('audit_log').select('action').where('actor', '=', `user:${user.id}`).where('action', 'in', ['oidc.authorized', 'device.linked']).execute();
    expect(audited.map((entry) => entry.action).sort()).toEqual(['device.linked', 'oidc.authorized']);
  });

  it('returns login_required for prompt=none without a session', async () => {
    const { params, state } = await pkceRequest(client, { prompt: 'none' });
    expect(clientError(await browserGet(authorizeUrl(params)), state).error).toBe('login_required');
  });

  it('returns consent_required for prompt=none when a third-party client lacks consent', async () => {
    const { params, state } = await pkceRequest(thirdParty, { prompt: 'none' });
    expect(clientError(await browserGet(authorizeUrl(params), passkeyUser.cookie), state).error).toBe('consent_required');
  });

  it('forces a fresh sign-in for prompt=login, and accepts one made after the request', async () => {
    const { user, cookie } = await signedInUser(runtime);
    runtime.clock.advance(5);
    const request = await pkceRequest(client, { prompt: 'login' });
    const signin = locationOf(await browserGet(authorizeUrl(request.params), cookie));
    expect(signin.pathname).toBe('/signin');
    expect(signin.searchParams.get('prompt')).toBe('login');
    const resume = server.url(signin.searchParams.get('return_to')!);
    // Coming back with the old session is not a fresh sign-in.
    expect(locationOf(await browserGet(resume, cookie)).pathname).toBe('/signin');
    const fresh = await sessionCookie(runtime, user);
    // auth_time is the fresh sign-in's, made after the request.
    expect(await idTokenClaims(server, locationOf(await browserGet(resume, fresh)), request, client)).toMatchObject({ sub: user.id, auth_time: Math.floor(runtime.clock.now().getTime() / 1000) });
  });

  it('ends with login_required, not a redirect loop, when the browser keeps coming back without a fresh sign-in', async () => {
    const { cookie } = await signedInUser(runtime);
    runtime.clock.advance(5);
    const { params, state } = await pkceRequest(client, { prompt: 'login' });
    const resume = server.url(locationOf(await browserGet(authorizeUrl(params), cookie)).searchParams.get('return_to')!);
    for (let round = 0; round < 3; round++) expect(locationOf(await browserGet(resume, cookie)).pathname).toBe('/signin');
    expect(clientError(await browserGet(resume, cookie), state).error).toBe('login_required');
  });

  it('re-authenticates when max_age has passed, and reports auth_time', async () => {
    const { user, cookie } = await signedInUser(runtime);
    runtime.clock.advance(120);
    const stale = await pkceRequest(client, { max_age: '60' });
    expect(locationOf(await browserGet(authorizeUrl(stale.params), cookie)).pathname).toBe('/signin');
    const fine = await pkceRequest(client, { max_age: '600' });
    const callback = locationOf(await browserGet(authorizeUrl(fine.params), cookie));
    const config = await discover(server, client);
    runtime.clock.set(new Date());
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: fine.verifier, expectedState: fine.state, expectedNonce: fine.nonce, maxAge: 600 });
    expect(tokens.claims()!.sub).toBe(user.id);
    expect(typeof tokens.claims()!.auth_time).toBe('number');
  });
});

describe('assurance: acr_values step-up', () => {
  it('sends a password+TOTP session to sign in again with a passkey for acr_values=phishing-resistant', async () => {
    const { user, cookie } = await signedInUser(runtime, ['pwd', 'otp', 'mfa']);
    runtime.clock.advance(1);
    const request = await pkceRequest(client, { acr_values: ACR_PHISHING_RESISTANT });
    const signin = locationOf(await browserGet(authorizeUrl(request.params), cookie));
    expect(signin.pathname).toBe('/signin');
    expect(signin.searchParams.get('acr')).toBe('phishing-resistant');

    const passkey = await sessionCookie(runtime, user, ['hwk', 'user']);
    const callback = locationOf(await browserGet(server.url(signin.searchParams.get('return_to')!), passkey));
    // A device-bound passkey reaches hardware, but the token claims the value the client asked for; amr says hwk.
    expect(await idTokenClaims(server, callback, request, client)).toMatchObject({ sub: user.id, acr: ACR_PHISHING_RESISTANT, amr: ['hwk', 'user'] });
  });

  it('claims the strongest listed value the sign-in meets, and the session\'s own acr when none is listed', async () => {
    const listed = await pkceRequest(client, { acr_values: `${ACR_PHISHING_RESISTANT} ${ACR_HARDWARE}` });
    expect(await idTokenClaims(server, await authorizeWithSession(server, listed.params, passkeyUser.cookie), listed, client)).toMatchObject({ acr: ACR_HARDWARE });
    const unlisted = await pkceRequest(client);
    expect(await idTokenClaims(server, await authorizeWithSession(server, unlisted.params, passkeyUser.cookie), unlisted, client)).toMatchObject({ acr: ACR_HARDWARE });
  });

  it('sends a synced passkey\'s session to sign in again when the client asks for hardware', async () => {
    const { cookie } = await signedInUser(runtime, ['swk', 'user']);
    runtime.clock.advance(1);
    const request = await pkceRequest(client, { acr_values: ACR_HARDWARE });
    const signin = locationOf(await browserGet(authorizeUrl(request.params), cookie));
    expect(signin.pathname).toBe('/signin');
    expect(signin.searchParams.get('acr')).toBe('hardware');
  });

  it('refuses with unmet_authentication_requirements when the new sign-in is still not a passkey', async () => {
    const { user, cookie } = await signedInUser(runtime, ['pwd', 'otp', 'mfa']);
    runtime.clock.advance(1);
    const { params, state } = await pkceRequest(client, { acr_values: ACR_PHISHING_RESISTANT });
    const signin = locationOf(await browserGet(authorizeUrl(params), cookie));
    const again = await sessionCookie(runtime, user, ['pwd', 'otp', 'mfa']);
    expect(clientError(await browserGet(server.url(signin.searchParams.get('return_to')!), again), state).error).toBe('unmet_authentication_requirements');
  });

  it('accepts password+TOTP for acr_values=mfa, and a passkey for "mfa phishing-resistant"', async () => {
    const mfa = await pkceRequest(client, { acr_values: ACR_MFA });
    expect(await idTokenClaims(server, await authorizeWithSession(server, mfa.params, totpUser.cookie), mfa, client)).toMatchObject({ sub: totpUser.user.id, acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] });
    const either = await pkceRequest(client, { acr_values: `${ACR_MFA} ${ACR_PHISHING_RESISTANT}` });
    expect(await idTokenClaims(server, await authorizeWithSession(server, either.params, totpUser.cookie), either, client)).toMatchObject({ sub: totpUser.user.id, acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] });
    const passkey = await pkceRequest(client, { acr_values: `${ACR_MFA} ${ACR_PHISHING_RESISTANT}` });
    expect(await idTokenClaims(server, await authorizeWithSession(server, passkey.params, passkeyUser.cookie), passkey, client)).toMatchObject({ sub: passkeyUser.user.id, acr: ACR_PHISHING_RESISTANT, amr: ['hwk', 'user'] });
  });

  it('steps up for a client registered to require phishing resistance, without acr_values', async () => {
    const strict = await registerWebClient(runtime, { required_acr: ACR_PHISHING_RESISTANT });
    const { params, state } = await pkceRequest(strict, { prompt: 'none' });
    expect(clientError(await browserGet(authorizeUrl(params), totpUser.cookie), state).error).toBe('login_required');
    const interactive = await pkceRequest(strict);
    expect(locationOf(await browserGet(authorizeUrl(interactive.params), totpUser.cookie)).searchParams.get('acr')).toBe('phishing-resistant');
    expect(await idTokenClaims(server, await authorizeWithSession(server, interactive.params, passkeyUser.cookie), interactive, strict)).toMatchObject({ sub: passkeyUser.user.id, aud: strict.client_id, acr: ACR_PHISHING_RESISTANT });
  });
});

describe('consent', () => {
  it('speaks the language the client asks for with ui_locales to a signed-in user (OIDC Core §3.1.2.1)', async () => {
    const { cookie } = await signedInUser(runtime);
    const polish = await (await browserGet(authorizeUrl((await pkceRequest(thirdParty, { ui_locales: 'de-DE pl-PL en' })).params), cookie)).text();
    expect(polish).toContain('<html lang="pl"');
    expect(polish).toContain('Zezwolić na dostęp?');
    // Without ui_locales, or with none Warta speaks, the visitor's own language (here: none asked, English).
    const english = await (await browserGet(authorizeUrl((await pkceRequest(thirdParty, { ui_locales: 'de' })).params), cookie)).text();
    expect(english).toContain('Allow access?');
  });

  it('asks once for a third-party client, naming it and the scopes, and remembers the answer', async () => {
    const { user, cookie } = await signedInUser(runtime);
    const first = await pkceRequest(thirdParty, { scope: 'openid email' });
    const page = await browserGet(authorizeUrl(first.params), cookie);
    expect(page.status).toBe(200);
    // The form's submission ends in a redirect to the client: form-action allows exactly its origin.
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self' http://127.0.0.1:8765;");
    const html = await page.text();
    expect(html).toContain('Ministry Wiki');
    expect(html).toContain('Your e-mail address');
    const requestId = /name="request" value="([^"]+)"/.exec(html)![1]!;

    const allowed = await fetch(server.url('/authorize/consent'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: server.issuer }, body: new URLSearchParams({ request: requestId, decision: 'allow' }) });
    expect(await idTokenClaims(server, locationOf(allowed), first, thirdParty)).toMatchObject({ sub: user.id, aud: thirdParty.client_id, nonce: first.nonce });
    expect(await runtime.db.selectFrom('oauth_consents').select('scope').where('user_id', '=', user.id).where('client_id', '=', thirdParty.client_id).executeTakeFirst()).toEqual({ scope: 'openid email' });
    const audit = await runtime.db.selectFrom('audit_log').select('action').where('action', '=', 'oidc.consent_granted').where('subject', '=', `client:${thirdParty.client_id}`).execute();
    expect(audit.length).toBeGreaterThan(0);

    const second = await pkceRequest(thirdParty, { scope: 'openid email' });
    expect(await idTokenClaims(server, await authorizeWithSession(server, second.params, cookie), second, thirdParty)).toMatchObject({ sub: user.id, aud: thirdParty.client_id, nonce: second.nonce });
    // A wider scope asks again.
    expect((await browserGet(authorizeUrl((await pkceRequest(thirdParty, { scope: 'openid email profile' })).params), cookie)).status).toBe(200);
  });

  it('returns access_denied when the user denies', async () => {
    const { cookie } = await signedInUser(runtime);
    const { params, state } = await pkceRequest(thirdParty);
    const requestId = /name="request" value="([^"]+)"/.exec(await (await browserGet(authorizeUrl(params), cookie)).text())![1]!;
    const denied = await fetch(server.url('/authorize/consent'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams({ request: requestId, decision: 'deny' }) });
    expect(clientError(denied, state).error).toBe('access_denied');
  });

  it('refuses a consent form posted from another origin (CSRF)', async () => {
    const { cookie } = await signedInUser(runtime);
    const { params } = await pkceRequest(thirdParty);
    const requestId = /name="request" value="([^"]+)"/.exec(await (await browserGet(authorizeUrl(params), cookie)).text())![1]!;
    const forged = await fetch(server.url('/authorize/consent'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: 'https://evil.example' }, body: new URLSearchParams({ request: requestId, decision: 'allow' }) });
    expect(forged.status).toBe(403);
  });

  it('asks even a first-party client when prompt=consent', async () => {
    const { params } = await pkceRequest(client, { prompt: 'consent' });
    const page = await browserGet(authorizeUrl(params), passkeyUser.cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Test Portal');
  });
});

describe('pushed authorization requests (RFC 9126)', () => {
  it('validates at push time and answers errors as JSON', async () => {
    const { params } = await pkceRequest(client, { redirect_uri: 'https://evil.example/cb' });
    const pushed = await postForm(server.url('/par'), params, basicAuth(client));
    expect(pushed.status).toBe(400);
    expect(pushed.body.error).toBe('invalid_request');
    const plain = await postForm(server.url('/par'), { ...(await pkceRequest(client)).params, code_challenge_method: 'plain' }, basicAuth(client));
    expect(plain.body.error).toBe('invalid_request');
  });

  it('refuses a request_uri used by another client, or unknown', async () => {
    const pushed = await postForm(server.url('/par'), (await pkceRequest(client)).params, basicAuth(client));
    expect(pushed.status).toBe(201);
    expect(pushed.body.expires_in).toBe(60);
    const stolen = await browserGet(authorizeUrl({ client_id: thirdParty.client_id, request_uri: pushed.body.request_uri as string }), passkeyUser.cookie);
    expect(await errorPage(stolen)).toContain('invalid_request_uri');
    await errorPage(await browserGet(authorizeUrl({ client_id: client.client_id, request_uri: 'urn:ietf:params:oauth:request_uri:nope' }), passkeyUser.cookie));
  });

  it('expires a request_uri after its lifetime', async () => {
    const pushed = await postForm(server.url('/par'), (await pkceRequest(client)).params, basicAuth(client));
    runtime.clock.advance(61);
    await errorPage(await browserGet(authorizeUrl({ client_id: client.client_id, request_uri: pushed.body.request_uri as string }), passkeyUser.cookie));
    runtime.clock.set(new Date());
  });
});

