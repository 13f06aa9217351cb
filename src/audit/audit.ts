import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import type { Clock } from '../clock.js';
import { type AuditArchive, type AuditEntry, type Db, json } from '../db/schema.js';

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

/** What appending needs: the time, and the key each entry's MAC is made with (an instance secret under the master key). */
export interface AuditWriter {
  clock: Clock;
  auditEntryKey: Uint8Array;
}

/**
 * Appends an entry. Pass the transaction that makes the change, so the entry
 * and the change commit together or not at all. The entry carries a MAC made
 * here, so a row written straight into the database by someone without the
 * master key is refused by the sealer; it is linked into the hash chain later
 * by `sealAuditLog`, which keeps appends free of any global lock.
 */
export async function appendAudit(db: Db, writer: AuditWriter, context: AuditContext, record: AuditRecord): Promise<void> {
  const entry = auditEntry(writer, context, record);
  await db
    .insertInto('audit_log')
    .values({ ...entry, details: json(entry.details) })
    .execute();
}

/**
 * appendAudit as a step of a larger statement: a data-modifying CTE that appends the
 * entry when the CTE named `source` returned a row. A conditional change (`UPDATE …
 * WHERE status = … RETURNING`) and its audit entry are then one statement, which
 * commits both or neither, in one round trip.
 */
export function appendAuditWhen(source: string, writer: AuditWriter, context: AuditContext, record: AuditRecord): RawBuilder<unknown> {
  const e = auditEntry(writer, context, record);
  return sql`insert into audit_log (entry_id, at, actor, action, subject, outcome, ip, user_agent, details, mac)
    select ${e.entry_id}, ${e.at}, ${e.actor}, ${e.action}, ${e.subject}, ${e.outcome}, ${e.ip}, ${e.user_agent}, ${json(e.details)}::jsonb, ${e.mac}
    where exists (select from ${sql.table(source)})`;
}

/** The row appendAudit inserts (details as an object, not yet JSON text), MAC included: for a caller that writes it within a larger statement. */
export function auditEntry(writer: AuditWriter, context: AuditContext, record: AuditRecord) {
  const entry = {
    entry_id: randomUUID(),
    at: writer.clock.now(),
    actor: context.actor,
    action: record.action,
    subject: record.subject ?? null,
    outcome: record.outcome ?? ('success' as const),
    ip: context.ip ?? null,
    user_agent: context.userAgent?.slice(0, 512) ?? null,
    details: record.details ?? {},
  };
  return { ...entry, mac: entryMac(writer.auditEntryKey, entry), seal_refused: null, seq: null, prev_hash: null, hash: null };
}

type MacedFields = Pick<AuditEntry, 'entry_id' | 'at' | 'actor' | 'action' | 'subject' | 'outcome' | 'ip' | 'user_agent' | 'details'>;

