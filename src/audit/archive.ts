/**
 * Audit retention: `warta audit archive` moves the sealed entries older than a
 * date out of the database into a file, and `warta audit verify --archive`
 * checks such a file later. The file is written and flushed to disk before any
 * row is deleted; the rows, the anchor that says where the chain now starts,
 * and the `audit.archived` entry go in one transaction. The anchor carries a
 * MAC under the chain key, so `audit verify` can start from it without letting
 * someone with write access to the database move the start and hide a deletion.
 */
import { createHash } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { AuditEntry, Db } from '../db/schema.js';
import { WartaError } from '../errors.js';
import type { AuditSinkSettings, Config } from '../config.js';
import { anchorMac, anchorMacHolds, appendAudit, type AuditContext, type AuditKeys, type AuditWriter, chainLinkProblem, chainStart, exportSealedAudit, GENESIS, holdSealing, verifyAuditChain } from './audit.js';

export const ARCHIVE_FORMAT = 'warta-audit-archive/1';

/** The first line of an archive file: which part of the chain it holds, and how it joins the rest. */
export interface ArchiveHeader {
  format: typeof ARCHIVE_FORMAT;
  /** The entry the archive continues from (0: the chain's genesis) and that entry's hash. */
  after_seq: number;
  start_hash: string;
  /** The last archived entry and its hash: where the chain in the database now starts. */
  through_seq: number;
  head_hash: string;
  entries: number;
  before: string;
}

export interface ArchivedAudit {
  file: string;
  entries: number;
  after_seq: number;
  through_seq: number;
  head_hash: string;
  file_sha256: string;
}

/** Archiving deletes entries: one the audit sink has not taken yet would never reach it. */
async function refuseUnshipped(db: Db, sink: AuditSinkSettings | undefined, throughSeq: number): Promise<void> {
  if (!sink) return;
  const checkpoint = await db.selectFrom('audit_sink_checkpoint').select('last_shipped_seq').where('sink', '=', sink.name).executeTakeFirst();
  const shipped = Number(checkpoint?.last_shipped_seq ?? 0);
  if (shipped < throughSeq)
    throw new WartaError(409, 'audit_entries_unshipped', `entries ${shipped + 1}–${throughSeq} are not shipped to ${sink.name} yet (WARTA_AUDIT_SINK); let the server ship them, or choose an earlier date; nothing was archived`);
}

/**
 * Archives the sealed entries dated before `before` (in chain order, stopping at
 * the first entry dated later) to `file`, then deletes them. Refuses while an
 * entry before the date is not sealed yet, and when the chain does not verify:
 * archiving must neither lose an entry nor launder a broken chain.
 */
export async function archiveAuditLog(deps: { db: Db; config?: Pick<Config, 'audit'> } & AuditWriter & AuditKeys, context: AuditContext, input: { before: Date; file: string }): Promise<ArchivedAudit> {
  const { db } = deps;
  const verified = await verifyAuditChain(db, deps);
  if (verified.brokenAt) throw new WartaError(409, 'audit_chain_broken', `the audit chain is broken at entry ${verified.brokenAt.seq} (${verified.brokenAt.reason}); nothing was archived`);
  const pending = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('seq', 'is', null).where('seal_refused', 'is', null).where('at', '<', input.before).executeTakeFirstOrThrow();
  if (Number(pending.n) > 0)
    throw new WartaError(409, 'audit_entries_unsealed', `${pending.n} entries before ${input.before.toISOString()} are not sealed yet; run \`warta audit verify --seal\` (a running server seals every second) or choose an earlier date`);

  const start = await chainStart(db, deps);
  const firstKept = await db.selectFrom('audit_log').select('seq').where('seq', 'is not', null).where('at', '>=', input.before).orderBy('seq').limit(1).executeTakeFirst();
  const last = await db.selectFrom('audit_log').select('seq').where('seq', 'is not', null).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const throughSeq = firstKept ? Number(firstKept.seq) - 1 : last ? Number(last.seq) : start.seq;
  if (throughSeq <= start.seq) throw new WartaError(409, 'nothing_to_archive', `no sealed entry before ${input.before.toISOString()} is left to archive`);
  await refuseUnshipped(db, deps.config?.audit.sink, throughSeq);
  const head = await db.selectFrom('audit_log').select(['hash', 'at']).where('seq', '=', throughSeq).executeTakeFirstOrThrow();
  const header: ArchiveHeader = {
    format: ARCHIVE_FORMAT,
    after_seq: start.seq,
    start_hash: start.hash,
    through_seq: throughSeq,
    head_hash: head.hash!,
    entries: throughSeq - start.seq,
    before: input.before.toISOString(),
  };

  const fileSha256 = await writeArchiveFile(input.file, header, exportSealedAudit(db, { afterSeq: start.seq, throughSeq }));
  try {
    await db.transaction().execute(async (trx) => {
      await holdSealing(trx);
      const anchor = { after_seq: start.seq, through_seq: throughSeq, head_hash: header.head_hash, head_at: new Date(head.at), entries: header.entries, file_sha256: fileSha256 };
      // after_seq is unique: of two archives started from the same anchor, one fails here.
      await trx.insertInto('audit_archives').values({ ...anchor, archived_at: deps.clock.now(), mac: anchorMac(deps.auditChainKey, anchor) }).execute();
      const deleted = await trx.deleteFrom('audit_log').where('seq', '>', start.seq).where('seq', '<=', throughSeq).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== header.entries) throw new WartaError(409, 'audit_changed_while_archiving', 'the audit log changed while it was being archived; nothing was deleted');
      await appendAudit(trx, deps, context, {
        action: 'audit.archived',
        details: { entries: header.entries, after_seq: start.seq, through_seq: throughSeq, head_hash: header.head_hash, before: header.before, file: path.basename(input.file), file_sha256: fileSha256 },
      });
    });
  } catch (error) {
    // Nothing was deleted: a file that looks like an archive of deleted entries would mislead.
    await unlink(input.file).catch(() => undefined);
    throw error;
  }
  return { file: input.file, entries: header.entries, after_seq: start.seq, through_seq: throughSeq, head_hash: header.head_hash, file_sha256: fileSha256 };
}

