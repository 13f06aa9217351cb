import { createHmac } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { type AuditEntry, type Database, json } from '../db/schema.js';

export interface AuditContext {
  /** `user:<id>`, `cli`, `system`, `anonymous`, `client:<id>` … */
  actor: string;
  ip?: string | null;
  userAgent?: string | null;
}

export interface AuditRecord {
  action: string;
  subject?: string | null;
  outcome?: 'success' | 'failure';
  details?: Record<string, unknown>;
}

/**
 * Appends an entry. Pass the transaction that makes the change, so the entry
 * and the change commit together or not at all. The entry is linked into the
 * hash chain later by `sealAuditLog`, which keeps appends free of any global lock.
 */
export async function appendAudit(
  db: Kysely<Database> | Transaction<Database>,
  clock: Clock,
  context: AuditContext,
  record: AuditRecord,
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: clock.now(),
      actor: context.actor,
      action: record.action,
      subject: record.subject ?? null,
      outcome: record.outcome ?? 'success',
      ip: context.ip ?? null,
      user_agent: context.userAgent?.slice(0, 512) ?? null,
      details: json(record.details ?? {}),
      seq: null,
      prev_hash: null,
      hash: null,
    })
    .execute();
}

const GENESIS = 'warta-audit-genesis';
// Arbitrary constant naming "audit sealer" for pg_try_advisory_xact_lock.
const SEAL_LOCK = 7_114_000_002;

/** Deterministic JSON with sorted keys: jsonb does not keep key order. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

function entryHash(key: Uint8Array, prevHash: string, seq: number, entry: AuditEntry): string {
  const body = canonical({
    id: Number(entry.id),
    seq,
    at: new Date(entry.at).toISOString(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    outcome: entry.outcome,
    ip: entry.ip,
    user_agent: entry.user_agent,
    details: entry.details,
  });
  return createHmac('sha256', key).update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * Links committed, unsealed entries into the chain in id order. The chain is an
 * HMAC chain keyed with an instance secret, so someone who can write to the
 * database but lacks the master key cannot rebuild it after an edit. Only one
 * sealer runs at a time across instances (try-lock: the others just return).
 */
export async function sealAuditLog(db: Kysely<Database>, chainKey: Uint8Array, batchSize = 500): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${SEAL_LOCK}) as locked`.execute(trx);
    if (!rows[0]?.locked) return 0;
    const head = await trx.selectFrom('audit_log').select(['seq', 'hash']).where('seq', 'is not', null).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    let seq = head ? Number(head.seq) : 0;
    let prev = head?.hash ?? GENESIS;
    const pending = await trx.selectFrom('audit_log').selectAll().where('seq', 'is', null).orderBy('id').limit(batchSize).execute();
    for (const entry of pending) {
      seq += 1;
      const hash = entryHash(chainKey, prev, seq, entry);
      await trx.updateTable('audit_log').set({ seq, prev_hash: prev, hash }).where('id', '=', entry.id).execute();
      prev = hash;
    }
    return pending.length;
  });
}

export interface ChainVerification {
  ok: boolean;
  sealed: number;
  unsealed: number;
  headSeq: number;
  headHash: string | null;
  /** The first link that does not hold, with why. */
  brokenAt?: { seq: number; id: number | null; reason: string };
}

export async function verifyAuditChain(db: Kysely<Database>, chainKey: Uint8Array, pageSize = 1000): Promise<ChainVerification> {
  const unsealedRow = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('seq', 'is', null).executeTakeFirstOrThrow();
  const unsealed = Number(unsealedRow.n);
  let expectedSeq = 1;
  let prev = GENESIS;
  for (;;) {
    const page = await db.selectFrom('audit_log').selectAll().where('seq', '>=', expectedSeq).orderBy('seq').limit(pageSize).execute();
    for (const entry of page) {
      const seq = Number(entry.seq);
      const fail = (reason: string): ChainVerification => ({ ok: false, sealed: expectedSeq - 1, unsealed, headSeq: expectedSeq - 1, headHash: prev, brokenAt: { seq, id: Number(entry.id), reason } });
      if (seq !== expectedSeq) return { ...fail(`entry ${expectedSeq} is missing (next present is ${seq})`), brokenAt: { seq: expectedSeq, id: null, reason: `entry ${expectedSeq} is missing (next present is ${seq}): deleted?` } };
      if (entry.prev_hash !== prev) return fail('prev_hash does not match the previous entry');
      if (entry.hash !== entryHash(chainKey, prev, seq, entry)) return fail('contents do not match the hash: edited?');
      prev = entry.hash!;
      expectedSeq += 1;
    }
    if (page.length < pageSize) break;
  }
  return { ok: true, sealed: expectedSeq - 1, unsealed, headSeq: expectedSeq - 1, headHash: expectedSeq > 1 ? prev : null };
}

export async function* exportAudit(db: Kysely<Database>, since: Date, pageSize = 1000): AsyncGenerator<AuditEntry> {
  let afterId = 0;
  for (;;) {
    const page = await db.selectFrom('audit_log').selectAll().where('at', '>=', since).where('id', '>', afterId).orderBy('id').limit(pageSize).execute();
    for (const entry of page) yield { ...entry, id: Number(entry.id), seq: entry.seq === null ? null : Number(entry.seq) };
    if (page.length < pageSize) return;
    afterId = Number(page[page.length - 1]!.id);
  }
}
