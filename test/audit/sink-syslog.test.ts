import { describe, expect, it, vi } from 'vitest';
import { appendAudit, auditLine, sealAuditLog } from '../../src/audit/audit.js';
import { shipAuditBatch } from '../../src/audit-sink/ship.js';
import { syslogSink } from '../../src/audit-sink/syslog.js';
import type { AuditSinkTarget } from '../../src/config.js';
import { parseOutboundAllowList } from '../../src/outbound/allow-list.js';
import type { HostResolver } from '../../src/outbound/destination.js';
import { createTestRuntime, type TestRuntime } from '../support/runtime.js';
import { createTestRootCa, type Collector, freePort, issueServerCertificate, parseOctetCountedFrames, parseRfc5424, startCollector } from '../support/syslog-collector.js';

type SyslogTarget = Extract<AuditSinkTarget, { kind: 'syslog' }>;

const localhostOnly: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
const allow = parseOutboundAllowList('collector.test,127.0.0.0/8');
const batch = { batchSize: 500, timeoutMs: 5000 };

function sinkTo(target: Omit<SyslogTarget, 'kind'>, options: { allowList?: typeof allow; timeoutMs?: number } = {}) {
  return syslogSink({ kind: 'syslog', ...target }, { allow: options.allowList ?? allow, resolve: localhostOnly, timeoutMs: options.timeoutMs ?? 5000, hostname: 'warta-test-1' });
}

async function appendSealed(runtime: TestRuntime, actions: string[], outcome: 'success' | 'failure' = 'success') {
  for (const action of actions) await appendAudit(runtime.db, runtime, { actor: 'cli', ip: '192.0.2.1' }, { action, outcome, details: { note: 'zażółć "gęślą"\njaźń' } });
  while ((await sealAuditLog(runtime.db, runtime)) > 0);
}

async function sealedLines(runtime: TestRuntime) {
  return (await runtime.db.selectFrom('audit_log').selectAll().where('seq', 'is not', null).orderBy('seq').execute()).map((row) => JSON.parse(auditLine(row)));
}

async function checkpointOf(runtime: TestRuntime, sink: string) {
  const row = await runtime.db.selectFrom('audit_sink_checkpoint').select('last_shipped_seq').where('sink', '=', sink).executeTakeFirst();
  return Number(row?.last_shipped_seq ?? 0);
}

async function framesArrived(collector: Collector, count: number) {
  return vi.waitFor(() => {
    const frames = parseOctetCountedFrames(collector.received());
    expect(frames).toHaveLength(count);
    return frames.map(parseRfc5424);
  });
}

