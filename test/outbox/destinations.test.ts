/**
 * Every outbox delivers only where WARTA_OUTBOUND_ALLOW admits, checked when it
 * connects: the host again (the list may have changed), every address a name
 * resolves to, and the connection made to the checked address itself. Names
 * are resolved by the test's own resolver, never by real DNS; the only
 * addresses connected to are on loopback (127.0.0.0/8).
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverPendingEvents } from '../../src/events/deliver.js';
import { raiseSecurityEvent } from '../../src/events/raise.js';
import { createLogger } from '../../src/log.js';
import { parseOutboundAllowList } from '../../src/outbound/allow-list.js';
import type { HostResolver, ResolvedAddress } from '../../src/outbound/destination.js';
import type { FetchLike } from '../../src/outbox/post.js';
import { refusedUrl, startReceiver } from '../support/receiver-server.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';
import { OUTBOXES } from './outboxes.js';

const runtime = await createTestRuntime({ env: { WARTA_OUTBOUND_ALLOW: 'localhost,127.0.0.1,127.0.0.2,siem.example.gov', WARTA_SET_TIMEOUT_MS: '1000', WARTA_BACKCHANNEL_LOGOUT_TIMEOUT_MS: '1000' } });

afterEach(async () => {
  await runtime.db.deleteFrom('set_outbox').execute();
  await runtime.db.deleteFrom('backchannel_logouts').execute();
});

/** Answers `answers` in turn (the last one from then on), and counts the questions. */
function resolverAnswering(...answers: string[][]): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    const answer = answers[Math.min(asked.length, answers.length - 1)]!;
    asked.push(hostname);
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

/** Stands in for the network where a test must not connect: counts what would have been sent. */
function noConnection(): FetchLike & { attempts: string[] } {
  const attempts: string[] = [];
  const fetchImpl: FetchLike = async (url, _init, pinned) => {
    attempts.push(`${url} at ${pinned.address}`);
    throw new Error('this test must not connect');
  };
  return Object.assign(fetchImpl, { attempts });
}

describe.each(OUTBOXES)('$name go only where the outbound allow-list admits', (outbox) => {
  it('delivers to a listed loopback address', async () => {
    const receiver = await startReceiver();
    const endpoint = await outbox.endpoint(runtime, receiver.url);
    await endpoint.queue();
    expect(await outbox.deliver(runtime)).toMatchObject({ delivered: 1 });
    expect(receiver.received).toHaveLength(1);
  });

  it('connects to the address it checked, not to whatever the name resolves to by the time it connects', async () => {
    // The checked answer (127.0.0.2) is where the receiver listens; a decoy waits at the address the system resolver gives for localhost.
    const receiver = await startReceiver({ kind: 'accept', status: 200 }, { host: '127.0.0.2' });
    const decoy = await startReceiver({ kind: 'accept', status: 200 }, { host: '127.0.0.1', port: receiver.port });
    const endpoint = await outbox.endpoint(runtime, `http://localhost:${receiver.port}/events`);
    await endpoint.queue();
    const resolveHost = resolverAnswering(['127.0.0.2'], ['127.0.0.1']);
    expect(await outbox.deliver(runtime, { resolveHost })).toMatchObject({ delivered: 1 });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers.host).toBe(`localhost:${receiver.port}`);
    expect(decoy.received).toHaveLength(0);
    // One resolution per attempt: nothing asked DNS again between the check and the connection.
    expect(resolveHost.asked).toEqual(['localhost']);
  });

  it.each([
    [['10.0.0.1'], 'a private address'],
    [['169.254.169.254'], 'the cloud metadata service'],
    [['127.0.0.3'], 'a loopback address that is not listed'],
    [['127.0.0.2', '10.0.0.1'], 'one listed address and one that is not'],
    [['::ffff:10.0.0.1'], 'a private address as IPv4-mapped IPv6'],
  ])('refuses, without connecting, a listed name that resolves to %j (%s)', async (answer) => {
    const endpoint = await outbox.endpoint(runtime, 'https://siem.example.gov/events');
    await endpoint.queue();
    const fetchImpl = noConnection();
    expect(await outbox.deliver(runtime, { resolveHost: resolverAnswering(answer), fetchImpl })).toMatchObject({ retrying: 1, delivered: 0 });
    expect(fetchImpl.attempts).toEqual([]);
    const [row] = await endpoint.rows();
    expect(row).toMatchObject({ status: 'pending', last_error: expect.stringMatching(/^destination not allowed: siem\.example\.gov resolves to .*outside the outbound allow-list$/) });
  });

  it('checks the host again at delivery: a destination taken off the list since it was registered gets nothing', async () => {
    const receiver = await startReceiver();
    const endpoint = await outbox.endpoint(runtime, receiver.url);
    await endpoint.queue();
    const narrowed = { ...runtime, config: { ...runtime.config, outbound: { allow: parseOutboundAllowList('siem.example.gov') } } };
    expect(await outbox.deliver(narrowed)).toMatchObject({ retrying: 1 });
    expect(receiver.received).toHaveLength(0);
    expect((await endpoint.rows())[0]).toMatchObject({ last_error: 'destination not allowed: its address is not in a network on the outbound allow-list' });
  });
});

describe('what an admin sees of a failed delivery', () => {
  const { request } = testClient(runtime);

  it('is only that it failed; which error came back (a refused port, a status, an address) goes to the operator log', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const created = await request('/api/admin/event-receivers', { method: 'POST', cookie, json: { url: await refusedUrl(), audience: 'siem' } });
    expect(created.status).toBe(201);
    await runtime.db.transaction().execute((trx) =>
      raiseSecurityEvent(trx, runtime.clock, { type: 'device_linked', userId: admin.id, organisationId: admin.organisation_id, details: { deviceId: randomUUID(), deviceName: 'Pixel 8' } }),
    );

    const lines: string[] = [];
    const log = createLogger('warn', new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
    expect(await deliverPendingEvents({ ...runtime, log })).toMatchObject({ retrying: 1 });
    const operatorLog = lines.join('');
    expect(operatorLog).toContain('network error ECONNREFUSED');
    expect(operatorLog).toContain('"address":"127.0.0.1"');

    const text = await (await request('/api/admin/event-receivers', { cookie })).text();
    expect(text).not.toMatch(/ECONNREFUSED|network error/);
    expect(JSON.parse(text).receivers[0].health).toMatchObject({ consecutive_failures: 1, last_error: 'delivery_failed' });
  });

  it('never shows a stored reason, even one an older version wrote', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const created = (await (await request('/api/admin/event-receivers', { method: 'POST', cookie, json: { url: 'http://127.0.0.1:5432/', audience: 'siem' } })).json()) as { id: string };
    await runtime.db.updateTable('event_receivers').set({ last_error: 'network error ECONNREFUSED', consecutive_failures: 1 }).where('id', '=', created.id).execute();
    const text = await (await request('/api/admin/event-receivers', { cookie })).text();
    expect(text).not.toContain('ECONNREFUSED');
    expect(JSON.parse(text).receivers[0].health.last_error).toBe('delivery_failed');
  });
});
