/**
 * Issue 11, "clients are instance-wide": organisation A's admin listed, rotated and
 * deleted organisation B's clients, and registered a first-party client with B's
 * service as its audience, to which B's users were signed in silently. Every client
 * now has an owner; over real HTTP with passkey sessions.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assignClientCommand, createClientCommand, listClientsCommand, updateClientCommand } from '../../src/cli/commands/client.js';
import { type ClientView, OPERATOR } from '../../src/clients/service.js';
import type { User } from '../../src/db/schema.js';
import { addReceiver } from '../../src/events/receivers.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { basicAuth, browserGet, locationOf, pkceRequest, postForm, REDIRECT_URI, registerWebClient, startOidcServer } from '../oidc/support.js';
import { createTestUser, sessionCookie } from '../support/runtime.js';

const server = await startOidcServer();
const { runtime } = server;
const cli = { runtime: async () => runtime as Runtime, write: () => {} };

interface Organisation {
  id: string;
  name: string;
  admin: User;
  adminCookie: string;
  member: User;
  memberCookie: string;
}

/** An organisation with an admin and a member, each signed in with a passkey just now. */
async function organisation(): Promise<Organisation> {
  const created = await createOrganisation(runtime, { actor: 'test' }, { name: `Ministry ${randomBytes(4).toString('hex')}` });
  const admin = await createTestUser(runtime, { role: 'admin', organisationId: created.id });
  const member = await createTestUser(runtime, { organisationId: created.id });
  return { id: created.id, name: created.name, admin, adminCookie: await sessionCookie(runtime, admin), member, memberCookie: await sessionCookie(runtime, member) };
}

