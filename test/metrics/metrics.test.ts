import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSink } from '../../src/audit-sink/file.js';
import { shipAuditBatch } from '../../src/audit-sink/ship.js';
import { appendAudit, sealAuditLog } from '../../src/audit/audit.js';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { ConfigError } from '../../src/config.js';
import { raiseSecurityEvent } from '../../src/events/raise.js';
import { addReceiver } from '../../src/events/receivers.js';
import { managementRoutes } from '../../src/metrics/routes.js';
import { basicAuth } from '../oidc/support.js';
import { codeAt, freshIp, GOOD_PASSWORD, givePasswordAndTotp } from '../passwords/support.js';
import { openedCase, recoveryDesk, redeem } from '../recovery/support.js';
import { createTestRuntime, createTestUser, testClient, testConfig } from '../support/runtime.js';

// One free failed password attempt per account, the second locks it: a throttle refusal and a lock in three requests.
const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true', WARTA_SIGNIN_FREE_ATTEMPTS: '1', WARTA_SIGNIN_LOCK_AFTER: '2', WARTA_OUTBOUND_ALLOW: 'receiver.internal.example' } });
const { request } = testClient(runtime);
const management = managementRoutes(runtime);

async function scrape(app = management): Promise<string> {
  const response = await app.request('/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of one sample, by metric name and exact label set as Prometheus prints it (`{a="1",b="2"}`, or '' for none). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const signInWithPassword = (json: unknown) => request('/api/signin/password', { method: 'POST', json, headers: { 'x-forwarded-for': freshIp() } });

describe('the metrics settings', () => {
  it('are off unless WARTA_METRICS_PORT is set, and listen on loopback by default', () => {
    expect(testConfig().metrics).toEqual({ port: undefined, host: '127.0.0.1', public: false });
    expect(testConfig({ WARTA_METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1', public: false });
    expect(testConfig({ WARTA_METRICS_PORT: '9464', WARTA_METRICS_HOST: '::1' }).metrics.host).toBe('::1');
  });

  it('refuse a metrics port bound beyond loopback unless WARTA_METRICS_PUBLIC says so on purpose', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'metrics.example.gov']) {
      const refusal = (() => {
        try {
          testConfig({ WARTA_METRICS_PORT: '9464', WARTA_METRICS_HOST: host });
        } catch (error) {
          return error;
        }
      })();
      expect(refusal, host).toBeInstanceOf(ConfigError);
      expect((refusal as ConfigError).variable).toBe('WARTA_METRICS_HOST');
      expect((refusal as Error).message).toMatch(/WARTA_METRICS_PUBLIC=1/);
    }
    expect(testConfig({ WARTA_METRICS_PORT: '9464', WARTA_METRICS_HOST: '0.0.0.0', WARTA_METRICS_PUBLIC: '1' }).metrics).toEqual({ port: 9464, host: '0.0.0.0', public: true });
  });

  it('refuse a malformed port and the public port itself', () => {
    expect(() => testConfig({ WARTA_METRICS_PORT: 'ninety' })).toThrow(/WARTA_METRICS_PORT: expected a whole number/);
    expect(() => testConfig({ PORT: '3000', WARTA_METRICS_PORT: '3000' })).toThrow(/WARTA_METRICS_PORT: must differ from PORT/);
    expect(() => testConfig({ WARTA_METRICS_PUBLIC: 'maybe' })).toThrow(/WARTA_METRICS_PUBLIC: expected true or false/);
  });
});

describe('the management /metrics', () => {
  it('counts sign-ins by method and result, tokens by grant type, throttle refusals, locks and recovery cases', async () => {
    const before = await scrape();

    // Enrolling four people with passkeys signs each in: passkey successes.
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    expect(caseId).toBeTruthy();
    expect((await redeem(desk.member.client, desk.member.user.username, 'not-the-code')).status).toBe(400);

    const user = await createTestUser(runtime);
    const { secret } = await givePasswordAndTotp(runtime, user);
    expect((await signInWithPassword({ username: user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) })).status).toBe(200);

    const target = await createTestUser(runtime);
    await givePasswordAndTotp(runtime, target);
    const wrong = { username: target.username, password: 'not the password', code: '000000' };
    expect((await signInWithPassword(wrong)).status).toBe(401);
    expect((await signInWithPassword(wrong)).status).toBe(401);
    const refused = await signInWithPassword(wrong);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: 'too_many_attempts' });

    const backend = await registerClient(runtime, { actor: 'test' }, { client_name: 'Backend', grant_types: ['client_credentials'], scope: 'reports:read' }, { authority: OPERATOR });
    const issued = await request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basicAuth(backend) }, body: 'grant_type=client_credentials' });
    expect(issued.status).toBe(200);

    const after = await scrape();
    const grew = (name: string, labels = '') => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    expect(grew('warta_sign_ins_total', '{method="passkey",result="success"}')).toBe(4);
    expect(grew('warta_sign_ins_total', '{method="password_totp",result="success"}')).toBe(1);
    expect(grew('warta_sign_ins_total', '{method="password_totp",result="failure"}')).toBe(2);
    expect(grew('warta_sign_ins_total', '{method="recovery_code",result="failure"}')).toBe(1);
    expect(grew('warta_tokens_issued_total', '{grant_type="client_credentials"}')).toBe(1);
    expect(grew('warta_throttle_refusals_total', '{limit="failed_attempts"}')).toBe(1);
    expect(grew('warta_locks_total', '{scope="account"}')).toBe(1);
    expect(sample(after, 'warta_recovery_cases', '{state="pending"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'warta_recovery_cases', '{state="disputed"}')).toBeGreaterThanOrEqual(0);
    expect(sample(after, 'warta_http_requests_total', '{method="POST",route="/token",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^warta_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/token"\} \d+$/m);
    expect(after).toMatch(/^warta_database_query_duration_seconds_count\{result="ok"\} [1-9]\d*$/m);
  });

  it('reports the database, its connections, the signing key age and the process metrics', async () => {
    const text = await scrape();
    expect(sample(text, 'warta_database_up')).toBe(1);
    expect(sample(text, 'warta_database_connections', '{state="total"}')).toBeGreaterThanOrEqual(1);
    const { kid } = await runtime.signingKeys.activeKey();
    const keyAge = sample(text, 'warta_signing_key_age_seconds', `{kid="${kid}"}`);
    expect(keyAge).toBeGreaterThanOrEqual(0);
    runtime.clock.advance(600);
    expect(sample(await scrape(), 'warta_signing_key_age_seconds', `{kid="${kid}"}`)).toBeCloseTo(keyAge! + 600, 0);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) expect(text).toMatch(new RegExp(`^${name} `, 'm'));
  });

  it('labels requests by route pattern: a path with an id adds no series per id', async () => {
    const ids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    for (const id of ids) await request(`/api/account/sessions/${id}`, { method: 'DELETE', headers: { origin: runtime.config.origin } });
    await request('/no/such/page/at/all');
    const text = await scrape();
    for (const id of ids) expect(text).not.toContain(id);
    expect(text).not.toContain('/no/such/page');
    expect(sample(text, 'warta_http_requests_total', '{method="DELETE",route="/api/account/sessions/:id",status="401"}')).toBe(3);
    // A made-up method is one label, not one per method.
    await request('/healthz', { method: 'BREW' });
    expect(await scrape()).not.toContain('BREW');
  });

  it('reports each receiver outbox backlog and the age of its oldest message', async () => {
    const user = await createTestUser(runtime);
    const receiver = await addReceiver(runtime, { actor: 'test' }, { organisationId: user.organisation_id, url: 'https://receiver.internal.example/set', audience: 'https://receiver.internal.example' });
    await runtime.db.transaction().execute((trx) =>
      raiseSecurityEvent(trx, runtime.clock, { type: 'device_linked', userId: user.id, organisationId: user.organisation_id, details: { deviceId: crypto.randomUUID(), deviceName: 'Phone' } }),
    );
    runtime.clock.advance(90);
    const text = await scrape();
    const labels = `{outbox="security_events",receiver="${receiver.id}"}`;
    expect(sample(text, 'warta_outbox_pending', labels)).toBe(1);
    expect(sample(text, 'warta_outbox_oldest_pending_age_seconds', labels)).toBe(90);
  });

  it('reports the audit sink backlog while the sink is down, and none once it has taken every entry', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'warta-metrics-sink-'));
    const shipping = await createTestRuntime({ env: { WARTA_AUDIT_SINK: `file:${path.join(dir, 'audit.jsonl')}` } });
    const shippingManagement = managementRoutes(shipping);
    await appendAudit(shipping.db, shipping, { actor: 'test' }, { action: 'test.first' });
    await appendAudit(shipping.db, shipping, { actor: 'test' }, { action: 'test.second' });
    await sealAuditLog(shipping.db, shipping);
    shipping.clock.advance(120);
    const name = shipping.config.audit.sink!.name;
    const behind = await scrape(shippingManagement);
    expect(sample(behind, 'warta_audit_sink_backlog', `{sink="${name}"}`)).toBeGreaterThanOrEqual(2);
    expect(sample(behind, 'warta_audit_sink_oldest_unshipped_seconds', `{sink="${name}"}`)).toBeGreaterThanOrEqual(120);

    const settings = shipping.config.audit.sink!;
    const sink = fileSink(settings.target as Parameters<typeof fileSink>[0]);
    while ((await shipAuditBatch(shipping, sink, { batchSize: 100, timeoutMs: settings.timeoutMs })).shipped > 0);
    await sink.close();
    const caughtUp = await scrape(shippingManagement);
    expect(sample(caughtUp, 'warta_audit_sink_backlog', `{sink="${name}"}`)).toBe(0);
    expect(sample(caughtUp, 'warta_audit_sink_oldest_unshipped_seconds', `{sink="${name}"}`)).toBe(0);
    // Without a sink there is nothing to report.
    expect(sample(await scrape(), 'warta_audit_sink_backlog', `{sink="${name}"}`)).toBeUndefined();
  });

  it('still answers when the database is closed: warta_database_up 0 and the process metrics', async () => {
    const closing = await createTestRuntime();
    const closedManagement = managementRoutes(closing);
    await closing.close();
    const text = await scrape(closedManagement);
    expect(sample(text, 'warta_database_up')).toBe(0);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).not.toMatch(/^warta_signing_key_age_seconds\{/m);
    const ready = await closedManagement.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { database: 'unreachable' } });
  });
});

