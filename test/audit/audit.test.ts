import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { adoptEntriesWithoutMac, appendAudit, appendAuditWhen, exportAudit, sealAuditLog, verifyAuditChain } from '../../src/audit/audit.js';
import { createTestRuntime } from '../support/runtime.js';

// One log for the tests that append and verify; a test that tampers with the log
// gets its own, since the chain it breaks would fail every later verification.
const runtime = await createTestRuntime();

describe('audit log', () => {
  it('records who, what, when, outcome, IP and user agent, sealed into a verifiable chain', async () => {
    await appendAudit(runtime.db, runtime, { actor: 'user:1', ip: '10.0.0.1', userAgent: 'Firefox' }, { action: 'signin.failed', subject: 'user:1', outcome: 'failure', details: { b: 1, a: [1, 2] } });
    const before = await verifyAuditChain(runtime.db, runtime);
    expect(before.unsealed).toBeGreaterThan(0);
    await sealAuditLog(runtime.db, runtime);
    const result = await verifyAuditChain(runtime.db, runtime);
    expect(result).toMatchObject({ ok: true, unsealed: 0 });
    expect(result.sealed).toBeGreaterThanOrEqual(2);
    const entry = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'signin.failed').executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ actor: 'user:1', subject: 'user:1', outcome: 'failure', ip: '10.0.0.1', user_agent: 'Firefox', details: { a: [1, 2], b: 1 } });
    expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes the entry in the caller transaction: a rolled-back change leaves no entry', async () => {
    await expect(
      runtime.db.transaction().execute(async (trx) => {
        await appendAudit(trx, runtime, { actor: 'test' }, { action: 'doomed.change' });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'doomed.change').execute()).toEqual([]);
  });

  it('appends an entry as a step of a larger statement only when its source returned a row, sealed like any other', async () => {
    const statement = (matches: boolean) => sql`
      with source as (select 1 where ${matches}),
      audit as (${appendAuditWhen('source', runtime, { actor: 'user:2', ip: '10.0.0.2' }, { action: 'conditional.change', subject: 'user:2', details: { matched: matches, list: [2, 1] } })})
      select count(*) from source`;
    await statement(false).execute(runtime.db);
    await statement(true).execute(runtime.db);
    const rows = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'conditional.change').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'user:2', ip: '10.0.0.2', subject: 'user:2', outcome: 'success', details: { matched: true, list: [2, 1] } });
    await sealAuditLog(runtime.db, runtime);
    expect(await verifyAuditChain(runtime.db, runtime)).toMatchObject({ ok: true, unsealed: 0 });
    const sealed = await runtime.db.selectFrom('audit_log').select(['hash', 'seal_refused']).where('id', '=', rows[0]!.id).executeTakeFirstOrThrow();
    expect(sealed).toMatchObject({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), seal_refused: null });
  });

  it('detects an edited row and names it', async () => {
    const ownLog = await createTestRuntime();
    for (const action of ['a.one', 'a.two', 'a.three']) await appendAudit(ownLog.db, ownLog, { actor: 'test' }, { action });
    await sealAuditLog(ownLog.db, ownLog);
    const target = await ownLog.db.selectFrom('audit_log').select(['id', 'seq']).where('action', '=', 'a.two').executeTakeFirstOrThrow();
    await ownLog.db.updateTable('audit_log').set({ outcome: 'failure' }).where('id', '=', target.id).execute();
    const result = await verifyAuditChain(ownLog.db, ownLog);
    expect(result.ok).toBe(false);
    expect(result.brokenAt).toMatchObject({ seq: Number(target.seq), id: Number(target.id), reason: expect.stringMatching(/edited/) });
  });

  it('detects a deleted row', async () => {
    const ownLog = await createTestRuntime();
    for (const action of ['b.one', 'b.two', 'b.three']) await appendAudit(ownLog.db, ownLog, { actor: 'test' }, { action });
    await sealAuditLog(ownLog.db, ownLog);
    const target = await ownLog.db.selectFrom('audit_log').select(['id', 'seq']).where('action', '=', 'b.two').executeTakeFirstOrThrow();
    await ownLog.db.deleteFrom('audit_log').where('id', '=', target.id).execute();
    const result = await verifyAuditChain(ownLog.db, ownLog);
    expect(result).toMatchObject({ ok: false, brokenAt: { seq: Number(target.seq), reason: expect.stringMatching(/missing/) } });
  });

  it('cannot be verified, nor so rebuilt, without the chain key held under the master key', async () => {
    await appendAudit(runtime.db, runtime, { actor: 'test' }, { action: 'c.one' });
    await sealAuditLog(runtime.db, runtime);
    const forgedKey = Buffer.alloc(32, 1);
    expect((await verifyAuditChain(runtime.db, { ...runtime, auditChainKey: forgedKey })).ok).toBe(false);
    expect((await verifyAuditChain(runtime.db, runtime)).ok).toBe(true);
  });

  it('does not serialise appends: many concurrent appends all land, then seal in id order', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => runtime.db.transaction().execute((trx) => appendAudit(trx, runtime, { actor: 'test' }, { action: `d.${i}` }))));
    while ((await sealAuditLog(runtime.db, runtime, 7)) > 0);
    const rows = await runtime.db.selectFrom('audit_log').select(['id', 'seq']).orderBy('seq').execute();
    expect(rows.map((r) => Number(r.id))).toEqual([...rows.map((r) => Number(r.id))].sort((a, b) => a - b));
    expect((await verifyAuditChain(runtime.db, runtime, 5)).ok).toBe(true);
  });

  it('lets only one sealer link entries at a time', async () => {
    for (let i = 0; i < 20; i++) await appendAudit(runtime.db, runtime, { actor: 'test' }, { action: `e.${i}` });
    await Promise.all([sealAuditLog(runtime.db, runtime), sealAuditLog(runtime.db, runtime)]);
    const { rows } = await sql<{ dupes: number }>`select count(*) - count(distinct seq) as dupes from audit_log`.execute(runtime.db);
    expect(Number(rows[0]!.dupes)).toBe(0);
    expect((await verifyAuditChain(runtime.db, runtime)).ok).toBe(true);
  });

  it('exports entries since a time', async () => {
    await appendAudit(runtime.db, runtime, { actor: 'test' }, { action: 'f.old' });
    runtime.clock.advance(3600);
    const since = runtime.clock.now();
    await appendAudit(runtime.db, runtime, { actor: 'test' }, { action: 'f.new' });
    const exported = [];
    for await (const entry of exportAudit(runtime.db, since)) exported.push(entry.action);
    expect(exported).toEqual(['f.new']);
  });
});

