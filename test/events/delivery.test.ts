import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/db/schema.js';
import { deliverPendingEvents, type DeliveryReport } from '../../src/events/deliver.js';
import { receiverHealth } from '../../src/events/health.js';
import { type RaiseSecurityEventInput, raiseSecurityEvent } from '../../src/events/raise.js';
import { addReceiver, removeReceiver } from '../../src/events/receivers.js';
import { EVENT_TYPE_URIS } from '../../src/events/types.js';
import { pruneFinishedDeliveries } from '../../src/events/worker.js';
import { managementRoutes } from '../../src/metrics/routes.js';
import type { Runtime } from '../../src/runtime.js';
import { createTestRuntime, createTestUser, testClient, usingPostgres } from '../support/runtime.js';
import { startReceiver } from '../support/receiver-server.js';

const TIMEOUT_MS = 500;
const runtime = await createTestRuntime({ env: { WARTA_SET_TIMEOUT_MS: String(TIMEOUT_MS) } });
const { request } = testClient(runtime);
const management = managementRoutes(runtime);
const AUDIENCE = 'https://messenger.example.gov/warta-events';
const HOUR = 3600;

const deliver = (deps: Runtime = runtime, batchSize?: number) => deliverPendingEvents(deps, batchSize === undefined ? {} : { batchSize });

const raise = (input: RaiseSecurityEventInput) => runtime.db.transaction().execute((trx) => raiseSecurityEvent(trx, runtime.clock, input));

const passkeyAdded = (user: User, friendlyName: string): RaiseSecurityEventInput => ({
  type: 'credential_change',
  userId: user.id,
  organisationId: user.organisation_id,
  details: { changeType: 'create', credentialType: 'fido2-platform', friendlyName },
  initiatingEntity: 'user',
  ip: '192.0.2.7',
});

const deviceLinked = (user: User, deviceName: string): RaiseSecurityEventInput => ({
  type: 'device_linked',
  userId: user.id,
  organisationId: user.organisation_id,
  details: { deviceId: crypto.randomUUID(), deviceName },
});

const register = (user: User, url: string, extra: { events?: string[]; bearerToken?: string } = {}) =>
  addReceiver(runtime, { actor: 'test' }, { organisationId: user.organisation_id, url, audience: AUDIENCE, ...extra });

const outboxFor = (receiverId: string) => runtime.db.selectFrom('set_outbox').selectAll().where('receiver_id', '=', receiverId).orderBy('id').execute();

/** Delivery rounds until nothing is claimable: each round takes only the oldest pending SET per (receiver, user). */
async function drain(deps: Runtime = runtime): Promise<DeliveryReport[]> {
  const reports: DeliveryReport[] = [];
  for (let round = 0; round < 50; round++) {
    const report = await deliver(deps);
    if (report.claimed === 0) return reports;
    reports.push(report);
  }
  throw new Error('delivery did not settle in 50 rounds');
}

// Every test registers its own receivers; none may leave work for the next one's rounds.
afterEach(async () => {
  const active = await runtime.db.selectFrom('event_receivers').select(['id', 'organisation_id']).where('removed_at', 'is', null).execute();
  for (const receiver of active) await removeReceiver(runtime, { actor: 'test' }, { id: receiver.id, organisationId: receiver.organisation_id });
});

