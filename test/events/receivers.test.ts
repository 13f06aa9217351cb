import { describe, expect, it } from 'vitest';
import { addReceiver, bearerTokenContext, checkReceiverUrl } from '../../src/events/receivers.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';

// Registered here, never delivered to: the list only has to admit their names.
const runtime = await createTestRuntime({ env: { WARTA_OUTBOUND_ALLOW: '*.example.gov' } });
const { request } = testClient(runtime);
const AUDIENCE = 'https://messenger.example.gov';

describe('receiver URL', () => {
  it('accepts https anywhere, and http only on loopback outside production', () => {
    expect(checkReceiverUrl('https://messenger.example.gov/events', 'production').href).toBe('https://messenger.example.gov/events');
    expect(checkReceiverUrl('https://10.0.0.5:8443/set?tenant=1', 'production').href).toBe('https://10.0.0.5:8443/set?tenant=1');
    for (const url of ['http://127.0.0.1:8080/events', 'http://127.1.2.3/', 'http://[::1]:9000/', 'http://localhost:3001/events'])
      expect(checkReceiverUrl(url, 'test').protocol).toBe('http:');
    expect(checkReceiverUrl('http://localhost/events', 'development').hostname).toBe('localhost');
  });

  it.each<[string, 'production' | 'test', string]>([
    ['http://messenger.example.gov/events', 'test', 'plain http off loopback'],
    ['http://127.0.0.1:8080/events', 'production', 'plain http on loopback in production'],
    ['http://localhost.evil.example/events', 'test', 'a host that only starts like localhost'],
    ['http://128.0.0.1/events', 'test', 'an address outside 127.0.0.0/8'],
    ['https://user:secret@messenger.example.gov/events', 'test', 'credentials in the URL'],
    ['https://messenger.example.gov/events#frag', 'test', 'a fragment'],
    ['ftp://messenger.example.gov/events', 'test', 'another scheme'],
    ['messenger.example.gov/events', 'test', 'a relative URL'],
    [`https://messenger.example.gov/${'a'.repeat(2048)}`, 'test', 'over 2048 characters'],
  ])('refuses %s (%s: %s)', (url, env) => {
    expect(() => checkReceiverUrl(url, env)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_receiver_url' }));
  });
});

describe('receivers', () => {
  it('stores the bearer token sealed to its receiver and never shows it; audits the registration without it', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const receiver = await addReceiver(runtime, { actor: `user:${admin.id}` }, { organisationId: admin.organisation_id, url: 'https://messenger.example.gov/events', audience: AUDIENCE, bearerToken: 'sekret-token_1' });
    const row = await runtime.db.selectFrom('event_receivers').selectAll().where('id', '=', receiver.id).executeTakeFirstOrThrow();
    expect(row.bearer_token_enc).not.toContain('sekret');
    expect(runtime.box.openText(row.bearer_token_enc!, bearerTokenContext(receiver.id))).toBe('sekret-token_1');
    expect(() => runtime.box.openText(row.bearer_token_enc!, bearerTokenContext('another-receiver'))).toThrow(/decryption failed/);

    const listed = await request('/api/admin/event-receivers', { cookie: await sessionCookie(runtime, admin) });
    const text = await listed.text();
    expect(text).not.toContain('sekret');
    expect(text).not.toContain(row.bearer_token_enc!);
    expect(JSON.parse(text).receivers[0]).toMatchObject({ id: receiver.id, has_bearer_token: true, events: null });

    const audit = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'event_receiver.added').where('subject', '=', `event_receiver:${receiver.id}`).executeTakeFirstOrThrow();
    expect(audit.actor).toBe(`user:${admin.id}`);
    expect(JSON.stringify(audit)).not.toContain('sekret');
  });

  it.each([
    [{ audience: '' }, 'audience'],
    [{ audience: 'a\u0000b' }, 'audience'],
    [{ events: [] }, 'events'],
    [{ events: ['credential_change', 'password_reset'] }, 'unknown event type'],
    // Announcements to admins are never sent as SETs, so subscribing to one is refused rather than silently empty.
    [{ events: ['client_changed'] }, 'unknown event type'],
    [{ events: 'session_revoked' }, 'events'],
    [{ bearerToken: 'has spaces in it' }, 'bearer_token'],
    [{ bearerToken: '' }, 'bearer_token'],
  ])('refuses bad input %j with a 400 and writes nothing', async (override, message) => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const attempt = addReceiver(runtime, { actor: 'test' }, { organisationId: admin.organisation_id, url: 'https://messenger.example.gov/events', audience: AUDIENCE, ...override });
    await expect(attempt).rejects.toMatchObject({ status: 400, code: 'invalid_receiver', description: expect.stringContaining(message) });
    expect(await runtime.db.selectFrom('event_receivers').select('id').where('organisation_id', '=', admin.organisation_id).execute()).toHaveLength(0);
  });
});