describe('audit entries written straight into the database (someone with write access but not the master key)', () => {
  const forgedRow = (overrides: Record<string, unknown> = {}) => ({
    at: new Date(runtime.clock.now().getTime() - 86_400_000),
    actor: 'user:00000000-0000-4000-8000-000000000001',
    action: 'recovery.approved',
    subject: 'user:00000000-0000-4000-8000-000000000002',
    outcome: 'success' as const,
    ip: null,
    user_agent: null,
    details: JSON.stringify({ desk: 'HQ' }),
    ...overrides,
  });

  it('are never chained: a back-dated "officer approved" row is refused by the sealer, and audit verify reports it', async () => {
    const log = await createTestRuntime();
    await appendAudit(log.db, log, { actor: 'test' }, { action: 'g.before' });
    await log.db.insertInto('audit_log').values(forgedRow()).execute();
    await appendAudit(log.db, log, { actor: 'test' }, { action: 'g.after' });
    while ((await sealAuditLog(log.db, log)) > 0);

    const rows = await log.db.selectFrom('audit_log').select(['action', 'seq', 'seal_refused']).orderBy('id').execute();
    expect(rows.find((row) => row.action === 'recovery.approved')).toMatchObject({ seq: null, seal_refused: expect.stringContaining('no valid MAC') });
    // Genuine entries on either side are still chained.
    expect(rows.filter((row) => row.action.startsWith('g.')).every((row) => row.seq !== null)).toBe(true);
    const verified = await verifyAuditChain(log.db, log);
    expect(verified.ok).toBe(false);
    expect(verified.refused).toEqual([expect.objectContaining({ action: 'recovery.approved', reason: expect.stringContaining('no valid MAC') })]);
  });

  it('refuses a row whose MAC was made with another key', async () => {
    const log = await createTestRuntime();
    const other = await createTestRuntime();
    await appendAudit(other.db, other, { actor: 'test' }, { action: 'h.elsewhere' });
    const copied = await other.db.selectFrom('audit_log').selectAll().where('action', '=', 'h.elsewhere').executeTakeFirstOrThrow();
    await log.db.insertInto('audit_log').values(forgedRow({ entry_id: copied.entry_id, mac: copied.mac, at: copied.at, actor: copied.actor, action: copied.action, subject: copied.subject, details: JSON.stringify(copied.details) })).execute();
    while ((await sealAuditLog(log.db, log)) > 0);
    expect((await verifyAuditChain(log.db, log)).refused).toEqual([expect.objectContaining({ action: 'h.elsewhere', reason: expect.stringContaining('no valid MAC') })]);
  });

  it('refuses a copy of a genuine entry, even with the unique index dropped', async () => {
    const log = await createTestRuntime();
    await appendAudit(log.db, log, { actor: 'user:officer' }, { action: 'recovery.approved', subject: 'user:someone' });
    const genuine = await log.db.selectFrom('audit_log').selectAll().where('action', '=', 'recovery.approved').executeTakeFirstOrThrow();
    await sql`drop index audit_log_entry_id_idx`.execute(log.db);
    const { id: _id, seq: _seq, prev_hash: _prev, hash: _hash, ...copy } = genuine;
    await log.db.insertInto('audit_log').values({ ...copy, details: JSON.stringify(copy.details) }).execute();
    while ((await sealAuditLog(log.db, log)) > 0);
    const rows = await log.db.selectFrom('audit_log').select(['id', 'seq', 'seal_refused']).where('action', '=', 'recovery.approved').orderBy('id').execute();
    expect(rows[0]!.seq).not.toBeNull();
    expect(rows[1]).toMatchObject({ seq: null, seal_refused: 'a copy of another entry' });
    expect((await verifyAuditChain(log.db, log)).ok).toBe(false);
  });

  it('refuses an entry dated well before the entries chained ahead of it', async () => {
    const log = await createTestRuntime();
    await appendAudit(log.db, log, { actor: 'test' }, { action: 'i.now' });
    while ((await sealAuditLog(log.db, log)) > 0);
    log.clock.advance(-3600);
    await appendAudit(log.db, log, { actor: 'test' }, { action: 'i.an_hour_earlier' });
    while ((await sealAuditLog(log.db, log)) > 0);
    expect((await verifyAuditChain(log.db, log)).refused).toEqual([expect.objectContaining({ action: 'i.an_hour_earlier', reason: expect.stringContaining('out of order') })]);
  });

  it('detects a MAC edited on a chained entry', async () => {
    const log = await createTestRuntime();
    await appendAudit(log.db, log, { actor: 'test' }, { action: 'j.one' });
    while ((await sealAuditLog(log.db, log)) > 0);
    await log.db.updateTable('audit_log').set({ mac: 'x' }).where('action', '=', 'j.one').execute();
    expect((await verifyAuditChain(log.db, log)).brokenAt?.reason).toMatch(/hash|MAC/);
  });

  it('gives a MAC, once, to entries appended before entries carried one (the upgrade)', async () => {
    const log = await createTestRuntime();
    await log.db.insertInto('audit_log').values(forgedRow({ action: 'k.written_by_the_previous_version', at: log.clock.now() })).execute();
    expect(await adoptEntriesWithoutMac(log.db, log.auditEntryKey)).toBe(1);
    while ((await sealAuditLog(log.db, log)) > 0);
    expect(await verifyAuditChain(log.db, log)).toMatchObject({ ok: true, refused: [] });
  });
});