async function api(cookie: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(server.url(path), {
    method,
    headers: { cookie, origin: server.issuer, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

const portal = (name = 'Portal') => ({ client_name: name, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], scope: 'openid profile offline_access' });

/** A client registered by the organisation's own admin over the admin API. */
async function adminsClient(org: Organisation, name = 'Portal'): Promise<ClientView> {
  const created = await api(org.adminCookie, 'POST', '/api/admin/clients', portal(name));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as ClientView;
}

const clientRow = (clientId: string) => runtime.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
const clientCount = async () => (await runtime.db.selectFrom('oauth_clients').select('client_id').execute()).length;
const audit = (action: string, actor?: string) =>
  runtime.db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', action)
    .$if(actor !== undefined, (qb) => qb.where('actor', '=', actor!))
    .orderBy('id')
    .execute();

/** /authorize in a signed-in browser: the callback, after consenting when asked. */
async function authorize(client: Pick<ClientView, 'client_id'>, cookie: string) {
  const request = await pkceRequest(client, { scope: 'openid offline_access' });
  let response = await browserGet(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`, cookie);
  if (response.status === 200) {
    const requestId = /name="request" value="([^"]+)"/.exec(await response.text())![1]!;
    response = await consent(requestId, cookie);
  }
  return { callback: locationOf(response), request };
}

const consent = (requestId: string, cookie: string) =>
  fetch(server.url('/authorize/consent'), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: server.issuer }, body: new URLSearchParams({ request: requestId, decision: 'allow' }) });

/** Signs in to `client` and redeems the code: the tokens the relying party gets. */
async function tokensFor(client: ClientView, cookie: string) {
  const { callback, request } = await authorize(client, cookie);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`authorization failed: ${callback.searchParams.get('error')}`);
  const reply = await postForm(server.url('/token'), { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as { access_token: string; refresh_token: string };
}

const refresh = (client: ClientView, refreshToken: string) => postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: refreshToken }, basicAuth(client));
const introspect = async (client: ClientView, token: string) => (await postForm(server.url('/introspect'), { token }, basicAuth(client))).body;

describe('an organisation admin manages only the clients of their own organisation', () => {
  it('registers a client owned by the admin’s organisation', async () => {
    const a = await organisation();
    const client = await adminsClient(a);
    expect(client).toMatchObject({ organisation_id: a.id, cross_organisation_sign_in: false, first_party: false });
    expect((await clientRow(client.client_id))?.organisation_id).toBe(a.id);
  });

  it('cannot list, read, update, rotate or delete another organisation’s client: 404 client_not_found, and the client is untouched', async () => {
    const a = await organisation();
    const b = await organisation();
    const bClient = await adminsClient(b, 'B portal');
    const before = await clientRow(bClient.client_id);

    expect((await api(a.adminCookie, 'GET', '/api/admin/clients')).body.clients.map((c: ClientView) => c.client_id)).not.toContain(bClient.client_id);
    for (const [method, path, body] of [
      ['GET', `/api/admin/clients/${bClient.client_id}`, undefined],
      ['PATCH', `/api/admin/clients/${bClient.client_id}`, { redirect_uris: ['http://127.0.0.1:9999/stolen'] }],
      ['POST', `/api/admin/clients/${bClient.client_id}/rotate-secret`, {}],
      ['DELETE', `/api/admin/clients/${bClient.client_id}`, undefined],
    ] as const) {
      const reply = await api(a.adminCookie, method, path, body);
      expect(reply.status, `${method} ${path}`).toBe(404);
      expect(reply.body.error).toBe('client_not_found');
    }
    expect(await clientRow(bClient.client_id)).toEqual(before);
    // B's own admin still manages it.
    expect((await api(b.adminCookie, 'GET', `/api/admin/clients/${bClient.client_id}`)).status).toBe(200);
    expect((await api(b.adminCookie, 'POST', `/api/admin/clients/${bClient.client_id}/rotate-secret`, {})).status).toBe(200);
  });

  it('does not see or touch the operator’s clients either', async () => {
    const a = await organisation();
    const shared = await registerWebClient(runtime, { client_name: 'Intranet' });
    expect((await api(a.adminCookie, 'GET', '/api/admin/clients')).body.clients.map((c: ClientView) => c.client_id)).not.toContain(shared.client_id);
    expect((await api(a.adminCookie, 'DELETE', `/api/admin/clients/${shared.client_id}`)).status).toBe(404);
    expect(await clientRow(shared.client_id)).toBeDefined();
  });

  it('updates its own client, keeping what the request leaves out; its own client_id as audience is no change', async () => {
    const a = await organisation();
    const client = await adminsClient(a);
    const updated = await api(a.adminCookie, 'PATCH', `/api/admin/clients/${client.client_id}`, { client_name: 'Renamed portal', access_token_audience: client.client_id });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({ client_name: 'Renamed portal', redirect_uris: [REDIRECT_URI], access_token_audience: null, organisation_id: a.id });
    expect((await audit('client.updated', `user:${a.admin.id}`)).at(-1)).toMatchObject({ subject: `client:${client.client_id}`, details: { changed: ['client_name'] } });
  });
});

describe('settings that reach beyond the organisation are the operator’s', () => {
  it('refuses an admin’s registration with first_party, another service’s audience, cross-organisation sign-in or another owner: 403 operator_only_setting, audited, nothing registered', async () => {
    const a = await organisation();
    const b = await organisation();
    const before = await clientCount();
    for (const [setting, extra] of [
      ['first_party', { first_party: true }],
      ['access_token_audience', { access_token_audience: 'https://b-payroll.example.gov' }],
      ['cross_organisation_sign_in', { cross_organisation_sign_in: true }],
      ['organisation_id', { organisation_id: b.id }],
    ] as const) {
      const reply = await api(a.adminCookie, 'POST', '/api/admin/clients', { ...portal('Look-alike'), ...extra });
      expect(reply.status, setting).toBe(403);
      expect(reply.body.error, setting).toBe('operator_only_setting');
      expect((await audit('client.operator_setting_refused', `user:${a.admin.id}`)).at(-1)).toMatchObject({ outcome: 'failure', details: { settings: [setting], organisation_id: a.id } });
    }
    expect(await clientCount()).toBe(before);
  });

  it('refuses an admin’s update of an operator-only setting on their own client, audited, changing nothing', async () => {
    const a = await organisation();
    const client = await adminsClient(a);
    const before = await clientRow(client.client_id);
    for (const [setting, change] of [
      ['first_party', { first_party: true }],
      ['access_token_audience', { access_token_audience: 'https://b-payroll.example.gov' }],
      ['cross_organisation_sign_in', { cross_organisation_sign_in: true }],
    ] as const) {
      const reply = await api(a.adminCookie, 'PATCH', `/api/admin/clients/${client.client_id}`, { client_name: 'Sneaky', ...change });
      expect(reply.status, setting).toBe(403);
      expect(reply.body.error).toBe('operator_only_setting');
    }
    expect(await clientRow(client.client_id)).toEqual(before);
    expect((await audit('client.operator_setting_refused', `user:${a.admin.id}`)).map((row) => [row.subject, row.details.settings])).toEqual([
      [`client:${client.client_id}`, ['first_party']],
      [`client:${client.client_id}`, ['access_token_audience']],
      [`client:${client.client_id}`, ['cross_organisation_sign_in']],
    ]);
  });

  it('keeps an operator setting when the admin changes something else (omitted members are not cleared)', async () => {
    const a = await organisation();
    const client = await adminsClient(a);
    await updateClientCommand.run({ 'client-id': client.client_id, 'first-party': 'yes' }, cli);
    const reply = await api(a.adminCookie, 'PATCH', `/api/admin/clients/${client.client_id}`, { client_name: 'Still first-party' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ first_party: true, client_name: 'Still first-party' });
  });
});

describe('sign-in: an organisation’s client serves its own users', () => {
  it('refuses a user of another organisation at /authorize with access_denied to the redirect URI, audited, no code; its own user signs in', async () => {
    const a = await organisation();
    const b = await organisation();
    const client = await adminsClient(a);
    const { callback, request } = await authorize(client, b.memberCookie);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(callback.searchParams.has('code')).toBe(false);
    expect(await runtime.db.selectFrom('oauth_grants').select('id').where('client_id', '=', client.client_id).execute()).toEqual([]);
    expect((await audit('oidc.organisation_refused')).at(-1)).toMatchObject({ subject: `client:${client.client_id}`, outcome: 'failure', details: { user_id: b.member.id, user_organisation_id: b.id, client_organisation_id: a.id } });

    const own = await tokensFor(client, a.memberCookie);
    expect(own.access_token).toBeTruthy();
  });

  it('stores no consent from another organisation’s user who posts the consent form directly', async () => {
    const a = await organisation();
    const b = await organisation();
    const client = await adminsClient(a);
    // A request stored while nobody is signed in, then "allowed" by B's user.
    const request = await pkceRequest(client, { scope: 'openid' });
    const signIn = locationOf(await browserGet(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`));
    const requestId = new URL(signIn.searchParams.get('return_to')!, server.issuer).searchParams.get('request')!;
    const callback = locationOf(await consent(requestId, b.memberCookie));
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(await runtime.db.selectFrom('oauth_consents').select('user_id').where('client_id', '=', client.client_id).execute()).toEqual([]);
  });

  it('lets the operator’s clients, and an organisation’s client the operator opened to others, sign in any organisation’s user', async () => {
    const a = await organisation();
    const b = await organisation();
    const shared = await registerWebClient(runtime, { client_name: 'Shared intranet' });
    expect((await tokensFor(shared, b.memberCookie)).access_token).toBeTruthy();

    const opened = await adminsClient(a, 'Joint portal');
    await updateClientCommand.run({ 'client-id': opened.client_id, 'cross-organisation': 'yes' }, cli);
    expect((await tokensFor(opened, b.memberCookie)).access_token).toBeTruthy();
  });
});

