/**
 * An admin must not turn Warta into a scanner of the networks it sits in: SET
 * receivers and back-channel logout URIs are refused at registration unless
 * the operator's WARTA_OUTBOUND_ALLOW admits their host. Nothing here connects
 * anywhere: the refused addresses are only written into requests.
 */
import { describe, expect, it } from 'vitest';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';

const runtime = await createTestRuntime({ env: { WARTA_OUTBOUND_ALLOW: '127.0.0.1,siem.example.gov' } });
const { request } = testClient(runtime);
const admin = await createTestUser(runtime, { role: 'admin' });
const cookie = await sessionCookie(runtime, admin);

const REFUSED = [
  ['https://10.0.0.1/events', 'a private address'],
  ['https://169.254.169.254/latest/meta-data', 'the cloud metadata service'],
  ['http://[::1]:5432/', 'IPv6 loopback, not listed'],
  ['https://127.0.0.2:6379/', 'a loopback address other than the listed one'],
  ['https://[::ffff:a00:1]/events', '10.0.0.1 written as IPv4-mapped IPv6'],
  ['https://0x0a.0.0.1/events', '10.0.0.1 written in hex'],
  ['https://intranet.example.gov/events', 'a name not on the list'],
  ['http://localhost:8080/events', 'localhost, not on this list'],
] as const;

const refusals = async () => (await runtime.db.selectFrom('audit_log').select(['actor', 'outcome', 'subject', 'details']).where('action', '=', 'outbound.destination_refused').orderBy('id').execute());

describe('registering a SET receiver', () => {
  it.each(REFUSED)('refuses %s (%s) with 400 destination_not_allowed, writes nothing, and audits the attempt', async (url) => {
    const before = (await refusals()).length;
    const response = await request('/api/admin/event-receivers', { method: 'POST', cookie, json: { url, audience: 'siem' } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('destination_not_allowed');
    expect(body.error_description).toContain('WARTA_OUTBOUND_ALLOW');
    expect(await runtime.db.selectFrom('event_receivers').select('id').where('organisation_id', '=', admin.organisation_id).execute()).toEqual([]);
    const audited = await refusals();
    expect(audited).toHaveLength(before + 1);
    expect(audited.at(-1)).toMatchObject({ actor: `user:${admin.id}`, outcome: 'failure', subject: `org:${admin.organisation_id}`, details: { field: 'url', host: new URL(url).host } });
  });

  it('registers what the list admits: a listed address and a listed name', async () => {
    for (const url of ['http://127.0.0.1:9/events', 'https://siem.example.gov/events'])
      expect((await request('/api/admin/event-receivers', { method: 'POST', cookie, json: { url, audience: 'siem' } })).status).toBe(201);
  });
});

describe('registering a client with a back-channel logout URI', () => {
  const register = (backchannelLogoutUri: string) =>
    request('/api/admin/clients', { method: 'POST', cookie, json: { client_name: 'Portal', redirect_uris: ['https://portal.example.gov/cb'], backchannel_logout_uri: backchannelLogoutUri } });

  it.each(REFUSED)('refuses %s (%s) with 400 invalid_client_metadata, writes nothing, and audits the attempt', async (uri) => {
    const before = (await refusals()).length;
    const clientsBefore = (await runtime.db.selectFrom('oauth_clients').select('client_id').execute()).length;
    const response = await register(uri);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringContaining('backchannel_logout_uri is not an allowed destination') });
    expect(await runtime.db.selectFrom('oauth_clients').select('client_id').execute()).toHaveLength(clientsBefore);
    const audited = await refusals();
    expect(audited).toHaveLength(before + 1);
    expect(audited.at(-1)).toMatchObject({ actor: `user:${admin.id}`, outcome: 'failure', details: { field: 'backchannel_logout_uri', host: new URL(uri).host } });
  });

  it('registers a client whose URI the list admits', async () => {
    expect((await register('https://siem.example.gov/logout')).status).toBe(201);
  });
});

describe('changing a client to a back-channel logout URI', () => {
  it.each(REFUSED)('refuses %s (%s) as an update too, keeping the URI it had', async (uri) => {
    const created = await request('/api/admin/clients', { method: 'POST', cookie, json: { client_name: 'Portal', redirect_uris: ['https://portal.example.gov/cb'], backchannel_logout_uri: 'https://siem.example.gov/logout' } });
    const { client_id: clientId } = (await created.json()) as { client_id: string };
    const response = await request(`/api/admin/clients/${clientId}`, { method: 'PATCH', cookie, json: { backchannel_logout_uri: uri } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_client_metadata' });
    const stored = await runtime.db.selectFrom('oauth_clients').select('backchannel_logout_uri').where('client_id', '=', clientId).executeTakeFirstOrThrow();
    expect(stored.backchannel_logout_uri).toBe('https://siem.example.gov/logout');
    expect((await refusals()).at(-1)).toMatchObject({ details: { field: 'backchannel_logout_uri', host: new URL(uri).host } });
  });
});
