import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, sealAuditLog } from '../../src/audit/audit.js';
import { archiveAuditCommand, verifyAuditCommand } from '../../src/cli/commands/audit.js';
import type { Runtime } from '../../src/runtime.js';
import { createTestRuntime, type TestRuntime } from '../support/runtime.js';

const folder = await mkdtemp(path.join(tmpdir(), 'warta-audit-archive-'));
afterAll(() => rm(folder, { recursive: true, force: true }));
let files = 0;
const newFile = () => path.join(folder, `archive-${++files}.jsonl`);

/** A log of its own per test (archiving and tampering change what every later verification sees), with the CLI's io. */
async function logWithHistory() {
  const log = await createTestRuntime();
  const cli = { runtime: async () => log as Runtime, write: () => {} };
  for (const action of ['old.one', 'old.two', 'old.three']) await appendAudit(log.db, log, { actor: 'test' }, { action });
  await sealAll(log);
  log.clock.advance(86_400);
  const cut = log.clock.now();
  for (const action of ['new.one', 'new.two']) await appendAudit(log.db, log, { actor: 'test' }, { action });
  await sealAll(log);
  return { log, cli, cut };
}

async function sealAll(log: TestRuntime) {
  while ((await sealAuditLog(log.db, log)) > 0);
}
const actions = async (log: TestRuntime) => (await log.db.selectFrom('audit_log').select('action').orderBy('id').execute()).map((row) => row.action);

