import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { appendAudit, exportAudit, sealAuditLog, verifyAuditChain } from '../../src/audit/audit.js';
import { createTestRuntime } from '../support/runtime.js';

// One log for the tests that append and verify; a test that tampers with the log
// gets its own, since the chain it breaks would fail every later verification.
const runtime = await createTestRuntime();

describe('audit log', () => {
  it('records who, what, when, outcome, IP and user agent, sealed into a verifiable chain', async () => {
    await appendAudit(runtime.db, runtime.clock, { actor: 'user:1', ip: '10.0.0.1', userAgent: 'Firefox' }, { action: 'signin.failed', subject: 'user:1', outcome: 'failure', details: { b: 1, a: [1, 2] } });
    const before = await verifyAuditChain(runtime.db, runtime.auditChainKey);
    expect(before.unsealed).toBeGreaterThan(0);
    await sealAuditLog(runtime.db, runtime.auditChainKey);
    const result = await verifyAuditChain(runtime.db, runtime.auditChainKey);
    expect(result).toMatchObject({ ok: true, unsealed: 0 });
    expect(result.sealed).toBeGreaterThanOrEqual(2);
    const entry = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'signin.failed').executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ actor: 'user:1', subject: 'user:1', outcome: 'failure', ip: '10.0.0.1', user_agent: 'Firefox', details: { a: [1, 2], b: 1 } });
    expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes the entry in the caller transaction: a rolled-back change leaves no entry', async () => {
    await expect(
      runtime.db.transaction().execute(async (trx) => {
        await appendAudit(trx, runtime.clock, { actor: 'test' }, { action: 'doomed.change' });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'doomed.change').execute()).toEqual([]);
  });

  it('detects an edited row and names it', async () => {
    const ownLog = await createTestRuntime();
    for (const action of ['a.one', 'a.two', 'a.three']) await appendAudit(ownLog.db, ownLog.clock, { actor: 'test' }, { action });
    await sealAuditLog(ownLog.db, ownLog.auditChainKey);
    const target = await ownLog.db.selectFrom('audit_log').select(['id', 'seq']).where('action', '=', 'a.two').executeTakeFirstOrThrow();
    await ownLog.db.updateTable('audit_log').set({ outcome: 'failure' }).where('id', '=', target.id).execute();
    const result = await verifyAuditChain(ownLog.db, ownLog.auditChainKey);
    expect(result.ok).toBe(false);
    expect(result.brokenAt).toMatchObject({ seq: Number(target.seq), id: Number(target.id), reason: expect.stringMatching(/edited/) });
  });

  it('detects a deleted row', async () => {
    const ownLog = await createTestRuntime();
    for (const action of ['b.one', 'b.two', 'b.three']) await appendAudit(ownLog.db, ownLog.clock, { actor: 'test' }, { action });
    await sealAuditLog(ownLog.db, ownLog.auditChainKey);
    const target = await ownLog.db.selectFrom('audit_log').select(['id', 'seq']).where('action', '=', 'b.two').executeTakeFirstOrThrow();
    await ownLog.db.deleteFrom('audit_log').where('id', '=', target.id).execute();
    const result = await verifyAuditChain(ownLog.db, ownLog.auditChainKey);
    expect(result).toMatchObject({ ok: false, brokenAt: { seq: Number(target.seq), reason: expect.stringMatching(/missing/) } });
  });

  it('cannot be verified, nor so rebuilt, without the chain key held under the master key', async () => {
    await appendAudit(runtime.db, runtime.clock, { actor: 'test' }, { action: 'c.one' });
    await sealAuditLog(runtime.db, runtime.auditChainKey);
    const forgedKey = Buffer.alloc(32, 1);
    expect((await verifyAuditChain(runtime.db, forgedKey)).ok).toBe(false);
    expect((await verifyAuditChain(runtime.db, runtime.auditChainKey)).ok).toBe(true);
  });

  it('does not serialise appends: many concurrent appends all land, then seal in id order', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => runtime.db.transaction().execute((trx) => appendAudit(trx, runtime.clock, { actor: 'test' }, { action: `d.${i}` }))));
    while ((await sealAuditLog(runtime.db, runtime.auditChainKey, 7)) > 0);
    const rows = await runtime.db.selectFrom('audit_log').select(['id', 'seq']).orderBy('seq').execute();
    expect(rows.map((r) => Number(r.id))).toEqual([...rows.map((r) => Number(r.id))].sort((a, b) => a - b));
    expect((await verifyAuditChain(runtime.db, runtime.auditChainKey, 5)).ok).toBe(true);
  });

  it('lets only one sealer link entries at a time', async () => {
    for (let i = 0; i < 20; i++) await appendAudit(runtime.db, runtime.clock, { actor: 'test' }, { action: `e.${i}` });
    await Promise.all([sealAuditLog(runtime.db, runtime.auditChainKey), sealAuditLog(runtime.db, runtime.auditChainKey)]);
    const { rows } = await sql<{ dupes: number }>`select count(*) - count(distinct seq) as dupes from audit_log`.execute(runtime.db);
    expect(Number(rows[0]!.dupes)).toBe(0);
    expect((await verifyAuditChain(runtime.db, runtime.auditChainKey)).ok).toBe(true);
  });

  it('exports entries since a time', async () => {
    await appendAudit(runtime.db, runtime.clock, { actor: 'test' }, { action: 'f.old' });
    runtime.clock.advance(3600);
    const since = runtime.clock.now();
    await appendAudit(runtime.db, runtime.clock, { actor: 'test' }, { action: 'f.new' });
    const exported = [];
    for await (const entry of exportAudit(runtime.db, since)) exported.push(entry.action);
    expect(exported).toEqual(['f.new']);
  });
});