describe('the audit log shipped to a syslog collector', () => {
  it('sends each sealed entry as an octet-counted RFC 5424 message whose MSG is the export line, in chain order', async () => {
    const runtime = await createTestRuntime();
    const collector = await startCollector();
    const sink = sinkTo({ transport: 'tcp', host: '127.0.0.1', port: collector.port, ca: undefined });
    await appendSealed(runtime, ['test.first', 'throttle.request_limit_reached.aggregated']);
    await appendSealed(runtime, ['signin.failed'], 'failure');
    const expected = await sealedLines(runtime);

    expect((await shipAuditBatch(runtime, sink, batch)).shipped).toBe(expected.length);
    const messages = await framesArrived(collector, expected.length);
    expect(messages.map((m) => JSON.parse(m.msg))).toEqual(expected);
    expect(messages.map((m) => m.msg).join('')).toMatch(/^[\x20-\x7e]*$/);
    for (const [n, message] of messages.entries()) {
      const entry = expected[n];
      expect(message).toMatchObject({ facility: 10, appName: 'warta', hostname: 'warta-test-1', procId: '-', structuredData: '-', timestamp: entry.at });
      expect(message.severity).toBe(entry.outcome === 'failure' ? 4 : 5);
      expect(message.msgId).toBe(entry.action.slice(0, 32));
    }
    await sink.close();
  });

  it('verifies a TLS collector against the configured CA and the configured host name', async () => {
    const runtime = await createTestRuntime();
    const ca = await createTestRootCa({ subject: 'CN=Warta Test SIEM CA' });
    const collector = await startCollector({ tls: await issueServerCertificate(ca, { dns: ['collector.test'] }) });
    const sink = sinkTo({ transport: 'tls', host: 'collector.test', port: collector.port, ca: ca.certPem });
    await appendSealed(runtime, ['test.one', 'test.two']);
    const expected = await sealedLines(runtime);

    await shipAuditBatch(runtime, sink, batch);
    const messages = await framesArrived(collector, expected.length);
    expect(messages.map((m) => JSON.parse(m.msg))).toEqual(expected);
    await sink.close();
  });

  it('refuses a TLS collector whose certificate is from another CA: nothing shipped, checkpoint not moved', async () => {
    const runtime = await createTestRuntime();
    const trusted = await createTestRootCa({ subject: 'CN=Warta Test SIEM CA' });
    const other = await createTestRootCa({ subject: 'CN=Someone Else CA' });
    const collector = await startCollector({ tls: await issueServerCertificate(other, { dns: ['collector.test'] }) });
    const sink = sinkTo({ transport: 'tls', host: 'collector.test', port: collector.port, ca: trusted.certPem });
    await appendSealed(runtime, ['test.one']);

    await expect(shipAuditBatch(runtime, sink, batch)).rejects.toThrow(/certificate/i);
    expect(collector.received()).toHaveLength(0);
    expect(await checkpointOf(runtime, sink.name)).toBe(0);
  });

  it('refuses a TLS collector whose certificate, from the right CA, names another host', async () => {
    const runtime = await createTestRuntime();
    const ca = await createTestRootCa({ subject: 'CN=Warta Test SIEM CA' });
    const collector = await startCollector({ tls: await issueServerCertificate(ca, { dns: ['elsewhere.test'] }) });
    const sink = sinkTo({ transport: 'tls', host: 'collector.test', port: collector.port, ca: ca.certPem });
    await appendSealed(runtime, ['test.one']);

    await expect(shipAuditBatch(runtime, sink, batch)).rejects.toThrow(/collector\.test|altnames/i);
    expect(collector.received()).toHaveLength(0);
    expect(await checkpointOf(runtime, sink.name)).toBe(0);
  });

  it('connects to no collector the outbound allow-list no longer lists', async () => {
    const runtime = await createTestRuntime();
    const collector = await startCollector();
    const sink = sinkTo({ transport: 'tcp', host: '127.0.0.1', port: collector.port, ca: undefined }, { allowList: parseOutboundAllowList('none') });
    await appendSealed(runtime, ['test.one']);

    await expect(shipAuditBatch(runtime, sink, batch)).rejects.toThrow(/allow-list/);
    expect(collector.connections).toBe(0);
    expect(await checkpointOf(runtime, sink.name)).toBe(0);
  });

  it('waits for a collector slow to answer without holding the database (the embedded one has a single connection)', async () => {
    const runtime = await createTestRuntime();
    const silent = await startCollector();
    // A TCP listener that never answers the TLS handshake.
    const sink = sinkTo({ transport: 'tls', host: 'collector.test', port: silent.port, ca: undefined }, { timeoutMs: 3000 });
    await appendSealed(runtime, ['test.one']);

    let shipping = true;
    const shipped = shipAuditBatch(runtime, sink, { batchSize: 500, timeoutMs: 3000 }).finally(() => (shipping = false));
    await vi.waitFor(() => expect(silent.connections).toBe(1));
    await runtime.db.selectFrom('audit_log').select('id').limit(1).execute();
    expect(shipping).toBe(true);
    await expect(shipped).rejects.toThrow(/3000 ms/);
    expect(await checkpointOf(runtime, sink.name)).toBe(0);
  });

  it('loses nothing while the collector is down: entries wait, then all arrive in order, once it is back', async () => {
    const runtime = await createTestRuntime();
    const port = await freePort();
    const sink = sinkTo({ transport: 'tcp', host: '127.0.0.1', port, ca: undefined });
    await appendSealed(runtime, ['test.before_outage']);
    await expect(shipAuditBatch(runtime, sink, batch)).rejects.toThrow(/ECONNREFUSED/);
    await appendSealed(runtime, ['test.during_outage.1', 'test.during_outage.2']);
    await expect(shipAuditBatch(runtime, sink, batch)).rejects.toThrow(/ECONNREFUSED/);
    expect(await checkpointOf(runtime, sink.name)).toBe(0);

    const collector = await startCollector({ port });
    const expected = await sealedLines(runtime);
    expect((await shipAuditBatch(runtime, sink, batch)).shipped).toBe(expected.length);
    const messages = await framesArrived(collector, expected.length);
    expect(messages.map((m) => JSON.parse(m.msg))).toEqual(expected);
    expect(await checkpointOf(runtime, sink.name)).toBe(expected.at(-1).seq);
    await sink.close();
  });
});
