/** RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (delivered from the database outbox). */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, deliverPendingLogouts } from '../../src/oidc/logout/backchannel.js';
import type { FetchLike } from '../../src/outbox/post.js';
import { authorizeWithSession, basicAuth, browserGet, locationOf, pkceRequest, POST_LOGOUT_URI, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server = await startOidcServer({ WARTA_BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: '3', WARTA_ID_TOKEN_TTL_SECONDS: '300' });
const { runtime } = server;
const client = await registerWebClient(runtime);

/** Signs a user in to `forClient` and returns their cookie, ID token and session id. */
async function signInTo(forClient: { client_id: string; client_secret?: string }) {
  const { user, cookie } = await signedInUser(runtime);
  const request = await pkceRequest(forClient, { scope: 'openid' });
  const callback = await authorizeWithSession(server, request.params, cookie);
  const tokens = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(forClient));
  const idToken = tokens.body.id_token as string;
  const sid = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()).sid as string;
  return { user, cookie, idToken, sid };
}

const endSession = (params: Record<string, string>, cookie?: string) => browserGet(`${server.url('/end_session')}?${new URLSearchParams(params)}`, cookie);

const sessionRevoked = async (sid: string) => (await runtime.db.selectFrom('sessions').select('revoked_at').where('id', '=', sid).executeTakeFirstOrThrow()).revoked_at !== null;

describe('RP-initiated logout', () => {
  it('asks the user to confirm when there is no id_token_hint, then signs out and returns with state', async () => {
    const { cookie, sid } = await signInTo(client);
    const page = await endSession({ client_id: client.client_id, post_logout_redirect_uri: POST_LOGOUT_URI, state: 's1' }, cookie);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self' http://127.0.0.1:8765;");
    const html = await page.text();
    expect(html).toContain('Test Portal');
    expect(await sessionRevoked(sid)).toBe(false);

    const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const confirmed = await fetch(server.url('/end_session/confirm'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: server.issuer }, body: new URLSearchParams({ ...hidden, decision: 'logout' }) });
    expect(locationOf(confirmed).href).toBe(`${POST_LOGOUT_URI}?state=s1`);
    expect(await sessionRevoked(sid)).toBe(true);
    const audit = await runtime.db.selectFrom('audit_log').select('details').where('action', '=', 'signout').where('subject', 'like', 'user:%').execute();
    expect(audit.at(-1)?.details).toMatchObject({ session_id: sid, via: 'end_session' });
  });

  it('refuses a confirmation posted from another origin', async () => {
    const { cookie, sid } = await signInTo(client);
    const forged = await fetch(server.url('/end_session/confirm'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: 'https://evil.example' }, body: new URLSearchParams({ decision: 'logout' }) });
    expect(forged.status).toBe(403);
    expect(await sessionRevoked(sid)).toBe(false);
  });

  it('asks for confirmation when the hint belongs to another session', async () => {
    const first = await signInTo(client);
    const second = await signInTo(client);
    const page = await endSession({ id_token_hint: first.idToken }, second.cookie);
    expect(page.status).toBe(200);
    expect(await sessionRevoked(second.sid)).toBe(false);
  });

  it('accepts an expired ID token as the hint', async () => {
    const { cookie, idToken, sid } = await signInTo(client);
    runtime.clock.advance(runtime.config.oidc.idTokenTtlSeconds + 60); // still inside the session's idle timeout
    const response = await endSession({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI }, cookie);
    runtime.clock.set(new Date());
    expect(locationOf(response).href).toBe(POST_LOGOUT_URI);
    expect(await sessionRevoked(sid)).toBe(true);
  });

  it('never redirects to an unregistered post_logout_redirect_uri, or without knowing the client', async () => {
    const { cookie, idToken } = await signInTo(client);
    for (const params of <Record<string, string>[]>[
      { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' },
      { client_id: client.client_id, post_logout_redirect_uri: REDIRECT_URI },
      { post_logout_redirect_uri: POST_LOGOUT_URI },
    ]) {
      const response = await endSession(params, cookie);
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
    }
  });

  it('refuses an id_token_hint Warta did not sign, and a client_id that is not its audience', async () => {
    const forged = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(server.issuer).setAudience(client.client_id).sign(new Uint8Array(32));
    expect((await endSession({ id_token_hint: forged })).status).toBe(400);
    const { idToken } = await signInTo(client);
    const other = await registerWebClient(runtime, { client_name: 'Other' });
    expect((await endSession({ id_token_hint: idToken, client_id: other.client_id })).status).toBe(400);
  });

  it('without a session, just returns to the registered URI', async () => {
    const { idToken } = await signInTo(client);
    expect(locationOf(await endSession({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'x' })).href).toBe(`${POST_LOGOUT_URI}?state=x`);
  });
});

/** A relying party's back-channel logout endpoint: a real HTTP server answering with `status()`. */
async function startLogoutReceiver(status: () => number) {
  const received: string[] = [];
  const http = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(body);
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  afterAll(() => new Promise<void>((resolve) => http.close(() => resolve())));
  return { uri: `http://127.0.0.1:${(http.address() as AddressInfo).port}/backchannel-logout`, received };
}