/** Writes the header and the entries as JSON lines to a new file, flushed to disk (file and folder) before returning its SHA-256. */
async function writeArchiveFile(file: string, header: ArchiveHeader, entries: AsyncIterable<AuditEntry>): Promise<string> {
  const hash = createHash('sha256');
  let handle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    throw new WartaError(409, 'archive_file_unwritable', `cannot create ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)} (an archive never overwrites a file)`);
  }
  try {
    const write = async (line: string) => {
      hash.update(line);
      await handle.write(line);
    };
    await write(`${JSON.stringify(header)}\n`);
    let written = 0;
    for await (const entry of entries) {
      await write(`${JSON.stringify(entry)}\n`);
      written += 1;
    }
    if (written !== header.entries) throw new WartaError(409, 'audit_changed_while_archiving', 'the audit log changed while it was being archived; nothing was deleted');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(file).catch(() => undefined);
    throw error;
  }
  await handle.close();
  const folder = await open(path.dirname(path.resolve(file)), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return hash.digest('hex');
}

export interface ArchiveVerification {
  ok: boolean;
  file: string;
  entries: number;
  after_seq: number | null;
  through_seq: number | null;
  head_hash: string | null;
  file_sha256: string;
  /** Why the file does not verify. */
  problem?: string;
}

/**
 * Checks an archive file: every entry links to the one before it from the
 * file's start hash, the last one is the head, and the database's anchor for
 * that cut (whose MAC holds) names the same head, start and file hash.
 */
export async function verifyArchiveFile(deps: { db: Db } & AuditKeys, file: string): Promise<ArchiveVerification> {
  const content = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new WartaError(400, 'archive_file_unreadable', `cannot read ${file}: ${error.code ?? String(error)}`);
  });
  const fileSha256 = createHash('sha256').update(content).digest('hex');
  const result = { file, entries: 0, after_seq: null, through_seq: null, head_hash: null, file_sha256: fileSha256 };
  const fail = (problem: string, known: Partial<ArchiveVerification> = {}): ArchiveVerification => ({ ...result, ...known, ok: false, problem });
  const lines = content.split('\n').filter((line) => line !== '');
  const header = parseLine(lines[0]) as Partial<ArchiveHeader> | undefined;
  if (header?.format !== ARCHIVE_FORMAT || typeof header.after_seq !== 'number' || typeof header.through_seq !== 'number' || typeof header.start_hash !== 'string' || typeof header.head_hash !== 'string')
    return fail(`not a Warta audit archive (the first line is not a ${ARCHIVE_FORMAT} header)`);
  const known = { after_seq: header.after_seq, through_seq: header.through_seq, head_hash: header.head_hash };

  let prev = header.start_hash;
  let seq = header.after_seq;
  for (const line of lines.slice(1)) {
    const entry = parseLine(line) as AuditEntry | undefined;
    if (!entry) return fail(`line ${seq - header.after_seq + 2} is not JSON`, known);
    const problem = chainLinkProblem(deps, prev, seq + 1, entry);
    if (problem) return fail(`entry ${seq + 1}: ${problem}`, { ...known, entries: seq - header.after_seq });
    prev = entry.hash!;
    seq += 1;
  }
  const entries = seq - header.after_seq;
  if (seq !== header.through_seq || prev !== header.head_hash) return fail(`the entries end at ${seq}, not at the head the header names (${header.through_seq}): cut short?`, { ...known, entries });

  const anchor = await deps.db.selectFrom('audit_archives').selectAll().where('through_seq', '=', header.through_seq).executeTakeFirst();
  if (!anchor) return fail(`the database has no archive anchor at entry ${header.through_seq}`, { ...known, entries });
  if (!anchorMacHolds(deps.auditChainKey, anchor)) return fail(`the archive anchor at entry ${header.through_seq} does not hold its MAC: edited?`, { ...known, entries });
  if (anchor.head_hash !== header.head_hash || Number(anchor.after_seq) !== header.after_seq) return fail('the file does not end where the anchor says the archive ended', { ...known, entries });
  if (anchor.file_sha256 !== fileSha256) return fail(`the file's SHA-256 is not the one recorded when it was written (${anchor.file_sha256}): edited?`, { ...known, entries });
  const previous = header.after_seq === 0 ? undefined : await deps.db.selectFrom('audit_archives').selectAll().where('through_seq', '=', header.after_seq).executeTakeFirst();
  const expectedStart = header.after_seq === 0 ? GENESIS : previous && anchorMacHolds(deps.auditChainKey, previous) ? previous.head_hash : undefined;
  if (header.start_hash !== expectedStart) return fail('the file does not start where the previous archive ended', { ...known, entries });
  return { ...result, ...known, entries, ok: true };
}

function parseLine(line: string | undefined): unknown {
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}
