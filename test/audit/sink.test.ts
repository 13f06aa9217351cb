import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { archiveAuditLog } from '../../src/audit/archive.js';
import { appendAudit, auditLine, sealAuditLog } from '../../src/audit/audit.js';
import { exportAuditEntries, readAuditFilters } from '../../src/audit/search.js';
import { fileSink } from '../../src/audit-sink/file.js';
import { shipAuditBatch } from '../../src/audit-sink/ship.js';
import type { AuditSink } from '../../src/audit-sink/sink.js';
import { auditShippingStatus } from '../../src/audit-sink/status.js';
import { stdoutSink } from '../../src/audit-sink/stdout.js';
import { startAuditShipping } from '../../src/audit-sink/worker.js';
import { ManualClock } from '../../src/clock.js';
import type { AuditEntry } from '../../src/db/schema.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { capturingLogger } from '../support/capturing-logger.js';
import { cleanUpLater, createMigratedScratchDatabase, createTestRuntime, seedDataDirWithMigratedSnapshot, testConfig, usingPostgres } from '../support/runtime.js';

const batch = { batchSize: 500, timeoutMs: 5000 };
const scratchFolder = () => mkdtempSync(path.join(tmpdir(), 'warta-audit-sink-'));

async function appendSealed(runtime: Runtime, count: number, action = 'test.entry') {
  for (let n = 0; n < count; n += 1) await appendAudit(runtime.db, runtime, { actor: 'cli' }, { action, details: { n, padding: 'p'.repeat(300) } });
  while ((await sealAuditLog(runtime.db, runtime)) > 0);
}

/** What `warta audit export` writes for the whole instance, line by line. */
async function exportedLines(runtime: Runtime): Promise<string[]> {
  const exported = await exportAuditEntries(runtime, { actor: 'cli' }, 'instance', await readAuditFilters(runtime.db, 'instance', {}), { maxRows: Number.MAX_SAFE_INTEGER });
  const lines: string[] = [];
  for await (const entry of exported.entries) lines.push(auditLine(entry));
  return lines;
}

const linesOf = (text: string) => text.split('\n').filter(Boolean).map((line) => `${line}\n`);
const seqs = (lines: string[]) => lines.map((line) => JSON.parse(line).seq as number);

async function checkpointOf(runtime: Runtime, sink: string) {
  const row = await runtime.db.selectFrom('audit_sink_checkpoint').select('last_shipped_seq').where('sink', '=', sink).executeTakeFirst();
  return Number(row?.last_shipped_seq ?? 0);
}

async function drain(runtime: Runtime, sink: AuditSink, options = batch) {
  while ((await shipAuditBatch(runtime, sink, options)).shipped > 0);
}

/** A sink recording what it was given, each entry after a turn of the event loop (time for another worker to interleave). */
function recordingSink(name: string, into: AuditEntry[]): AuditSink {
  return {
    name,
    async write(entries) {
      for (const entry of entries) {
        await new Promise((resolve) => setImmediate(resolve));
        into.push(entry);
      }
    },
    async close() {},
  };
}

