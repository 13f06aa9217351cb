/** The outbox engine, run against every outbox it serves: what holds for SETs holds for back-channel logouts. */
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryReport } from '../../src/outbox/deliver.js';
import { refusedUrl, startReceiver } from '../support/receiver-server.js';
import { createTestRuntime, usingPostgres } from '../support/runtime.js';
import { OUTBOXES } from './outboxes.js';

// Long enough for the first request of the file (a cold HTTP client) on a busy machine.
const TIMEOUT_MS = 1000;
const env = { WARTA_SET_TIMEOUT_MS: String(TIMEOUT_MS), WARTA_BACKCHANNEL_LOGOUT_TIMEOUT_MS: String(TIMEOUT_MS) };
const runtime = await createTestRuntime({ env });
const HOUR = 3600;

const auditEntries = (action: string, subject: string) => runtime.db.selectFrom('audit_log').select(['outcome', 'details']).where('action', '=', action).where('subject', '=', subject).execute();

// Every test queues for its own endpoints; none may leave work for the next one's rounds.
afterEach(async () => {
  await runtime.db.deleteFrom('set_outbox').execute();
  await runtime.db.deleteFrom('backchannel_logouts').execute();
});

describe.each(OUTBOXES)('the outbox engine delivering $name', (outbox) => {
  const deliver = (options: { batchSize?: number } = {}) => outbox.deliver(runtime, options);

  it('backs off after a failure: the first retry after the minimum delay, not before', async () => {
    const receiver = await startReceiver({ kind: 'fail', status: 503 });
    const endpoint = await endpointAt(receiver.url);
    await endpoint.queue();
    expect(await deliver()).toMatchObject({ claimed: 1, retrying: 1 });
    const [row] = await endpoint.rows();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: 'http 503' });
    expect(row!.next_attempt_at.getTime()).toBe(runtime.clock.now().getTime() + runtime.config.outbox.retryMinSeconds * 1000);
    // Not due yet.
    expect(await deliver()).toMatchObject({ claimed: 0, delivered: 0, retrying: 0 });
    receiver.setMode({ kind: 'accept' });
    runtime.clock.advance(runtime.config.outbox.retryMinSeconds);
    expect(await deliver()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(receiver.received).toHaveLength(2);
    expect((await endpoint.rows())[0]).toMatchObject({ status: 'delivered', attempts: 2, last_error: null });
  });

  it('gives up on a message after the maximum age, records and audits it, and delivers the next one', async () => {
    const receiver = await startReceiver({ kind: 'fail', status: 502 });
    const endpoint = await endpointAt(receiver.url);
    const subject = await endpoint.newSubject();
    const lost = await endpoint.queue(subject);
    expect((await deliver()).retrying).toBe(1);
    runtime.clock.advance(runtime.config.outbox.maxAgeSeconds - 60);
    expect((await deliver()).retrying).toBe(1);
    runtime.clock.advance(60);
    const next = await endpoint.queue(subject);
    expect(await deliver()).toMatchObject({ abandoned: 1 });
    const abandoned = (await endpoint.rows()).find((row) => row.id === lost);
    expect(abandoned).toMatchObject({ status: 'abandoned', attempts: 3, last_error: 'http 502' });
    expect(await auditEntries(outbox.abandonedAction, endpoint.auditSubject)).toEqual([{ outcome: 'failure', details: expect.objectContaining({ attempts: 3 }) }]);

    receiver.setMode({ kind: 'accept' });
    runtime.clock.advance(runtime.config.outbox.retryMaxSeconds);
    expect(await deliver()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(outbox.messageId(receiver.received.at(-1)!.claims)).toBe(next);
  });

  it('times out an endpoint that hangs without holding up other endpoints, and tries it once per round', async () => {
    const hanging = await startReceiver({ kind: 'hang' });
    const healthy = await startReceiver();
    const slow = await endpointAt(hanging.url);
    const fast = await endpointAt(healthy.url);
    for (let i = 0; i < 3; i++) {
      await slow.queue();
      await fast.queue();
    }

    const started = performance.now();
    const report = await deliver();
    const elapsed = performance.now() - started;
    expect(report).toMatchObject({ claimed: 6, delivered: 3, retrying: 1, deferred: 2 });
    expect(healthy.received).toHaveLength(3);
    // One time-out for the hanging endpoint, not one per message.
    expect(hanging.received).toHaveLength(1);
    expect(elapsed).toBeLessThan(TIMEOUT_MS * 3);
    const rows = await slow.rows();
    expect(rows.map((r) => [r.status, r.attempts, r.last_error]).sort().reverse()).toEqual([
      ['pending', 1, 'timeout'],
      ['pending', 0, null],
      ['pending', 0, null],
    ]);
    expect(rows.every((r) => r.next_attempt_at > runtime.clock.now())).toBe(true);
  });

  it('retries a 5xx, a refused connection, and a redirect (never followed)', async () => {
    const target = await startReceiver();
    const failing = await startReceiver({ kind: 'fail', status: 503 });
    const redirecting = await startReceiver({ kind: 'redirect', location: target.url });
    const endpoints = [await endpointAt(failing.url), await endpointAt(redirecting.url), await endpointAt(await refusedUrl())];
    for (const endpoint of endpoints) await endpoint.queue();
    expect(await deliver()).toMatchObject({ claimed: 3, retrying: 3 });
    const rows = await Promise.all(endpoints.map(async (endpoint) => (await endpoint.rows())[0]));
    expect(rows.map((row) => [row!.status, row!.last_error])).toEqual([
      ['pending', 'http 503'],
      ['pending', 'http 302 (redirects are not followed)'],
      ['pending', 'network error ECONNREFUSED'],
    ]);
    expect(target.received).toHaveLength(0);
  });

  it(usingPostgres ? 'never delivers a message twice when two instances deliver at once' : 'never delivers a message twice when two delivery rounds run at once', async () => {
    const receiver = await startReceiver();
    const endpoint = await endpointAt(receiver.url);
    for (let i = 0; i < 12; i++) {
      const subject = await endpoint.newSubject();
      await endpoint.queue(subject);
      await endpoint.queue(subject);
    }
    const other = usingPostgres ? await createTestRuntime({ databaseUrl: runtime.databaseUrl!, clock: runtime.clock, env }) : runtime;
    // First the worst case, made deterministic: the other instance runs a whole round while this one holds its claims mid-delivery.
    let interleaved: Promise<DeliveryReport> | undefined;
    const fetchWhileOtherDelivers = async (url: string, init: RequestInit) => {
      interleaved ??= outbox.deliver(other, { batchSize: 5 });
      await interleaved;
      // The wait for the other instance is not the endpoint's time: the request's own time-out starts now.
      return fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    };
    expect(await outbox.deliver(runtime, { batchSize: 5, fetchImpl: fetchWhileOtherDelivers })).toMatchObject({ claimed: 5, delivered: 5 });
    expect(await interleaved).toMatchObject({ claimed: 5, delivered: 5 });
    for (let round = 0; round < 20; round++) {
      const [a, b] = await Promise.all([outbox.deliver(runtime, { batchSize: 5 }), outbox.deliver(other, { batchSize: 5 })]);
      if (a.claimed + b.claimed === 0) break;
    }
    const rows = await endpoint.rows();
    expect(rows.every((row) => row.status === 'delivered' && row.attempts === 1)).toBe(true);
    expect(receiver.received).toHaveLength(24);
    expect(new Set(receiver.received.map((r) => outbox.messageId(r.claims))).size).toBe(24);
  });

  // Only SETs have a permanent refusal (RFC 8935 §2.4 `err`); a logout 400 (Back-Channel Logout §2.8) may be transient, so it is retried.
  if (outbox.refusal) it('does not retry a message its endpoint refuses for good, records and audits it, and moves on to the next', async () => {
    const refusal = outbox.refusal!;
    const receiver = await startReceiver(refusal.mode);
    const endpoint = await endpointAt(receiver.url);
    const subject = await endpoint.newSubject();
    const refused = await endpoint.queue(subject);
    await endpoint.queue(subject);
    expect(await deliver()).toMatchObject({ claimed: 1, rejected: 1 });
    const [row] = await endpoint.rows();
    expect(row).toMatchObject({ id: refused, status: 'rejected', attempts: 1, last_error: refusal.error });
    expect(await auditEntries(refusal.action, endpoint.auditSubject)).toEqual([{ outcome: 'failure', details: expect.objectContaining({ attempts: 1, error: refusal.error }) }]);

    receiver.setMode({ kind: 'accept' });
    expect(await deliver()).toMatchObject({ claimed: 1, delivered: 1 });
    runtime.clock.advance(2 * HOUR);
    expect((await deliver()).claimed).toBe(0);
    expect(receiver.received.map((r) => r.answered)).toEqual(['reject', 'accept']);
  });

  const endpointAt = (url: string) => outbox.endpoint(runtime, url);
});
