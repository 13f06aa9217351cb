/**
 * Issue 11, attack 4: any client's token reached `/api/me`. The messenger's device API
 * needs the reserved scope `warta:account` on an access token whose audience is Warta,
 * and only the instance operator (the `warta` CLI on the host) can allow a client that
 * scope. Driven over HTTP through the real OIDC flow.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { type ClientView, OPERATOR, registerClient } from '../../src/clients/service.js';
import { CompactJws } from '../../src/oidc/jws.js';
import { sessionCookie } from '../support/runtime.js';
import { basicAuth, browserGet, locationOf, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from '../oidc/support.js';

const server = await startOidcServer();
const { runtime } = server;
const MESSENGER_SCOPE = 'openid profile offline_access warta:account';

/** The messenger, registered by the operator (`warta client create --scope "… warta:account"`). */
const registerMessenger = (overrides: { first_party?: boolean } = {}) =>
  registerClient(runtime, { actor: 'cli' }, { client_name: 'Messenger', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], scope: MESSENGER_SCOPE, first_party: true, ...overrides }, { authority: OPERATOR });

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

/** /authorize in a signed-in browser (consenting when asked), then the code exchange. */
async function signIn(client: ClientView, cookie: string, scope: string): Promise<{ accessToken: string; refreshToken: string; grantId: string }> {
  const request = await pkceRequest(client, { scope });
  let response = await browserGet(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`, cookie);
  if (response.status === 200) {
    const requestId = /name="request" value="([^"]+)"/.exec(await response.text())![1]!;
    response = await fetch(server.url('/authorize/consent'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: server.issuer }, body: new URLSearchParams({ request: requestId, decision: 'allow' }) });
  }
  const code = locationOf(response).searchParams.get('code');
  if (!code) throw new Error(`authorization failed: ${locationOf(response).searchParams.get('error')}`);
  const { status, body } = await postForm(server.url('/token'), { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
  expect(status).toBe(200);
  const accessToken = body.access_token as string;
  return { accessToken, refreshToken: body.refresh_token as string, grantId: claimsOf(accessToken).grant_id as string };
}

const api = (path: string, bearer: string, method = 'GET') => fetch(server.url(path), { method, headers: { authorization: `Bearer ${bearer}` } });
const sessionsOf = (userId: string) => runtime.db.selectFrom('sessions').select(['id', 'revoked_at']).where('user_id', '=', userId).orderBy('id').execute();
const grantsOf = (userId: string) => runtime.db.selectFrom('oauth_grants').select(['id', 'revoked_at']).where('user_id', '=', userId).orderBy('id').execute();

describe('the messenger API needs warta:account', () => {
  it('refuses a consented third-party client’s openid token with 403 insufficient_scope on every /api/me endpoint, revoking nothing', async () => {
    const thirdParty = await registerWebClient(runtime, { client_name: 'Conference booking', first_party: false, scope: 'openid profile offline_access' });
    const { user, cookie } = await signedInUser(runtime);
    const browserElsewhere = await sessionCookie(runtime, user);
    const messenger = await signIn(await registerMessenger(), browserElsewhere, MESSENGER_SCOPE);
    const stolen = await signIn(thirdParty, cookie, 'openid offline_access');
    const sessionsBefore = await sessionsOf(user.id);
    const grantsBefore = await grantsOf(user.id);
    const victimSession = sessionsBefore[0]!.id;

    for (const [path, method] of [
      ['/api/me/devices', 'GET'],
      [`/api/me/devices/${messenger.grantId}`, 'DELETE'],
      [`/api/me/sessions/${victimSession}`, 'DELETE'],
    ] as const) {
      const response = await api(path, stolen.accessToken, method);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('insufficient_scope');
      // RFC 6750 §3.1: the challenge names the scope that is missing.
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="warta", error="insufficient_scope", scope="warta:account"');
    }
    expect(await sessionsOf(user.id)).toEqual(sessionsBefore);
    expect(await grantsOf(user.id)).toEqual(grantsBefore);
    expect(sessionsBefore.every((s) => s.revoked_at === null)).toBe(true);
  });

  it('refuses with 401 invalid_token an access token carrying warta:account whose audience is not Warta', async () => {
    const messenger = await registerMessenger();
    const { user, cookie } = await signedInUser(runtime);
    const genuine = claimsOf((await signIn(messenger, cookie, MESSENGER_SCOPE)).accessToken);
    // Signed with Warta's own key (as a token for another service would be), scope and grant intact, audience elsewhere.
    const forOtherService = await new CompactJws(runtime.signingKeys).sign({ ...genuine, aud: 'https://mail.example.gov', jti: randomUUID() }, 'at+jwt');
    const response = await api('/api/me/devices', forOtherService);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="warta", error="invalid_token"/);
    expect((await api(`/api/me/sessions/${(await sessionsOf(user.id))[0]!.id}`, forOtherService, 'DELETE')).status).toBe(401);
    expect((await sessionsOf(user.id)).every((s) => s.revoked_at === null)).toBe(true);
  });

  it('lets the messenger the operator allowed warta:account list the devices and sign a browser session out; its tokens name Warta as audience', async () => {
    const messenger = await registerMessenger();
    const { user, cookie } = await signedInUser(runtime);
    await sessionCookie(runtime, user); // a second browser session, to be signed out from the messenger
    const device = await signIn(messenger, cookie, MESSENGER_SCOPE);
    expect(claimsOf(device.accessToken)).toMatchObject({ aud: server.issuer, scope: MESSENGER_SCOPE });

    const listed = await api('/api/me/devices', device.accessToken);
    expect(listed.status).toBe(200);
    const sessions = ((await listed.json()) as { sessions: { id: string }[] }).sessions;
    expect(sessions).toHaveLength(2);
    const other = (await sessionsOf(user.id)).find((s) => sessions.some((listedSession) => listedSession.id === s.id))!;
    expect((await api(`/api/me/sessions/${other.id}`, device.accessToken, 'DELETE')).status).toBe(200);
    expect((await sessionsOf(user.id)).filter((s) => s.revoked_at !== null)).toHaveLength(1);

    // A refresh narrowed to openid is a token for the messenger's own service: no longer Warta's audience, no account API.
    const narrowed = await postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: device.refreshToken, scope: 'openid offline_access' }, basicAuth(messenger));
    expect(narrowed.status).toBe(200);
    expect(claimsOf(narrowed.body.access_token as string).aud).toBe(messenger.client_id);
    expect((await api('/api/me/devices', narrowed.body.access_token as string)).status).toBe(403);
  });

  it('names the account scope on a third-party client’s consent page', async () => {
    const messenger = await registerMessenger({ first_party: false });
    const { cookie } = await signedInUser(runtime);
    const request = await pkceRequest(messenger, { scope: 'openid warta:account' });
    const page = await browserGet(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`, cookie);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('See and sign out your devices and browser sessions');
  });
});