/** What an entry says, as the MAC and the chain hash read it. */
function recordedFields(entry: Omit<MacedFields, 'entry_id'>) {
  return {
    at: new Date(entry.at).toISOString(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    outcome: entry.outcome,
    ip: entry.ip,
    user_agent: entry.user_agent,
    details: entry.details,
  };
}

function entryMac(key: Uint8Array, entry: MacedFields): string {
  const body = canonical({ entry_id: entry.entry_id, ...recordedFields(entry) });
  return createHmac('sha256', key).update('warta-audit-entry\n').update(body).digest('base64url');
}

function macHolds(key: Uint8Array, entry: MacedFields & { mac: string | null }): boolean {
  if (!entry.mac || !entry.entry_id) return false;
  const expected = Buffer.from(entryMac(key, entry));
  const given = Buffer.from(entry.mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Gives a MAC to entries appended before entries carried one and not yet
 * sealed. Runs once, when the audit-entry key is first made (the upgrade that
 * introduced it); after that a row without a valid MAC is never chained.
 */
export async function adoptEntriesWithoutMac(db: Db, key: Uint8Array): Promise<number> {
  const rows = await db.selectFrom('audit_log').selectAll().where('seq', 'is', null).where('mac', 'is', null).orderBy('id').execute();
  for (const row of rows) {
    const entryId = randomUUID();
    await db.updateTable('audit_log').set({ entry_id: entryId, mac: entryMac(key, { ...row, entry_id: entryId }) }).where('id', '=', row.id).execute();
  }
  return rows.length;
}

export const GENESIS = 'warta-audit-genesis';
// Arbitrary constant naming "audit sealer" for pg_try_advisory_xact_lock.
const SEAL_LOCK = 7_114_000_002;

/** Waits for the sealer to finish and keeps it out until the caller's transaction ends (archiving moves the chain's start). */
export async function holdSealing(trx: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(${SEAL_LOCK})`.execute(trx);
}

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
    // Absent (undefined) on entries sealed before entries carried a MAC, so their hashes are unchanged.
    entry_id: entry.entry_id ?? undefined,
    mac: entry.mac ?? undefined,
    seq,
    ...recordedFields(entry),
  });
  return createHmac('sha256', key).update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * How far an entry's time may lie before the entry chained ahead of it: entries
 * are chained in id order, and a long transaction or another instance's clock
 * can put a genuine entry slightly earlier. A copied old entry lies far earlier.
 */
export const OUT_OF_ORDER_TOLERANCE_MS = 10 * 60 * 1000;

/** Why an entry may not be chained, or undefined when it may. */
function sealRefusal(entryKey: Uint8Array, entry: AuditEntry, previousAt: Date | undefined): string | undefined {
  if (!macHolds(entryKey, entry)) return 'no valid MAC: not written by Warta';
  if (previousAt && new Date(entry.at).getTime() < previousAt.getTime() - OUT_OF_ORDER_TOLERANCE_MS) return 'out of order: dated before the entries chained ahead of it';
  return undefined;
}

/**
 * Entry ids present more than once, with the first row that has each: the unique
 * index stops a copy, but someone who can write to the database can drop it.
 */
async function copiedEntryIds(db: Db, entries: AuditEntry[]): Promise<Map<string, number>> {
  const ids = entries.map((entry) => entry.entry_id).filter((id): id is string => id !== null);
  if (!ids.length) return new Map();
  const rows = await db
    .selectFrom('audit_log')
    .select(['entry_id', (eb) => eb.fn.min('id').as('first_id')])
    .where('entry_id', 'in', ids)
    .groupBy('entry_id')
    .having((eb) => eb.fn.countAll(), '>', 1)
    .execute();
  return new Map(rows.map((row) => [row.entry_id!, Number(row.first_id)]));
}

export interface AuditKeys {
  /** HMAC key of the hash chain. */
  auditChainKey: Uint8Array;
  /** HMAC key of each entry's MAC. */
  auditEntryKey: Uint8Array;
}

/** Where the chain in the database starts: its genesis, or the head of the last archive (`warta audit archive`). */
export interface ChainStart {
  seq: number;
  hash: string;
  at: Date | undefined;
  /** Set when the archive anchor's MAC does not hold: someone moved the chain's start. */
  problem?: string;
}

type AnchorFields = Pick<AuditArchive, 'after_seq' | 'through_seq' | 'head_hash' | 'head_at' | 'entries' | 'file_sha256'>;

/** The MAC of an archive anchor, with the chain key: a database writer cannot move where verification starts. */
export function anchorMac(chainKey: Uint8Array, anchor: AnchorFields): string {
  const body = canonical({
    after_seq: Number(anchor.after_seq),
    through_seq: Number(anchor.through_seq),
    head_hash: anchor.head_hash,
    head_at: new Date(anchor.head_at).toISOString(),
    entries: Number(anchor.entries),
    file_sha256: anchor.file_sha256,
  });
  return createHmac('sha256', chainKey).update('warta-audit-anchor\n').update(body).digest('base64url');
}

export function anchorMacHolds(chainKey: Uint8Array, anchor: AnchorFields & { mac: string }): boolean {
  const expected = Buffer.from(anchorMac(chainKey, anchor));
  const given = Buffer.from(anchor.mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function chainStart(db: Db, keys: Pick<AuditKeys, 'auditChainKey'>): Promise<ChainStart> {
  const anchor = await db.selectFrom('audit_archives').selectAll().orderBy('through_seq', 'desc').limit(1).executeTakeFirst();
  if (!anchor) return { seq: 0, hash: GENESIS, at: undefined };
  const start = { seq: Number(anchor.through_seq), hash: anchor.head_hash, at: new Date(anchor.head_at) };
  return anchorMacHolds(keys.auditChainKey, anchor) ? start : { ...start, problem: `the archive anchor at entry ${start.seq} does not hold its MAC: edited?` };
}

/** Why `entry` is not the link `seq` after `prev`, or undefined when it is. */
export function chainLinkProblem(keys: AuditKeys, prev: string, seq: number, entry: AuditEntry): string | undefined {
  if (Number(entry.seq) !== seq) return `entry ${seq} is missing (next present is ${entry.seq}): deleted?`;
  if (entry.prev_hash !== prev) return 'prev_hash does not match the previous entry';
  if (entry.hash !== entryHash(keys.auditChainKey, prev, seq, entry)) return 'contents do not match the hash: edited?';
  // Entries sealed before entries carried a MAC have none; every later one must hold.
  if (entry.mac !== null && entry.mac !== undefined && !macHolds(keys.auditEntryKey, entry)) return 'the entry MAC does not hold';
  return undefined;
}

/**
 * Links committed, unsealed entries into the chain in id order. The chain is an
 * HMAC chain keyed with an instance secret, so someone who can write to the
 * database but lacks the master key cannot rebuild it after an edit; an entry
 * whose own MAC does not hold, or that is dated well before the chain's head, is
 * left out and marked (`seal_refused`) for `audit verify` to report. Only one
 * sealer runs at a time across instances (try-lock: the others just return).
 * Returns how many entries it looked at.
 */
export async function sealAuditLog(db: Db, keys: AuditKeys, batchSize = 500): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${SEAL_LOCK}) as locked`.execute(trx);
    if (!rows[0]?.locked) return 0;
    const sealedHead = await trx.selectFrom('audit_log').select(['seq', 'hash', 'at']).where('seq', 'is not', null).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    // Everything sealed may have been archived: the chain then continues from the archive's head.
    const head = sealedHead ? { seq: Number(sealedHead.seq), hash: sealedHead.hash!, at: new Date(sealedHead.at) } : await chainStart(trx, keys);
    let seq = head.seq;
    let prev = head.hash;
    let previousAt = head.at;
    const pending = await trx.selectFrom('audit_log').selectAll().where('seq', 'is', null).where('seal_refused', 'is', null).orderBy('id').limit(batchSize).execute();
    const duplicated = await copiedEntryIds(trx, pending);
    const links: { id: number; seq: number; prevHash: string | null; hash: string }[] = [];
    for (const entry of pending) {
      const firstWithId = entry.entry_id ? duplicated.get(entry.entry_id) : undefined;
      const refusal = firstWithId !== undefined && firstWithId !== Number(entry.id) ? 'a copy of another entry' : sealRefusal(keys.auditEntryKey, entry, previousAt);
      if (refusal) {
        await trx.updateTable('audit_log').set({ seal_refused: refusal }).where('id', '=', entry.id).execute();
        continue;
      }
      seq += 1;
      const hash = entryHash(keys.auditChainKey, prev, seq, entry);
      links.push({ id: Number(entry.id), seq, prevHash: prev, hash });
      prev = hash;
      previousAt = new Date(entry.at);
    }
    // One statement for the whole batch: a server busy with sign-ins seals hundreds of entries a second.
    if (links.length)
      await sql`update audit_log a set seq = l.seq, prev_hash = l.prev_hash, hash = l.hash
        from unnest(${links.map((l) => l.id)}::bigint[], ${links.map((l) => l.seq)}::bigint[], ${links.map((l) => l.prevHash)}::text[], ${links.map((l) => l.hash)}::text[]) as l(id, seq, prev_hash, hash)
        where a.id = l.id`.execute(trx);
    return pending.length;
  });
}

export interface ChainVerification {
  ok: boolean;
  sealed: number;
  unsealed: number;
  headSeq: number;
  headHash: string | null;
  /** The last entry moved out by `warta audit archive`: verification starts after it. */
  archivedThrough: number;
  /** The first link that does not hold, with why. */
  brokenAt?: { seq: number; id: number | null; reason: string };
  /** Rows the sealer would not chain (forged or copied entries), oldest first; any makes the log not ok. */
  refused: { id: number; at: string; action: string; reason: string }[];
}

/** Walks the chain from its start (genesis, or the last archive's head) and reports the first link that does not hold. */
export async function verifyAuditChain(db: Db, keys: AuditKeys, pageSize = 1000): Promise<ChainVerification> {
  const unsealedRow = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('seq', 'is', null).where('seal_refused', 'is', null).executeTakeFirstOrThrow();
  const unsealed = Number(unsealedRow.n);
  const refused = (await db.selectFrom('audit_log').select(['id', 'at', 'action', 'seal_refused']).where('seal_refused', 'is not', null).orderBy('id').limit(100).execute()).map((row) => ({
    id: Number(row.id),
    at: new Date(row.at).toISOString(),
    action: row.action,
    reason: row.seal_refused!,
  }));
  const start = await chainStart(db, keys);
  const archivedThrough = start.seq;
  if (start.problem) return { ok: false, sealed: 0, unsealed, headSeq: start.seq, headHash: null, archivedThrough, brokenAt: { seq: start.seq, id: null, reason: start.problem }, refused };
  let expectedSeq = start.seq + 1;
  let prev = start.hash;
  for (;;) {
    const page = await db.selectFrom('audit_log').selectAll().where('seq', '>=', expectedSeq).orderBy('seq').limit(pageSize).execute();
    for (const entry of page) {
      const problem = chainLinkProblem(keys, prev, expectedSeq, entry);
      if (problem) {
        const missing = Number(entry.seq) !== expectedSeq;
        return { ok: false, sealed: expectedSeq - 1 - start.seq, unsealed, headSeq: expectedSeq - 1, headHash: prev, archivedThrough, brokenAt: { seq: expectedSeq, id: missing ? null : Number(entry.id), reason: problem }, refused };
      }
      prev = entry.hash!;
      expectedSeq += 1;
    }
    if (page.length < pageSize) break;
  }
  return { ok: refused.length === 0, sealed: expectedSeq - 1 - start.seq, unsealed, headSeq: expectedSeq - 1, headHash: expectedSeq > 1 ? prev : null, archivedThrough, refused };
}

/** An entry as `audit export` and `audit archive` write it: one JSON line each. */
export function exportedEntry(entry: AuditEntry): AuditEntry {
  return { ...entry, id: Number(entry.id), seq: entry.seq === null ? null : Number(entry.seq) };
}

/** One entry as a line of `audit export`, and of every audit sink: the whole row as JSON, newline-terminated. */
export const auditLine = (entry: AuditEntry): string => `${JSON.stringify(exportedEntry(entry))}\n`;

export async function* exportAudit(db: Db, since: Date, pageSize = 1000): AsyncGenerator<AuditEntry> {
  let afterId = 0;
  for (;;) {
    const page = await db.selectFrom('audit_log').selectAll().where('at', '>=', since).where('id', '>', afterId).orderBy('id').limit(pageSize).execute();
    for (const entry of page) yield exportedEntry(entry);
    if (page.length < pageSize) return;
    afterId = Number(page[page.length - 1]!.id);
  }
}

/** Sealed entries after `afterSeq` through `throughSeq`, in chain order. */
export async function* exportSealedAudit(db: Db, range: { afterSeq: number; throughSeq: number }, pageSize = 1000): AsyncGenerator<AuditEntry> {
  let afterSeq = range.afterSeq;
  for (;;) {
    const page = await db.selectFrom('audit_log').selectAll().where('seq', '>', afterSeq).where('seq', '<=', range.throughSeq).orderBy('seq').limit(pageSize).execute();
    for (const entry of page) yield exportedEntry(entry);
    if (page.length < pageSize) return;
    afterSeq = Number(page[page.length - 1]!.seq);
  }
}