describe('the audit log shipped to stdout or a file', () => {
  it('writes on stdout exactly the lines `warta audit export` writes, sealed entries only, in order', async () => {
    const runtime = await createTestRuntime();
    await appendSealed(runtime, 4);
    await appendAudit(runtime.db, runtime, { actor: 'cli' }, { action: 'test.not_sealed_yet' });
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (chunk) => (written += chunk));

    await drain(runtime, stdoutSink(stream));
    const shipped = linesOf(written);
    const exported = (await exportedLines(runtime)).filter((line) => JSON.parse(line).seq !== null);
    expect(shipped).toEqual(exported);
    expect(shipped.some((line) => line.includes('test.not_sealed_yet'))).toBe(false);
    expect(seqs(shipped)).toEqual(seqs(shipped).map((_, n) => n + 1));
  });

  it('appends the export lines to a file (mode 0600), and rotates it before it would pass the size limit, keeping the newest files', async () => {
    const runtime = await createTestRuntime();
    const file = path.join(scratchFolder(), 'audit.jsonl');
    await appendSealed(runtime, 2);
    await drain(runtime, fileSink({ kind: 'file', path: file, maxBytes: 100_000, keep: 2 }));
    const exported = await exportedLines(runtime);
    expect(readFileSync(file, 'utf8')).toBe(exported.filter((line) => JSON.parse(line).seq !== null).join(''));
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const maxBytes = 2 * Buffer.byteLength(exported[0]!) + 200;
    const rotating = fileSink({ kind: 'file', path: file, maxBytes, keep: 2 });
    await appendSealed(runtime, 9);
    await drain(runtime, rotating, { batchSize: 4, timeoutMs: 5000 });
    expect(readdirSync(path.dirname(file)).sort()).toEqual(['audit.jsonl', 'audit.jsonl.1', 'audit.jsonl.2']);
    const files = [`${file}.2`, `${file}.1`, file].map((name) => readFileSync(name, 'utf8'));
    for (const text of files) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes);
    const kept = seqs(linesOf(files.join('')));
    const head = await checkpointOf(runtime, rotating.name);
    // The newest entries, contiguous up to the last one shipped; older files were rotated out.
    expect(kept.at(-1)).toBe(head);
    expect(kept).toEqual(kept.map((_, n) => head - kept.length + 1 + n));
  });

  it('resumes after a restart from the checkpoint in the database: no entry twice, none skipped', async () => {
    const env = usingPostgres ? await postgresDatabase() : await pgliteFolder();
    const clock = new ManualClock(new Date());
    const file = path.join(scratchFolder(), 'audit.jsonl');
    const target = { kind: 'file' as const, path: file, maxBytes: 10_000_000, keep: 2 };

    const first = await openRuntime(testConfig(env), { clock });
    await appendSealed(first, 3);
    await drain(first, fileSink(target));
    await appendSealed(first, 2, 'test.after_last_ship');
    await first.close();

    const second = await openRuntime(testConfig(env), { clock });
    cleanUpLater(() => second.close());
    await appendSealed(second, 2, 'test.after_restart');
    await drain(second, fileSink(target));
    const shipped = linesOf(readFileSync(file, 'utf8'));
    const sealed = (await exportedLines(second)).filter((line) => JSON.parse(line).seq !== null);
    expect(shipped).toEqual(sealed);
    expect(seqs(shipped)).toEqual(seqs(shipped).map((_, n) => n + 1));
  });

  it('leaves the checkpoint where it was when the sink fails, and ships the same entries next time', async () => {
    const runtime = await createTestRuntime();
    await appendSealed(runtime, 3);
    const failing: AuditSink = { name: 'stdout', write: () => Promise.reject(new Error('EPIPE')), close: async () => {} };
    await expect(shipAuditBatch(runtime, failing, batch)).rejects.toThrow('EPIPE');
    expect(await checkpointOf(runtime, 'stdout')).toBe(0);

    const received: AuditEntry[] = [];
    await drain(runtime, recordingSink('stdout', received));
    expect(received.map((entry) => entry.seq)).toEqual(received.map((_, n) => n + 1));
    expect(received.length).toBeGreaterThanOrEqual(3);
  });

  it('ships each entry once, in order, when two workers ship to the same sink at once', async () => {
    // On PostgreSQL each worker has its own connection and only the checkpoint row's lock keeps them apart; the embedded database's one connection also serialises them.
    const runtime = await createTestRuntime();
    await appendSealed(runtime, 12);
    const head = Number((await runtime.db.selectFrom('audit_log').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirstOrThrow()).seq);
    const received: AuditEntry[] = [];
    const workers = [recordingSink('shared', received), recordingSink('shared', received)];
    const small = { batchSize: 3, timeoutMs: 5000 };
    while ((await checkpointOf(runtime, 'shared')) < head) await Promise.all(workers.map((sink) => shipAuditBatch(runtime, sink, small)));
    expect(received.map((entry) => entry.seq)).toEqual(Array.from({ length: head }, (_, n) => n + 1));
  });

  it('reports how far shipping is behind: the last shipped entry, the backlog and its age', async () => {
    const clock = new ManualClock(new Date('2026-11-23T09:00:00Z'));
    const file = path.join(scratchFolder(), 'audit.jsonl');
    const runtime = await createTestRuntime({ clock, env: { WARTA_AUDIT_SINK: `file:${file}` } });
    const sink = fileSink({ kind: 'file', path: file, maxBytes: 10_000_000, keep: 2 });
    await appendSealed(runtime, 0);
    await drain(runtime, sink);
    const start = await auditShippingStatus(runtime);
    expect(start).toEqual({ sink: `file:${file}`, lastShippedId: expect.any(Number), lastShippedSeq: expect.any(Number), backlog: 0, oldestUnshippedAgeSeconds: 0 });

    await appendSealed(runtime, 2);
    clock.advance(90);
    await appendAudit(runtime.db, runtime, { actor: 'cli' }, { action: 'test.not_sealed_yet' });
    expect(await auditShippingStatus(runtime)).toMatchObject({ lastShippedId: start!.lastShippedId, backlog: 3, oldestUnshippedAgeSeconds: 90 });

    await drain(runtime, sink);
    const last = await runtime.db.selectFrom('audit_log').select(['id', 'seq']).where('action', '=', 'test.entry').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(await auditShippingStatus(runtime)).toEqual({ sink: `file:${file}`, lastShippedId: Number(last.id), lastShippedSeq: Number(last.seq), backlog: 1, oldestUnshippedAgeSeconds: 0 });
    expect(await auditShippingStatus(await createTestRuntime())).toBeUndefined();
  });

  it('keeps `warta audit archive` from deleting entries the sink has not taken yet', async () => {
    const folder = scratchFolder();
    const file = path.join(folder, 'audit.jsonl');
    const runtime = await createTestRuntime({ env: { WARTA_AUDIT_SINK: `file:${file}` } });
    await appendSealed(runtime, 3);
    runtime.clock.advance(60);
    const archive = { before: runtime.clock.now(), file: path.join(folder, 'archive-1.jsonl') };
    await expect(archiveAuditLog(runtime, { actor: 'cli' }, archive)).rejects.toMatchObject({ status: 409, code: 'audit_entries_unshipped' });
    expect(await runtime.db.selectFrom('audit_archives').selectAll().execute()).toEqual([]);

    await drain(runtime, fileSink({ kind: 'file', path: file, maxBytes: 10_000_000, keep: 2 }));
    await expect(archiveAuditLog(runtime, { actor: 'cli' }, { ...archive, file: path.join(folder, 'archive-2.jsonl') })).resolves.toMatchObject({ entries: expect.any(Number) });
  });

  it('keeps retrying a failing sink in the background with a warning, then ships the backlog once it works', async () => {
    const { log, lines } = capturingLogger();
    const runtime = await createTestRuntime({ env: { WARTA_AUDIT_SINK: 'stdout', WARTA_AUDIT_SINK_INTERVAL_MS: '50' } });
    await appendSealed(runtime, 3);
    let up = false;
    const received: AuditEntry[] = [];
    const recording = recordingSink('stdout', received);
    const sink: AuditSink = { ...recording, write: (entries) => (up ? recording.write(entries) : Promise.reject(new Error('connect ECONNREFUSED 192.0.2.9:6514'))) };
    const job = startAuditShipping({ ...runtime, log }, { sink })!;
    cleanUpLater(() => job.stop());

    const warning = await vi.waitFor(() => {
      const line = lines.find((l) => l.msg.startsWith('the audit sink failed'));
      expect(line).toBeDefined();
      return line!;
    });
    expect(warning).toMatchObject({ level: 40, sink: 'stdout', err: 'connect ECONNREFUSED 192.0.2.9:6514', retryInSeconds: 1 });
    up = true;
    runtime.clock.advance(2);
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(3));
    expect(received.map((entry) => entry.seq)).toEqual(received.map((_, n) => n + 1));
  });
});

async function postgresDatabase(): Promise<Record<string, string>> {
  const scratch = await createMigratedScratchDatabase();
  cleanUpLater(scratch.drop);
  return { DATABASE_URL: scratch.url };
}

async function pgliteFolder(): Promise<Record<string, string>> {
  const dataDir = path.join(scratchFolder(), 'data');
  await seedDataDirWithMigratedSnapshot(dataDir);
  return { WARTA_DATA_DIR: dataDir };
}