describe('who may allow a reserved scope', () => {
  it('does not give warta:account to a client not allowed it: the request is refused with invalid_scope and no code is issued', async () => {
    const portal = await registerWebClient(runtime, { client_name: 'Portal' });
    const { user, cookie } = await signedInUser(runtime);
    const request = await pkceRequest(portal, { scope: 'openid warta:account' });
    const callback = locationOf(await browserGet(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`, cookie));
    expect(callback.searchParams.get('error')).toBe('invalid_scope');
    expect(callback.searchParams.has('code')).toBe(false);
    expect(await runtime.db.selectFrom('oauth_authorization_codes').select('grant_id').where('client_id', '=', portal.client_id).execute()).toEqual([]);
    expect(await grantsOf(user.id)).toEqual([]);
  });

  it('refuses an organisation admin who registers a client with a reserved scope through the admin API, audits the refusal and registers nothing', async () => {
    const { user: admin, cookie } = await signedInUser(runtime, ['hwk', 'user'], { role: 'admin' });
    const clientsBefore = await runtime.db.selectFrom('oauth_clients').select('client_id').execute();
    for (const scope of ['openid warta:account', 'scim', 'openid warta:admin', 'warta:admin:users']) {
      const response = await fetch(server.url('/api/admin/clients'), {
        method: 'POST',
        headers: { cookie, origin: server.issuer, 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Sneaky messenger', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], scope: `${scope} offline_access` }),
      });
      expect(response.status, scope).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client_metadata');
    }
    expect(await runtime.db.selectFrom('oauth_clients').select('client_id').execute()).toEqual(clientsBefore);
    const refusals = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'client.reserved_scope_refused').where('actor', '=', `user:${admin.id}`).orderBy('id').execute();
    expect(refusals.map((r) => [r.outcome, (r.details as { reserved_scopes: string[] }).reserved_scopes])).toEqual([
      ['failure', ['warta:account']],
      ['failure', ['scim']],
      ['failure', ['warta:admin']],
      ['failure', ['warta:admin:users']],
    ]);
  });

  it('lets the operator’s CLI allow a reserved scope', async () => {
    const messenger = await registerMessenger();
    expect(messenger.scope).toBe(MESSENGER_SCOPE);
    const audit = await runtime.db.selectFrom('audit_log').selectAll().where('subject', '=', `client:${messenger.client_id}`).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ action: 'client.created', actor: 'cli' });
    expect((audit.details as { reserved_scopes: string[] }).reserved_scopes).toEqual(['warta:account']);
  });
});