describe('Security Event Tokens (RFC 8417) pushed over HTTP (RFC 8935)', () => {
  it('pushes a signed SET that verifies with the JWKS the app serves, with the bearer token, and records the delivery', async () => {
    const receiver = await startReceiver();
    const user = await createTestUser(runtime);
    const registered = await register(user, receiver.url, { bearerToken: 'receiver-token-123' });
    const event = await raise({ ...passkeyAdded(user, 'YubiKey 5C'), txn: 'req-42' });
    // Raising only queues: nothing is sent from inside the caller's transaction.
    expect(receiver.received).toHaveLength(0);

    expect(await deliver()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(receiver.received).toHaveLength(1);
    const [push] = receiver.received;
    expect(push!.headers['content-type']).toBe('application/secevent+jwt');
    expect(push!.headers.accept).toBe('application/json');
    expect(push!.headers.authorization).toBe('Bearer receiver-token-123');

    const jwks = createLocalJWKSet((await (await request('/.well-known/jwks.json')).json()) as JSONWebKeySet);
    const { payload, protectedHeader } = await jwtVerify(push!.token, jwks, { issuer: runtime.config.issuer, audience: AUDIENCE, typ: 'secevent+jwt', currentDate: runtime.clock.now() });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'secevent+jwt', kid: expect.any(String) });
    const [row] = await outboxFor(registered.id);
    expect(payload).toEqual({
      iss: runtime.config.issuer,
      iat: Math.floor(runtime.clock.now().getTime() / 1000),
      jti: row!.jti,
      aud: AUDIENCE,
      txn: 'req-42',
      sub_id: { format: 'iss_sub', iss: runtime.config.issuer, sub: user.id },
      events: {
        'https://schemas.openid.net/secevent/caep/event-type/credential-change': {
          credential_type: 'fido2-platform',
          change_type: 'create',
          friendly_name: 'YubiKey 5C',
          initiating_entity: 'user',
          event_timestamp: Math.floor(event.occurred_at.getTime() / 1000),
        },
      },
    });
    // The IP is for the user's own banner, not for relying services.
    expect(push!.token).not.toContain('192.0.2.7');
    expect(JSON.stringify(payload)).not.toContain('192.0.2.7');
    expect(row).toMatchObject({ status: 'delivered', attempts: 1, last_error: null, locked_until: null });
    const [health] = (await receiverHealth(runtime.db, runtime.clock.now())).filter((h) => h.id === registered.id);
    expect(health).toMatchObject({ consecutive_failures: 0, failing_since: null, last_success_at: runtime.clock.now(), pending: 0 });
  });

  it('names a revoked session with a complex subject (user + session), as CAEP session-revoked shows', async () => {
    const receiver = await startReceiver();
    const user = await createTestUser(runtime);
    await register(user, receiver.url);
    await raise({ type: 'session_revoked', userId: user.id, organisationId: user.organisation_id, details: { sessionId: 'sess-1' }, initiatingEntity: 'admin' });
    await raise({ type: 'account_disabled', userId: user.id, organisationId: user.organisation_id, details: { reason: 'hijacking' } });
    await drain();
    expect(receiver.received.map((r) => r.claims.sub_id)).toEqual([
      { format: 'complex', user: { format: 'iss_sub', iss: runtime.config.issuer, sub: user.id }, session: { format: 'opaque', id: 'sess-1' } },
      { format: 'iss_sub', iss: runtime.config.issuer, sub: user.id },
    ]);
    expect(Object.keys(receiver.received[0]!.claims.events as object)).toEqual([EVENT_TYPE_URIS.session_revoked]);
    expect(receiver.received[1]!.claims.events).toEqual({ 'https://schemas.openid.net/secevent/risc/event-type/account-disabled': { reason: 'hijacking', event_timestamp: expect.any(Number) } });
    expect(decodeProtectedHeader(receiver.received[1]!.token).typ).toBe('secevent+jwt');
  });

  it("queues SETs only for the user's organisation's active receivers that subscribe to the event type", async () => {
    const all = await startReceiver();
    const sessionsOnly = await startReceiver();
    const otherOrg = await startReceiver();
    const user = await createTestUser(runtime);
    const stranger = await createTestUser(runtime);
    await register(user, all.url);
    await register(user, sessionsOnly.url, { events: ['session_revoked'] });
    await register(stranger, otherOrg.url);
    await raise(passkeyAdded(user, 'Key'));
    await drain();
    expect(all.received).toHaveLength(1);
    expect(sessionsOnly.received).toHaveLength(0);
    expect(otherOrg.received).toHaveLength(0);
  });

  it('refuses to file an event under an organisation the user is not in, and writes nothing', async () => {
    const user = await createTestUser(runtime);
    const stranger = await createTestUser(runtime);
    await expect(raise({ ...passkeyAdded(user, 'Key'), organisationId: stranger.organisation_id })).rejects.toThrow(/not in organisation/);
    await expect(raise({ type: 'device_linked', userId: user.id, organisationId: user.organisation_id, details: { deviceId: 'd', deviceName: '' } })).rejects.toThrow(/deviceName/);
    await expect(raise({ type: 'no_such_event', userId: user.id, organisationId: user.organisation_id, details: {} } as never)).rejects.toThrow(/unknown security event type/);
    expect(await runtime.db.selectFrom('security_events').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
  });

  it('keeps every event while the receiver is down and Warta restarts, then delivers each once, in order per subject', async () => {
    const receiver = await startReceiver({ kind: 'fail', status: 503 });
    const alice = await createTestUser(runtime);
    const bob = await createTestUser(runtime, { organisationId: alice.organisation_id });
    const registered = await register(alice, receiver.url);
    for (let i = 1; i <= 3; i++) {
      await raise(passkeyAdded(alice, `Alice key ${i}`));
      await raise(deviceLinked(bob, `Bob phone ${i}`));
    }

    const failedAt = runtime.clock.now();
    expect(await deliver()).toMatchObject({ claimed: 2, retrying: 1, deferred: 1 });
    // Back-off: nothing is due again until the delay has passed.
    expect((await deliver()).claimed).toBe(0);
    runtime.clock.advance(5);
    expect(await deliver()).toMatchObject({ claimed: 2, retrying: 1 });
    for (let round = 0; round < 3; round++) {
      runtime.clock.advance(HOUR);
      await deliver();
    }
    const waiting = await outboxFor(registered.id);
    expect(waiting.every((row) => row.status === 'pending')).toBe(true);
    // Only the oldest SET of each user was ever claimed; the newer ones wait their turn.
    const headIds = [waiting.find((r) => r.user_id === alice.id)!.id, waiting.find((r) => r.user_id === bob.id)!.id];
    expect(waiting.filter((row) => !headIds.includes(row.id)).every((row) => row.attempts === 0)).toBe(true);
    expect(waiting.find((r) => r.id === headIds[0])).toMatchObject({ attempts: 5, last_error: 'http 503' });
    const [health] = (await receiverHealth(runtime.db, runtime.clock.now())).filter((h) => h.id === registered.id);
    // The outbox row (never shown to admins) keeps the reason; the receiver's health says only that delivery failed.
    expect(health).toMatchObject({ consecutive_failures: 5, failing_since: failedAt, pending: 6, last_error: 'delivery_failed' });

    // A restart: a fresh runtime over the same database (PostgreSQL); PGlite is one process's database, so the same one.
    const restarted = usingPostgres ? await createTestRuntime({ databaseUrl: runtime.databaseUrl!, clock: runtime.clock, env: { WARTA_SET_TIMEOUT_MS: String(TIMEOUT_MS) } }) : runtime;
    receiver.setMode({ kind: 'accept' });
    runtime.clock.advance(HOUR);
    await drain(restarted);

    const delivered = await outboxFor(registered.id);
    expect(delivered.every((row) => row.status === 'delivered')).toBe(true);
    const accepted = receiver.received.filter((r) => r.answered === 'accept');
    expect(accepted).toHaveLength(6);
    expect(new Set(accepted.map((r) => r.claims.jti)).size).toBe(6);
    for (const user of [alice, bob]) {
      const inRaiseOrder = delivered.filter((row) => row.user_id === user.id).map((row) => row.jti);
      expect(accepted.filter((r) => (r.claims.sub_id as { sub: string }).sub === user.id).map((r) => r.claims.jti)).toEqual(inRaiseOrder);
    }
    expect(accepted.filter((r) => (r.claims.sub_id as { sub: string }).sub === alice.id).map((r) => Object.values(r.claims.events as object)[0].friendly_name)).toEqual(['Alice key 1', 'Alice key 2', 'Alice key 3']);
    const [recovered] = (await receiverHealth(runtime.db, runtime.clock.now())).filter((h) => h.id === registered.id);
    expect(recovered).toMatchObject({ consecutive_failures: 0, failing_since: null, pending: 0 });
  });

  it('refuses a SET for good only on an RFC 8935 error response (recorded and audited with the SET), and retries a 400 without one', async () => {
    const refusing = await startReceiver({ kind: 'reject', err: 'invalid_key' });
    const proxy400 = await startReceiver({ kind: 'fail', status: 400, body: '<html>Bad Request</html>' });
    const user = await createTestUser(runtime);
    const [refuser, proxy] = [await register(user, refusing.url), await register(user, proxy400.url)];
    await raise(passkeyAdded(user, 'Key'));
    expect(await deliver()).toMatchObject({ claimed: 2, rejected: 1, retrying: 1 });
    const [refused] = await outboxFor(refuser.id);
    expect(refused).toMatchObject({ status: 'rejected', attempts: 1, last_error: '400 invalid_key', finished_at: runtime.clock.now() });
    const audit = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'security_event.delivery_rejected').where('subject', '=', `event_receiver:${refuser.id}`).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ outcome: 'failure', details: { jti: refused!.jti, error: '400 invalid_key', type: 'credential_change', user_id: user.id } });
    expect((await outboxFor(proxy.id)).map((row) => [row.status, row.last_error])).toEqual([['pending', 'http 400']]);
  });

  it('cancels the queued SETs of a removed receiver', async () => {
    const receiver = await startReceiver({ kind: 'fail', status: 503 });
    const user = await createTestUser(runtime);
    const registered = await register(user, receiver.url);
    await raise(passkeyAdded(user, 'One'));
    await raise(passkeyAdded(user, 'Two'));
    await deliver();
    await removeReceiver(runtime, { actor: 'test' }, { id: registered.id, organisationId: user.organisation_id });
    receiver.setMode({ kind: 'accept' });
    runtime.clock.advance(HOUR);
    expect((await deliver()).claimed).toBe(0);
    expect((await outboxFor(registered.id)).map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    expect(receiver.received.filter((r) => r.answered === 'accept')).toHaveLength(0);
    // Events raised after the removal are not queued for it at all.
    await raise(passkeyAdded(user, 'Three'));
    expect(await outboxFor(registered.id)).toHaveLength(2);
  });

  it('sends nothing when the bearer token cannot be opened, and keeps the SET for later', async () => {
    const receiver = await startReceiver();
    const user = await createTestUser(runtime);
    const registered = await register(user, receiver.url, { bearerToken: 'tok' });
    // A sealed value copied from another receiver does not open under this one's context.
    const foreign = runtime.box.seal('stolen', 'event receiver someone-else');
    await runtime.db.updateTable('event_receivers').set({ bearer_token_enc: foreign }).where('id', '=', registered.id).execute();
    await raise(passkeyAdded(user, 'Key'));
    expect(await deliver()).toMatchObject({ claimed: 1, deferred: 1, delivered: 0 });
    expect(receiver.received).toHaveLength(0);
    const [row] = await outboxFor(registered.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 0, locked_until: null });
    expect(row!.next_attempt_at.getTime()).toBeGreaterThan(runtime.clock.now().getTime());
    const [health] = (await receiverHealth(runtime.db, runtime.clock.now())).filter((h) => h.id === registered.id);
    expect(health).toMatchObject({ consecutive_failures: 0, failing_since: null });
  });

  it('reports a receiver failing longer than the threshold on the management /readyz, which stays 200, until it recovers', async () => {
    const receiver = await startReceiver({ kind: 'fail', status: 503 });
    const user = await createTestUser(runtime);
    const registered = await register(user, receiver.url);
    await raise(passkeyAdded(user, 'Key'));
    const failingSince = runtime.clock.now();
    await deliver();
    runtime.clock.advance(runtime.config.securityEvents.failingAfterSeconds - 60);
    await deliver();
    const early = await management.request('/readyz');
    expect(await early.json()).toEqual({ status: 'ok', checks: { database: 'ok', migrations: 'ok' } });

    runtime.clock.advance(60);
    const late = await management.request('/readyz');
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual({
      status: 'ok',
      checks: { database: 'ok', migrations: 'ok' },
      details: { event_receivers: { failing: [{ id: registered.id, host: new URL(receiver.url).host, failing_since: failingSince.toISOString(), consecutive_failures: 2, pending: 1 }] } },
    });

    receiver.setMode({ kind: 'accept' });
    await deliver();
    expect(await (await management.request('/readyz')).json()).toEqual({ status: 'ok', checks: { database: 'ok', migrations: 'ok' } });
  });

  it('prunes finished deliveries past the retention, keeping pending ones and the security events', async () => {
    const receiver = await startReceiver();
    const user = await createTestUser(runtime);
    const registered = await register(user, receiver.url);
    await raise(passkeyAdded(user, 'Old'));
    await deliver();
    receiver.setMode({ kind: 'fail', status: 503 });
    await raise(passkeyAdded(user, 'Pending'));
    await deliver();
    runtime.clock.advance(runtime.config.securityEvents.retentionSeconds + 1);
    expect(await pruneFinishedDeliveries(runtime.db, new Date(runtime.clock.now().getTime() - runtime.config.securityEvents.retentionSeconds * 1000))).toBeGreaterThanOrEqual(1);
    expect((await outboxFor(registered.id)).map((r) => r.status)).toEqual(['pending']);
    expect(await runtime.db.selectFrom('security_events').select('id').where('user_id', '=', user.id).execute()).toHaveLength(2);
  });
});