describe('warta audit archive', () => {
  it('moves the sealed entries before the date to a file, deletes them, and the rest still verifies from the archived head', async () => {
    const { log, cli, cut } = await logWithHistory();
    const archived = (await log.db.selectFrom('audit_log').select(['seq', 'hash']).where('at', '<', cut).orderBy('seq').execute()).map((row) => ({ seq: Number(row.seq), hash: row.hash }));
    const file = newFile();

    const result = await archiveAuditCommand.run({ before: cut.toISOString(), out: file }, cli);
    expect(result).toMatchObject({ entries: archived.length, after_seq: 0, through_seq: archived.at(-1)!.seq, head_hash: archived.at(-1)!.hash });
    expect(await actions(log)).toEqual(['new.one', 'new.two', 'audit.archived']);

    // The file: a header naming the cut, then the entries as `audit export` writes them.
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ format: 'warta-audit-archive/1', after_seq: 0, through_seq: result.through_seq, head_hash: result.head_hash, entries: archived.length });
    expect(lines.slice(1).map((entry) => entry.seq)).toEqual(archived.map((row) => row.seq));
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    // Archiving is audited with the count, the cut and the file's hash.
    const [entry] = await log.db.selectFrom('audit_log').selectAll().where('action', '=', 'audit.archived').execute();
    expect(entry).toMatchObject({ actor: 'cli', details: { entries: archived.length, through_seq: result.through_seq, head_hash: result.head_hash, file_sha256: result.file_sha256 } });

    await sealAll(log);
    const verified = await verifyAuditCommand.run({}, cli);
    expect(verified).toMatchObject({ ok: true, sealed: 3, archivedThrough: result.through_seq, unsealed: 0 });
    expect(verifyAuditCommand.exitCode!(verified)).toBe(0);
    expect(await verifyAuditCommand.run({ archive: file }, cli)).toMatchObject({ ok: true, entries: archived.length, through_seq: result.through_seq });
  });

  it('still detects an edited entry among those that remain', async () => {
    const { log, cli, cut } = await logWithHistory();
    await archiveAuditCommand.run({ before: cut.toISOString(), out: newFile() }, cli);
    await log.db.updateTable('audit_log').set({ outcome: 'failure' }).where('action', '=', 'new.two').execute();
    const verified = await verifyAuditCommand.run({ seal: true }, cli);
    expect(verified).toMatchObject({ ok: false, brokenAt: { reason: expect.stringMatching(/edited/) } });
    expect(verifyAuditCommand.exitCode!(verified)).toBe(1);
  });

  it('detects an anchor moved without the master key (entries deleted and the start moved to hide it)', async () => {
    const { log, cli, cut } = await logWithHistory();
    await archiveAuditCommand.run({ before: cut.toISOString(), out: newFile() }, cli);
    const newOne = await log.db.selectFrom('audit_log').select(['seq', 'hash']).where('action', '=', 'new.one').executeTakeFirstOrThrow();
    await log.db.deleteFrom('audit_log').where('action', '=', 'new.one').execute();
    await log.db.updateTable('audit_archives').set({ through_seq: newOne.seq!, head_hash: newOne.hash! }).execute();
    expect(await verifyAuditCommand.run({ seal: true }, cli)).toMatchObject({ ok: false, brokenAt: { reason: expect.stringMatching(/anchor .* MAC/) } });
  });

  it('verifies the archive file against the anchor, and detects an edited or swapped file', async () => {
    const { log, cli, cut } = await logWithHistory();
    const file = newFile();
    await archiveAuditCommand.run({ before: cut.toISOString(), out: file }, cli);
    const original = await readFile(file, 'utf8');

    await writeFile(file, original.replace('"old.two"', '"old.2"'));
    expect(await verifyAuditCommand.run({ archive: file }, cli)).toMatchObject({ ok: false, problem: expect.stringMatching(/edited/) });

    // Dropping the last entry and naming the one before as the head breaks the link to the anchor.
    const lines = original.trim().split('\n');
    const header = JSON.parse(lines[0]!);
    const shortened = [JSON.stringify({ ...header, through_seq: header.through_seq - 1, head_hash: JSON.parse(lines.at(-2)!).hash, entries: header.entries - 1 }), ...lines.slice(1, -1)];
    await writeFile(file, `${shortened.join('\n')}\n`);
    expect(await verifyAuditCommand.run({ archive: file }, cli)).toMatchObject({ ok: false, problem: expect.stringMatching(/no archive anchor/) });

    await writeFile(file, original);
    expect((await verifyAuditCommand.run({ archive: file }, cli)).ok).toBe(true);
  });

  it('refuses while an entry before the date is not sealed, deleting nothing and writing no file', async () => {
    const { log, cli } = await logWithHistory();
    await appendAudit(log.db, log, { actor: 'test' }, { action: 'not.sealed.yet' });
    const before = await actions(log);
    const file = newFile();
    log.clock.advance(60);
    await expect(archiveAuditCommand.run({ before: new Date(log.clock.now().getTime() + 86_400_000).toISOString(), out: file }, cli)).rejects.toMatchObject({ code: 'audit_entries_unsealed' });
    expect(await actions(log)).toEqual(before);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await log.db.selectFrom('audit_archives').selectAll().execute()).toEqual([]);
  });

  it('refuses to archive a broken chain, and never overwrites a file', async () => {
    const { log, cli, cut } = await logWithHistory();
    const file = newFile();
    await writeFile(file, 'keep me');
    await expect(archiveAuditCommand.run({ before: cut.toISOString(), out: file }, cli)).rejects.toMatchObject({ code: 'archive_file_unwritable' });
    expect(await readFile(file, 'utf8')).toBe('keep me');
    await log.db.updateTable('audit_log').set({ actor: 'someone else' }).where('action', '=', 'old.two').execute();
    await expect(archiveAuditCommand.run({ before: cut.toISOString(), out: newFile() }, cli)).rejects.toMatchObject({ code: 'audit_chain_broken' });
  });

  it('archives everything sealed, then a second time: the chain continues from the last archive, and each file verifies', async () => {
    const { log, cli } = await logWithHistory();
    log.clock.advance(60);
    const first = newFile();
    const everything = await archiveAuditCommand.run({ before: log.clock.now().toISOString(), out: first }, cli);
    expect(await log.db.selectFrom('audit_log').select('id').where('seq', 'is not', null).execute()).toEqual([]);
    // The sealer continues from the archive's head, not from the genesis.
    await appendAudit(log.db, log, { actor: 'test' }, { action: 'later.one' });
    await sealAll(log);
    expect(await log.db.selectFrom('audit_log').select('seq').where('action', '=', 'later.one').executeTakeFirstOrThrow()).toEqual({ seq: everything.through_seq + 2 });
    expect(await verifyAuditCommand.run({}, cli)).toMatchObject({ ok: true, sealed: 2 });

    log.clock.advance(60);
    const second = newFile();
    const again = await archiveAuditCommand.run({ before: log.clock.now().toISOString(), out: second }, cli);
    expect(again).toMatchObject({ after_seq: everything.through_seq, entries: 2 });
    await sealAll(log);
    expect(await verifyAuditCommand.run({}, cli)).toMatchObject({ ok: true, archivedThrough: again.through_seq });
    expect((await verifyAuditCommand.run({ archive: first }, cli)).ok).toBe(true);
    expect((await verifyAuditCommand.run({ archive: second }, cli)).ok).toBe(true);
    await expect(archiveAuditCommand.run({ before: log.clock.now().toISOString(), out: newFile() }, cli)).rejects.toMatchObject({ code: 'nothing_to_archive' });
  });
});