describe('event receiver admin API', () => {
  it('lets an admin register, list and remove receivers of their organisation, audited', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const created = await request('/api/admin/event-receivers', { method: 'POST', cookie, json: { url: 'https://messenger.example.gov/events', audience: AUDIENCE, events: ['session_revoked', 'credential_change'], bearer_token: 'tok' } });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string };
    expect(body).toEqual({
      id: expect.any(String),
      organisation_id: admin.organisation_id,
      url: 'https://messenger.example.gov/events',
      audience: AUDIENCE,
      events: ['session_revoked', 'credential_change'],
      has_bearer_token: true,
      created_at: runtime.clock.now().toISOString(),
      created_by: `user:${admin.id}`,
      removed_at: null,
      health: { consecutive_failures: 0, failing_since: null, last_success_at: null, last_failure_at: null, last_error: null },
    });

    const again = await request('/api/admin/event-receivers', { method: 'POST', cookie, json: { url: 'https://messenger.example.gov/events', audience: AUDIENCE } });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'receiver_exists' });

    const list = (await (await request('/api/admin/event-receivers', { cookie })).json()) as { receivers: { id: string; health: { pending: number } }[] };
    expect(list.receivers.map((r) => r.id)).toEqual([body.id]);
    expect(list.receivers[0]!.health.pending).toBe(0);

    const removed = await request(`/api/admin/event-receivers/${body.id}`, { method: 'DELETE', cookie });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ id: body.id, removed_at: runtime.clock.now().toISOString() });
    expect(((await (await request('/api/admin/event-receivers', { cookie })).json()) as { receivers: unknown[] }).receivers).toEqual([]);
    const twice = await request(`/api/admin/event-receivers/${body.id}`, { method: 'DELETE', cookie });
    expect(twice.status).toBe(404);

    const actions = await runtime.db.selectFrom('audit_log').select('action').where('subject', '=', `event_receiver:${body.id}`).orderBy('id').execute();
    expect(actions.map((a) => a.action)).toEqual(['event_receiver.added', 'event_receiver.removed']);
    // The same URL and audience may be registered again once removed.
    expect((await request('/api/admin/event-receivers', { method: 'POST', cookie, json: { url: 'https://messenger.example.gov/events', audience: AUDIENCE } })).status).toBe(201);
  });

  it("keeps admins of another organisation from seeing or removing a receiver, and members and anonymous callers out", async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const receiver = await addReceiver(runtime, { actor: 'test' }, { organisationId: admin.organisation_id, url: 'https://a.example.gov/events', audience: AUDIENCE });
    const otherAdmin = await createTestUser(runtime, { role: 'admin' });
    const otherCookie = await sessionCookie(runtime, otherAdmin);
    const seen = (await (await request('/api/admin/event-receivers', { cookie: otherCookie })).json()) as { receivers: unknown[] };
    expect(seen.receivers).toEqual([]);
    const removed = await request(`/api/admin/event-receivers/${receiver.id}`, { method: 'DELETE', cookie: otherCookie });
    expect(removed.status).toBe(404);
    expect(await removed.json()).toMatchObject({ error: 'receiver_not_found' });
    const row = await runtime.db.selectFrom('event_receivers').select('removed_at').where('id', '=', receiver.id).executeTakeFirstOrThrow();
    expect(row.removed_at).toBeNull();

    const member = await createTestUser(runtime, { role: 'member', organisationId: admin.organisation_id });
    const memberCookie = await sessionCookie(runtime, member);
    expect((await request('/api/admin/event-receivers', { cookie: memberCookie })).status).toBe(403);
    expect((await request('/api/admin/event-receivers', { method: 'POST', cookie: memberCookie, json: { url: 'https://x.example.gov', audience: 'x' } })).status).toBe(403);
    expect((await request(`/api/admin/event-receivers/${receiver.id}`, { method: 'DELETE', cookie: memberCookie })).status).toBe(403);
    expect((await request('/api/admin/event-receivers')).status).toBe(401);
  });

  it('answers bad requests with a 4xx and a stable code, never a 500', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const post = (json: unknown) => request('/api/admin/event-receivers', { method: 'POST', cookie, json });
    const cases: [unknown, number, string][] = [
      [{ url: 'http://messenger.example.gov/events', audience: AUDIENCE }, 400, 'invalid_receiver_url'],
      [{ url: 'https://u:p@messenger.example.gov/events', audience: AUDIENCE }, 400, 'invalid_receiver_url'],
      [{ audience: AUDIENCE }, 400, 'invalid_request'],
      [{ url: 'https://messenger.example.gov/events' }, 400, 'invalid_request'],
      [{ url: 42, audience: AUDIENCE }, 400, 'invalid_request'],
      [{ url: 'https://messenger.example.gov/events', audience: AUDIENCE, events: ['nope'] }, 400, 'invalid_receiver'],
      [{ url: 'https://messenger.example.gov/events', audience: AUDIENCE, bearer_token: 7 }, 400, 'invalid_request'],
      [[1, 2], 400, 'invalid_request'],
    ];
    for (const [json, status, code] of cases) {
      const res = await post(json);
      expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([status, code]);
    }
    const notJson = await request('/api/admin/event-receivers', { method: 'POST', cookie, headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
    const form = await request('/api/admin/event-receivers', { method: 'POST', cookie, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'url=x' });
    expect(form.status).toBe(415);
    const badId = await request('/api/admin/event-receivers/not-a-uuid', { method: 'DELETE', cookie });
    expect([badId.status, ((await badId.json()) as { error: string }).error]).toEqual([404, 'receiver_not_found']);
    const crossSite = await request('/api/admin/event-receivers', { method: 'POST', cookie, json: { url: 'https://messenger.example.gov/e', audience: AUDIENCE }, headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    expect(await runtime.db.selectFrom('event_receivers').select('id').where('organisation_id', '=', admin.organisation_id).execute()).toHaveLength(0);
  });
});