describe('the operator (warta client …)', () => {
  it('registers an organisation’s first-party client with another audience, audited, and announced on the organisation’s admins’ banner, never as a SET', async () => {
    const a = await organisation();
    // A receiver that takes every event type: the announcement still does not reach it.
    await addReceiver(runtime, { actor: 'test' }, { organisationId: a.id, url: 'http://127.0.0.1:9/events', audience: 'https://messenger.example' });
    const created = await createClientCommand.run({ org: a.name, name: 'Payroll', 'grant-types': 'authorization_code,refresh_token', 'redirect-uri': REDIRECT_URI, 'first-party': true, audience: 'https://payroll.example.gov' }, cli);
    expect(created).toMatchObject({ organisation_id: a.id, first_party: true, access_token_audience: 'https://payroll.example.gov' });
    expect((await audit('client.created', 'cli')).at(-1)).toMatchObject({ subject: `client:${created.client_id}`, details: { organisation_id: a.id, first_party: true, access_token_audience: 'https://payroll.example.gov' } });

    const events = await runtime.db.selectFrom('security_events').selectAll().where('type', '=', 'client_changed').where('organisation_id', '=', a.id).execute();
    expect(events.map((event) => [event.user_id, event.details])).toEqual([[a.admin.id, { clientId: created.client_id, clientName: 'Payroll', change: 'registered' }]]);
    expect(await runtime.db.selectFrom('set_outbox').select('jti').where('event_id', 'in', events.map((event) => event.id)).execute()).toEqual([]);
    const page = await (await browserGet(server.url('/account'), a.adminCookie)).text();
    expect(page).toContain('The instance operator registered the application “Payroll” for your organisation');

    // Its own user signs in without a consent page (first-party), with the operator's audience.
    const tokens = await tokensFor(created, a.memberCookie);
    expect(JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).aud).toBe('https://payroll.example.gov');
  });

  it('assigns an operator’s client to an organisation: its admins then manage it, other organisations’ users are refused and their grants revoked at once', async () => {
    const a = await organisation();
    const b = await organisation();
    const client = await registerWebClient(runtime, { client_name: 'Legacy portal', first_party: false });
    const bTokens = await tokensFor(client, b.memberCookie);
    const aTokens = await tokensFor(client, a.memberCookie);

    const assigned = await assignClientCommand.run({ 'client-id': client.client_id, org: a.name }, cli);
    expect(assigned).toMatchObject({ organisation_id: a.id, grants_revoked: 1 });
    expect((await audit('client.assigned', 'cli')).at(-1)).toMatchObject({ subject: `client:${client.client_id}`, details: { from_organisation_id: null, to_organisation_id: a.id, grants_revoked: 1 } });
    expect((await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', a.admin.id).where('type', '=', 'client_changed').execute()).map((e) => e.details)).toEqual([
      { clientId: client.client_id, clientName: 'Legacy portal', change: 'assigned' },
    ]);

    expect((await refresh(client, bTokens.refresh_token)).body.error).toBe('invalid_grant');
    expect((await introspect(client, bTokens.access_token)).active).toBe(false);
    expect((await authorize(client, b.memberCookie)).callback.searchParams.get('error')).toBe('access_denied');
    expect((await refresh(client, aTokens.refresh_token)).status).toBe(200);
    expect((await api(a.adminCookie, 'GET', `/api/admin/clients/${client.client_id}`)).status).toBe(200);
    expect((await api(b.adminCookie, 'GET', `/api/admin/clients/${client.client_id}`)).status).toBe(404);

    // Back to the operator: A's admins no longer manage it, and are told.
    runtime.clock.advance(1);
    expect(await assignClientCommand.run({ 'client-id': client.client_id, operator: true }, cli)).toMatchObject({ organisation_id: null });
    expect((await api(a.adminCookie, 'GET', `/api/admin/clients/${client.client_id}`)).status).toBe(404);
    expect((await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', a.admin.id).where('type', '=', 'client_changed').orderBy('seq').execute()).map((e) => e.details.change)).toEqual(['assigned', 'unassigned']);
  });

  it('tells the client by back-channel logout of exactly the sign-ins a change of owner ended', async () => {
    const a = await organisation();
    const b = await organisation();
    const client = await registerWebClient(runtime, { client_name: 'Legacy portal', first_party: false, backchannel_logout_uri: 'http://127.0.0.1:8765/backchannel' });
    await tokensFor(client, b.memberCookie);
    await tokensFor(client, a.memberCookie);
    expect(await assignClientCommand.run({ 'client-id': client.client_id, org: a.name }, cli)).toMatchObject({ grants_revoked: 1 });
    const logouts = await runtime.db.selectFrom('backchannel_logouts').select(['user_id', 'session_id']).where('client_id', '=', client.client_id).execute();
    const bSession = await runtime.db.selectFrom('oauth_grants').select('session_id').where('client_id', '=', client.client_id).where('user_id', '=', b.member.id).executeTakeFirstOrThrow();
    expect(logouts).toEqual([{ user_id: b.member.id, session_id: bSession.session_id }]);
  });

  it('turning cross-organisation sign-in off revokes other organisations’ grants', async () => {
    const a = await organisation();
    const b = await organisation();
    const client = await adminsClient(a, 'Joint portal');
    await updateClientCommand.run({ 'client-id': client.client_id, 'cross-organisation': 'yes' }, cli);
    const bTokens = await tokensFor(client, b.memberCookie);
    const updated = await updateClientCommand.run({ 'client-id': client.client_id, 'cross-organisation': 'no' }, cli);
    expect(updated.cross_organisation_sign_in).toBe(false);
    expect((await audit('client.updated', 'cli')).at(-1)).toMatchObject({ details: { changed: ['cross_organisation_sign_in'], grants_revoked: 1 } });
    expect((await refresh(client, bTokens.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('lists clients with their owners, narrowed to one organisation with --org', async () => {
    const a = await organisation();
    const client = await adminsClient(a);
    const listed = await listClientsCommand.run({ org: a.name }, cli);
    expect(listed.clients.map((c) => [c.client_id, c.organisation_id])).toEqual([[client.client_id, a.id]]);
    expect(listClientsCommand.format(listed)).toContain(`owned by organisation ${a.id}`);
  });
});

describe('the token endpoint reads the owner afresh', () => {
  it('refuses a code issued to another organisation’s user when the client changed hands before it was redeemed', async () => {
    const a = await organisation();
    const b = await organisation();
    const client = await registerWebClient(runtime, { client_name: 'Racing portal' }, { authority: OPERATOR });
    const { callback, request } = await authorize(client, b.memberCookie);
    // The change lands between the code and its redemption (assignClient would also revoke the grant; this is the check behind it).
    await runtime.db.updateTable('oauth_clients').set({ organisation_id: a.id }).where('client_id', '=', client.client_id).execute();
    const reply = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: 'invalid_grant', error_description: 'this client no longer accepts users of your organisation' });
  });

  it('refuses a refresh for another organisation’s user however the ownership changed', async () => {
    const a = await organisation();
    const b = await organisation();
    const client = await registerWebClient(runtime, { client_name: 'Racing portal 2' }, { authority: OPERATOR });
    const tokens = await tokensFor(client, b.memberCookie);
    await runtime.db.updateTable('oauth_clients').set({ organisation_id: a.id }).where('client_id', '=', client.client_id).execute();
    expect((await refresh(client, tokens.refresh_token)).body.error).toBe('invalid_grant');
  });
});

describe('machine tokens never manage clients', () => {
  it('refuses a client-credentials access token on the admin API: only a person’s passkey session', async () => {
    const backend = await registerWebClient(runtime, { client_name: 'Automation', grant_types: ['client_credentials'], redirect_uris: [], scope: 'x' });
    const token = (await postForm(server.url('/token'), { grant_type: 'client_credentials' }, basicAuth(backend))).body.access_token as string;
    for (const [method, path] of [
      ['GET', '/api/admin/clients'],
      ['POST', `/api/admin/clients/${backend.client_id}/rotate-secret`],
      ['PATCH', `/api/admin/clients/${backend.client_id}`],
    ] as const) {
      const response = await fetch(server.url(path), { method, headers: { authorization: `Bearer ${token}`, origin: server.issuer, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '{}' }) });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });
});