describe('back-channel logout', () => {
  it('queues a logout token in the logout transaction and POSTs it to the client', async () => {
    const receiver = await startLogoutReceiver(() => 200);
    const rp = await registerWebClient(runtime, { backchannel_logout_uri: receiver.uri, backchannel_logout_session_required: true });
    const { user, cookie, idToken, sid } = await signInTo(rp);
    await endSession({ id_token_hint: idToken }, cookie);
    const queued = await runtime.db.selectFrom('backchannel_logouts').selectAll().where('client_id', '=', rp.client_id).execute();
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ user_id: user.id, session_id: sid, delivered_at: null });

    expect(await deliverPendingLogouts(runtime)).toMatchObject({ delivered: 1 });
    expect(receiver.received).toHaveLength(1);
    const logoutToken = new URLSearchParams(receiver.received[0]).get('logout_token')!;
    expect(decodeProtectedHeader(logoutToken)).toMatchObject({ typ: 'logout+jwt', alg: 'ES256' });
    const jwks = (await (await fetch(server.url('/.well-known/jwks.json'))).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(logoutToken, createLocalJWKSet(jwks), { issuer: server.issuer, audience: rp.client_id, currentDate: runtime.clock.now() });
    expect(payload).toMatchObject({ sub: user.id, sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
    expect(payload).not.toHaveProperty('nonce');
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(120);
    expect((await runtime.db.selectFrom('backchannel_logouts').select('delivered_at').where('id', '=', queued[0]!.id).executeTakeFirstOrThrow()).delivered_at).not.toBeNull();
    // Delivered once: a second run sends nothing.
    expect(await deliverPendingLogouts(runtime)).toMatchObject({ delivered: 0 });
  });

  it('gives up after WARTA_BACKCHANNEL_LOGOUT_MAX_ATTEMPTS and audits the lost logout', async () => {
    // Nothing listens there, and nothing connects: the fetch below fails every attempt.
    const rp = await registerWebClient(runtime, { backchannel_logout_uri: 'http://127.0.0.1:9/logout' });
    const { cookie, idToken, sid } = await signInTo(rp);
    await endSession({ id_token_hint: idToken }, cookie);
    const unreachable: FetchLike = async () => {
      throw new TypeError('fetch failed');
    };
    expect(await deliverPendingLogouts(runtime, { fetchImpl: unreachable })).toMatchObject({ retrying: 1 });
    runtime.clock.advance(5);
    expect(await deliverPendingLogouts(runtime, { fetchImpl: unreachable })).toMatchObject({ retrying: 1 });
    runtime.clock.advance(10);
    expect(await deliverPendingLogouts(runtime, { fetchImpl: unreachable })).toMatchObject({ abandoned: 1 });
    const audit = await runtime.db.selectFrom('audit_log').select(['outcome', 'details']).where('action', '=', 'oidc.backchannel_logout_abandoned').where('subject', '=', `client:${rp.client_id}`).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ outcome: 'failure', details: { session_id: sid, attempts: 3, last_error: 'network error' } });
    runtime.clock.set(new Date());
  });

  it('gives up, without sending, on a logout whose client no longer has a backchannel_logout_uri', async () => {
    const receiver = await startLogoutReceiver(() => 200);
    const rp = await registerWebClient(runtime, { backchannel_logout_uri: receiver.uri });
    const { cookie, idToken, sid } = await signInTo(rp);
    await endSession({ id_token_hint: idToken }, cookie);
    await runtime.db.updateTable('oauth_clients').set({ backchannel_logout_uri: null }).where('client_id', '=', rp.client_id).execute();
    expect(await deliverPendingLogouts(runtime)).toMatchObject({ abandoned: 1 });
    expect(receiver.received).toHaveLength(0);
    const audit = await runtime.db.selectFrom('audit_log').select(['outcome', 'details']).where('action', '=', 'oidc.backchannel_logout_abandoned').where('subject', '=', `client:${rp.client_id}`).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ outcome: 'failure', details: { session_id: sid, last_error: 'the client no longer has a backchannel_logout_uri' } });
  });
});

describe('signing out of Warta itself', () => {
  it('ends the grants made in that session and queues their back-channel logouts', async () => {
    const withBackchannel = await registerWebClient(runtime, { backchannel_logout_uri: 'http://127.0.0.1:8766/bc' });
    const { cookie, sid } = await signInTo(withBackchannel);
    const signedOut = await fetch(server.url('/signout'), { method: 'POST', redirect: 'manual', headers: { cookie, origin: server.issuer } });
    expect(signedOut.status).toBe(303);
    expect(await sessionRevoked(sid)).toBe(true);
    const grants = await runtime.db.selectFrom('oauth_grants').select(['revoked_at', 'revoked_reason']).where('session_id', '=', sid).execute();
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) expect(grant).toMatchObject({ revoked_reason: 'signed_out' });
    const queued = await runtime.db.selectFrom('backchannel_logouts').selectAll().execute();
    expect(JSON.stringify(queued)).toContain(sid);
  });
});