describe('/readyz', () => {
  it('names a failing event receiver host on the management port and nothing but the verdict on the public one', async () => {
    const user = await createTestUser(runtime);
    const receiver = await addReceiver(runtime, { actor: 'test' }, { organisationId: user.organisation_id, url: 'https://receiver.internal.example/failing', audience: 'https://receiver.internal.example' });
    const since = new Date(runtime.clock.now().getTime() - (runtime.config.securityEvents.failingAfterSeconds + 60) * 1000);
    await runtime.db.updateTable('event_receivers').set({ failing_since: since, consecutive_failures: 7 }).where('id', '=', receiver.id).execute();

    const detailed = await management.request('/readyz');
    expect(detailed.status).toBe(200);
    const report = (await detailed.json()) as { details: { event_receivers: { failing: { id: string; host: string }[] } } };
    expect(report.details.event_receivers.failing).toContainEqual(expect.objectContaining({ id: receiver.id, host: 'receiver.internal.example' }));

    const open = await request('/readyz');
    expect(open.status).toBe(200);
    const body = await open.text();
    expect(JSON.parse(body)).toEqual({ status: 'ok' });
    expect(body).not.toContain('receiver.internal.example');
    expect(body).not.toContain(receiver.id);
  });

  it('on the public port answers 503 with no reason when migrations are pending', async () => {
    await runtime.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '0026_instance_settings' as never).execute();
    try {
      const open = await request('/readyz');
      expect(open.status).toBe(503);
      expect(await open.json()).toEqual({ status: 'unavailable' });
      const detailed = await management.request('/readyz');
      expect(detailed.status).toBe(503);
      expect(await detailed.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', migrations: 'pending: 0026_instance_settings' } });
    } finally {
      await runtime.db.insertInto('kysely_migration' as never).values({ name: '0026_instance_settings', timestamp: new Date().toISOString() } as never).execute();
    }
  });

  it('the management port serves only /metrics and /readyz', async () => {
    for (const path of ['/', '/healthz', '/.well-known/jwks.json', '/api/signin/password']) expect((await management.request(path)).status, path).toBe(404);
  });
});
