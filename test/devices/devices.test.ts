/**
 * Devices (issue #7): every refresh-token family is a device the user can see and
 * sign out, from the account page (session cookie) or the messenger (bearer token).
 * Driven through the real OIDC flow over HTTP.
 */
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/audit.js';
import { type ClientView, OPERATOR } from '../../src/clients/service.js';
import type { User } from '../../src/db/schema.js';
import { deliverPendingEvents } from '../../src/events/deliver.js';
import { addReceiver } from '../../src/events/receivers.js';
import { EVENT_TYPE_URIS } from '../../src/events/types.js';
import { sessionCookie } from '../support/runtime.js';
import { startReceiver } from '../support/receiver-server.js';
import { basicAuth, browserGet, locationOf, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from '../oidc/support.js';

// Behind a (simulated) proxy, so tests choose the address each request comes from.
const server = await startOidcServer({ WARTA_TRUST_PROXY: 'true' });
const DEVICE_IP = '203.0.113.10';
const { runtime } = server;
const AUDIENCE = 'https://messenger.example.gov/warta-events';
const PIXEL_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36';
const IPHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** The messenger: the operator allowed it warta:account, which /api/me needs. */
const MESSENGER_SCOPE = 'openid profile email offline_access warta:account';
const registerMessenger = (overrides: Parameters<typeof registerWebClient>[1] = {}) => registerWebClient(runtime, { scope: MESSENGER_SCOPE, ...overrides }, { authority: OPERATOR });

interface SignedInDevice {
  accessToken: string;
  refreshToken: string;
  deviceId: string;
}

/** One messenger installation signing in: /authorize in the device's browser (its own session), then the code exchange. */
async function signInDevice(client: ClientView, cookie: string, options: { userAgent?: string; deviceName?: string; scope?: string } = {}): Promise<SignedInDevice> {
  const request = await pkceRequest(client, { ...(options.deviceName ? { device_name: options.deviceName } : {}), ...(options.scope ? { scope: options.scope } : {}) });
  const response = await fetch(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`, { redirect: 'manual', headers: { cookie, 'x-forwarded-for': DEVICE_IP, ...(options.userAgent ? { 'user-agent': options.userAgent } : {}) } });
  const callback = locationOf(response);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`authorization failed: ${callback.searchParams.get('error')}`);
  const { status, body } = await postForm(server.url('/token'), { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
  expect(status).toBe(200);
  const accessToken = body.access_token as string;
  const grantId = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).grant_id as string;
  return { accessToken, refreshToken: body.refresh_token as string, deviceId: grantId };
}

const refresh = (client: ClientView, refreshToken: string, ip = DEVICE_IP) => postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: refreshToken }, { ...basicAuth(client), 'x-forwarded-for': ip });
const introspect = async (client: ClientView, token: string) => (await postForm(server.url('/introspect'), { token }, basicAuth(client))).body;

function api(path: string, init: { method?: string; bearer?: string; cookie?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  if (init.cookie) headers.cookie = init.cookie;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return fetch(server.url(path), { method: init.method ?? 'GET', headers, ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}) });
}

async function jsonOf(response: Response): Promise<Record<string, any>> {
  return (await response.json()) as Record<string, any>;
}

const eventsOf = (user: User) => runtime.db.selectFrom('security_events').selectAll().where('user_id', '=', user.id).orderBy('seq').execute();
const auditOf = (user: User, action: string) => runtime.db.selectFrom('audit_log').selectAll().where('subject', '=', `user:${user.id}`).where('action', '=', action).execute();
const grantOf = (id: string) => runtime.db.selectFrom('oauth_grants').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('linking a device', () => {
  it('links a device only by signing in on it, names it, and raises device_linked with an audit entry in the same transaction', async () => {
    const client = await registerWebClient(runtime, { client_name: 'Wire Gov' });
    const { user, cookie } = await signedInUser(runtime);
    const named = await signInDevice(client, cookie, { deviceName: '  Pixel\u200b 8\u202e ', userAgent: PIXEL_UA });
    const derived = await signInDevice(client, cookie, { userAgent: IPHONE_UA });

    const devices = await runtime.db.selectFrom('devices').selectAll().where('user_id', '=', user.id).orderBy('created_at').orderBy('name').execute();
    expect(devices.map((d) => [d.grant_id, d.name, d.platform])).toEqual(
      expect.arrayContaining([
        [named.deviceId, 'Pixel 8', 'Android'],
        [derived.deviceId, 'Wire Gov on iOS', 'iOS'],
      ]),
    );
    const linked = (await eventsOf(user)).filter((e) => e.type === 'device_linked');
    expect(linked.map((e) => e.details)).toEqual(
      expect.arrayContaining([
        { deviceId: named.deviceId, deviceName: 'Pixel 8' },
        { deviceId: derived.deviceId, deviceName: 'Wire Gov on iOS' },
      ]),
    );
    const audited = await auditOf(user, 'device.linked');
    expect(audited.map((a) => (a.details as Record<string, unknown>).device_id)).toEqual(expect.arrayContaining([named.deviceId, derived.deviceId]));
    expect(audited.find((a) => (a.details as Record<string, unknown>).device_id === named.deviceId)?.user_agent).toBe(PIXEL_UA);
  });

  it('records each refresh as the device’s last use', async () => {
    const client = await registerWebClient(runtime);
    const { cookie } = await signedInUser(runtime);
    const device = await signInDevice(client, cookie);
    runtime.clock.advance(3600);
    const refreshed = await refresh(client, device.refreshToken, '198.51.100.77');
    expect(refreshed.status).toBe(200);
    const row = await runtime.db.selectFrom('devices').selectAll().where('grant_id', '=', device.deviceId).executeTakeFirstOrThrow();
    expect(row.last_used_at.getTime()).toBe(runtime.clock.now().getTime());
    expect(row.last_used_at.getTime() - row.created_at.getTime()).toBe(3600 * 1000);
    expect(row).toMatchObject({ first_ip: DEVICE_IP, last_ip: '198.51.100.77' });
  });
});

describe('revoking a device', () => {
  it('signs one device out at once: its refresh fails, introspection says inactive, a back-channel logout is queued, a signed session_revoked SET is pushed; the other device keeps working', async () => {
    const receiver = await startReceiver();
    const client = await registerMessenger({ client_name: 'Messenger', backchannel_logout_uri: 'http://127.0.0.1:9/backchannel-logout' });
    const user = (await signedInUser(runtime)).user;
    await addReceiver(runtime, { actor: 'test' }, { organisationId: user.organisation_id, url: receiver.url, audience: AUDIENCE });
    // Two installations, each signed in in its own browser session.
    const phone = await signInDevice(client, await sessionCookie(runtime, user), { deviceName: 'Pixel 8', userAgent: PIXEL_UA, scope: MESSENGER_SCOPE });
    const laptop = await signInDevice(client, await sessionCookie(runtime, user), { deviceName: 'Work laptop', scope: MESSENGER_SCOPE });

    const listed = await jsonOf(await api('/api/me/devices', { bearer: laptop.accessToken }));
    expect(listed.devices.map((d: any) => [d.id, d.name, d.current])).toEqual(
      expect.arrayContaining([
        [phone.deviceId, 'Pixel 8', false],
        [laptop.deviceId, 'Work laptop', true],
      ]),
    );
    expect(listed.devices).toHaveLength(2);
    expect(listed.devices.find((d: any) => d.id === phone.deviceId)).toMatchObject({ platform: 'Android', client_name: 'Messenger', sign_in_methods: ['hwk', 'user'], last_ip: DEVICE_IP });
    expect(listed).toHaveProperty('passkeys');
    expect(listed).toHaveProperty('totp');
    expect(listed).toHaveProperty('sessions');
    expect(listed).toHaveProperty('sign_ins');

    // The laptop sees "new device Pixel 8" and signs it out.
    const revoked = await api(`/api/me/devices/${phone.deviceId}`, { method: 'DELETE', bearer: laptop.accessToken });
    expect(revoked.status).toBe(200);
    expect(await jsonOf(revoked)).toMatchObject({ revoked: true, id: phone.deviceId, session_ended: true });

    expect(await refresh(client, phone.refreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await introspect(client, phone.accessToken)).toEqual({ active: false });
    expect(await introspect(client, phone.refreshToken)).toEqual({ active: false });
    expect((await api('/api/me/devices', { bearer: phone.accessToken })).status).toBe(401);

    const stillWorks = await refresh(client, laptop.refreshToken);
    expect(stillWorks.status).toBe(200);
    expect(await introspect(client, stillWorks.body.access_token as string)).toMatchObject({ active: true, sub: user.id });
    expect((await jsonOf(await api('/api/me/devices', { bearer: stillWorks.body.access_token as string }))).devices.map((d: any) => d.id)).toEqual([laptop.deviceId]);

    const phoneGrant = await grantOf(phone.deviceId);
    expect(phoneGrant.revoked_reason).toBe('device_revoked');
    const logouts = await runtime.db.selectFrom('backchannel_logouts').selectAll().where('user_id', '=', user.id).execute();
    expect(logouts.map((l) => [l.client_id, l.session_id])).toEqual([[client.client_id, phoneGrant.session_id]]);
    expect(await auditOf(user, 'device.revoked')).toHaveLength(1);

    await deliverPendingEvents(runtime);
    await deliverPendingEvents(runtime);
    await deliverPendingEvents(runtime);
    const jwks = createLocalJWKSet((await (await fetch(server.url('/.well-known/jwks.json'))).json()) as JSONWebKeySet);
    const types = receiver.received.map((r) => Object.keys(r.claims.events as object)[0]);
    expect(types).toEqual([EVENT_TYPE_URIS.device_linked, EVENT_TYPE_URIS.device_linked, EVENT_TYPE_URIS.session_revoked]);
    const set = receiver.received[2]!;
    const { payload } = await jwtVerify(set.token, jwks, { issuer: server.issuer, audience: AUDIENCE, typ: 'secevent+jwt', currentDate: runtime.clock.now() });
    expect(payload.sub_id).toEqual({ format: 'complex', user: { format: 'iss_sub', iss: server.issuer, sub: user.id }, session: { format: 'opaque', id: phoneGrant.session_id } });
    expect((payload.events as Record<string, Record<string, unknown>>)[EVENT_TYPE_URIS.session_revoked]).toMatchObject({ initiating_entity: 'user' });
    const linkedSet = await jwtVerify(receiver.received[0]!.token, jwks, { issuer: server.issuer, audience: AUDIENCE, currentDate: runtime.clock.now() });
    expect((linkedSet.payload.events as Record<string, Record<string, unknown>>)[EVENT_TYPE_URIS.device_linked]).toMatchObject({ device_id: phone.deviceId, device_name: 'Pixel 8' });
  });

  it('refuses another user’s device, an unknown id and a malformed id with 404, changing nothing', async () => {
    const client = await registerMessenger();
    const victim = await signedInUser(runtime);
    const victimDevice = await signInDevice(client, victim.cookie, { scope: MESSENGER_SCOPE });
    const other = await signedInUser(runtime);
    const otherDevice = await signInDevice(client, other.cookie, { scope: MESSENGER_SCOPE });
    const eventsBefore = (await eventsOf(victim.user)).length;

    for (const [path, init] of [
      [`/api/account/devices/${victimDevice.deviceId}`, { method: 'DELETE', cookie: other.cookie }],
      [`/api/me/devices/${victimDevice.deviceId}`, { method: 'DELETE', bearer: otherDevice.accessToken }],
      [`/api/account/devices/${victimDevice.deviceId}`, { method: 'PATCH', cookie: other.cookie, json: { name: 'pwned' } }],
      ['/api/account/devices/00000000-0000-4000-8000-000000000000', { method: 'DELETE', cookie: other.cookie }],
      ['/api/account/devices/not-a-uuid', { method: 'DELETE', cookie: other.cookie }],
      [`/api/account/devices/${encodeURIComponent("1' or '1'='1")}`, { method: 'DELETE', cookie: other.cookie }],
      [`/api/me/devices/${'9'.repeat(5000)}`, { method: 'DELETE', bearer: otherDevice.accessToken }],
    ] as const) {
      const response = await api(path, init);
      expect(response.status, path).toBe(404);
      expect((await jsonOf(response)).error).toBe('device_not_found');
    }
    expect((await grantOf(victimDevice.deviceId)).revoked_at).toBeNull();
    expect((await refresh(client, victimDevice.refreshToken)).status).toBe(200);
    expect((await runtime.db.selectFrom('devices').select('name').where('grant_id', '=', victimDevice.deviceId).executeTakeFirstOrThrow()).name).not.toBe('pwned');
    expect(await eventsOf(victim.user)).toHaveLength(eventsBefore);
    expect(await auditOf(victim.user, 'device.revoked')).toHaveLength(0);

    // Revoked once; a second revocation finds nothing.
    expect((await api(`/api/account/devices/${victimDevice.deviceId}`, { method: 'DELETE', cookie: victim.cookie })).status).toBe(200);
    const again = await api(`/api/account/devices/${victimDevice.deviceId}`, { method: 'DELETE', cookie: await sessionCookie(runtime, victim.user) });
    expect(again.status).toBe(404);
    expect((await eventsOf(victim.user)).filter((e) => e.type === 'session_revoked')).toHaveLength(1);
  });

  it('needs a user’s access token with warta:account, or a session, for the device APIs', async () => {
    expect((await api('/api/me/devices')).status).toBe(401);
    expect((await api('/api/me/devices', { bearer: 'not.a.token' })).status).toBe(401);
    expect((await api('/api/account/devices')).status).toBe(401);
    const client = await registerMessenger();
    const { cookie } = await signedInUser(runtime);
    const device = await signInDevice(client, cookie, { scope: 'openid profile offline_access' });
    const response = await api('/api/me/devices', { bearer: device.accessToken });
    expect(response.status).toBe(403);
    expect((await jsonOf(response)).error).toBe('insufficient_scope');
  });

  it('renames a device; a blank or over-long name is a 400', async () => {
    const client = await registerWebClient(runtime);
    const { user, cookie } = await signedInUser(runtime);
    const device = await signInDevice(client, cookie);
    const renamed = await api(`/api/account/devices/${device.deviceId}`, { method: 'PATCH', cookie, json: { name: 'Desk phone' } });
    expect(renamed.status).toBe(200);
    expect((await jsonOf(renamed)).device).toMatchObject({ id: device.deviceId, name: 'Desk phone' });
    expect(await auditOf(user, 'device.renamed')).toHaveLength(1);
    for (const body of [{ name: '   ' }, { name: 'x'.repeat(65) }, { name: 7 }, {}]) {
      const response = await api(`/api/account/devices/${device.deviceId}`, { method: 'PATCH', cookie, json: body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    const notJson = await fetch(server.url(`/api/account/devices/${device.deviceId}`), { method: 'PATCH', headers: { cookie, 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
  });
});

describe('browser sessions', () => {
  it('signs out another browser session: it stops working, its online grants end, back-channel logout and session_revoked follow', async () => {
    const client = await registerWebClient(runtime, { backchannel_logout_uri: 'http://127.0.0.1:9/backchannel-logout' });
    const { user, cookie } = await signedInUser(runtime);
    const otherCookie = await sessionCookie(runtime, user);
    const online = await signInDevice(client, otherCookie, { scope: 'openid profile' });
    const sessions = (await jsonOf(await api('/api/account/devices', { cookie }))).sessions as any[];
    expect(sessions).toHaveLength(2);
    const other = sessions.find((s) => !s.current)!;

    const response = await api(`/api/account/sessions/${other.id}`, { method: 'DELETE', cookie });
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toMatchObject({ revoked: true, id: other.id, current: false });
    expect((await browserGet(server.url('/api/account/devices'), otherCookie)).status).toBe(401);
    expect((await grantOf(online.deviceId)).revoked_at).not.toBeNull();
    expect(await introspect(client, online.accessToken)).toEqual({ active: false });
    expect(await runtime.db.selectFrom('backchannel_logouts').select('session_id').where('user_id', '=', user.id).execute()).toEqual([{ session_id: other.id }]);
    expect((await eventsOf(user)).filter((e) => e.type === 'session_revoked').map((e) => e.details)).toEqual([{ sessionId: other.id }]);
    expect(await auditOf(user, 'session.revoked')).toHaveLength(1);
  });

  it('refuses another user’s session, an unknown and a malformed session id with 404, and a NUL byte with 400', async () => {
    const victim = await signedInUser(runtime);
    const attacker = await signedInUser(runtime);
    const victimSession = await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', victim.user.id).executeTakeFirstOrThrow();
    for (const id of [victimSession.id, '00000000-0000-4000-8000-000000000000', 'xyz']) {
      const response = await api(`/api/account/sessions/${id}`, { method: 'DELETE', cookie: attacker.cookie });
      expect(response.status, id).toBe(404);
      expect((await jsonOf(response)).error).toBe('session_not_found');
    }
    expect((await jsonOf(await api('/api/account/sessions/%00', { method: 'DELETE', cookie: attacker.cookie }))).error).toBe('invalid_request');
    expect((await api('/api/account/devices', { cookie: victim.cookie })).status).toBe(200);
    expect(await eventsOf(victim.user)).toEqual([]);
  });
});

describe('sign-in history', () => {
  it('lists the last 30 sign-in attempts naming the account, newest first, with time, IP, method and result', async () => {
    const { user } = await signedInUser(runtime);
    const context = { actor: 'anonymous', ip: '198.51.100.4', userAgent: PIXEL_UA };
    for (let i = 0; i < 33; i++) {
      runtime.clock.advance(60);
      await appendAudit(runtime.db, runtime, context, { action: 'signin.succeeded', subject: `user:${user.id}`, details: { method: 'passkey', n: i } });
    }
    runtime.clock.advance(60);
    await appendAudit(runtime.db, runtime, context, { action: 'signin.failed', subject: `user:${user.id}`, outcome: 'failure', details: { method: 'password', reason: 'wrong_password' } });
    await appendAudit(runtime.db, runtime, context, { action: 'passkey.registered', subject: `user:${user.id}` });

    const signIns = (await jsonOf(await api('/api/account/devices', { cookie: await sessionCookie(runtime, user) }))).sign_ins as any[];
    expect(signIns).toHaveLength(30);
    expect(signIns[0]).toMatchObject({ ip: '198.51.100.4', method: 'password', result: 'failure', reason: 'wrong_password', platform: 'Android', at: runtime.clock.now().toISOString() });
    expect(signIns[1]).toMatchObject({ method: 'passkey', result: 'success' });
    expect(signIns.every((s) => s.action.startsWith('signin.'))).toBe(true);
  });
});

describe('the account page', () => {
  it('shows the device list, sessions, sign-ins and a banner for the new device linking to its row', async () => {
    const client = await registerWebClient(runtime);
    const { cookie } = await signedInUser(runtime);
    const device = await signInDevice(client, cookie, { deviceName: 'Pixel <8>', userAgent: PIXEL_UA });
    const page = await (await browserGet(server.url('/account'), cookie)).text();
    expect(page).toContain('Signed-in devices');
    expect(page).toContain(`id="device-${device.deviceId}"`);
    expect(page).toContain('Pixel &lt;8&gt;');
    expect(page).not.toContain('Pixel <8>');
    expect(page).toContain('New device “Pixel &lt;8&gt;” linked on');
    expect(page).toContain(`href="/account#device-${device.deviceId}"`);
    expect(page).toContain('Browser sessions');
    expect(page).toContain('Recent sign-ins');
    expect(page).toContain('/static/devices.js');
  });
});
