import { archiveAuditLog, type ArchiveVerification, verifyArchiveFile } from '../../audit/archive.js';
import { type ChainVerification, exportAudit, sealAuditLog, verifyAuditChain } from '../../audit/audit.js';
import { CliUsageError, defineCommand, type Flags, stringFlag } from '../command.js';

function dateFlag(flags: Flags, name: string): Date {
  const raw = stringFlag(flags, name)!;
  const at = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(at.getTime())) throw new CliUsageError(`--${name} expects an ISO 8601 date, got "${raw}"`);
  return at;
}

type Verified = ({ kind: 'chain' } & ChainVerification) | ({ kind: 'archive' } & ArchiveVerification);

function formatChain(r: ChainVerification): string {
  const from = r.archivedThrough ? ` after the archived entries 1–${r.archivedThrough}` : '';
  const chain = r.brokenAt
    ? `audit chain BROKEN at entry ${r.brokenAt.seq}${r.brokenAt.id !== null ? ` (id ${r.brokenAt.id})` : ''}: ${r.brokenAt.reason}. ${r.sealed} entries before it verify${from}; ${r.unsealed} not yet sealed.`
    : `audit chain ${r.ok ? 'intact' : 'links hold'}: ${r.sealed} sealed entries${from}, head ${r.headHash ?? '(empty)'}; ${r.unsealed} not yet sealed`;
  const refused = r.refused.map((entry) => `\nREFUSED row id ${entry.id} (${entry.action}, dated ${entry.at}): ${entry.reason}`).join('');
  return chain + refused;
}

function formatArchive(r: ArchiveVerification): string {
  return r.ok
    ? `archive ${r.file} verifies: entries ${r.after_seq! + 1}–${r.through_seq}, head ${r.head_hash}, matching the database's anchor`
    : `archive ${r.file} does NOT verify: ${r.problem}`;
}

export const verifyAuditCommand = defineCommand({
  path: ['audit', 'verify'],
  summary: 'walk the audit hash chain and report the first broken link (exit 1 if broken); --archive FILE checks an archive file instead',
  flags: {
    seal: { type: 'boolean', description: 'first seal entries not yet linked (as a running server does every second)' },
    archive: { type: 'string', description: 'a file written by `warta audit archive`: check its chain and that it matches the anchor the archive left' },
  },
  async run(flags, io): Promise<Verified> {
    const runtime = await io.runtime();
    const archive = stringFlag(flags, 'archive');
    if (archive !== undefined) return { kind: 'archive', ...(await verifyArchiveFile(runtime, archive)) };
    if (flags.seal) while ((await sealAuditLog(runtime.db, runtime)) > 0);
    return { kind: 'chain', ...(await verifyAuditChain(runtime.db, runtime)) };
  },
  exitCode: (r) => (r.ok ? 0 : 1),
  format: (r) => (r.kind === 'archive' ? formatArchive(r) : formatChain(r)),
});

export const exportAuditCommand = defineCommand({
  path: ['audit', 'export'],
  summary: 'write audit entries since a time as JSON lines',
  flags: { since: { type: 'string', description: 'ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T08:00:00Z', required: true } },
  async run(flags, io) {
    const since = dateFlag(flags, 'since');
    const runtime = await io.runtime();
    let count = 0;
    for await (const entry of exportAudit(runtime.db, since)) {
      io.write(`${JSON.stringify(entry)}\n`);
      count += 1;
    }
    return { exported: count, since: since.toISOString() };
  },
  format: () => '',
});

export const archiveAuditCommand = defineCommand({
  path: ['audit', 'archive'],
  summary: 'move sealed audit entries older than a date into a file (written and flushed first), then delete them; audited',
  flags: {
    before: { type: 'string', description: 'ISO 8601 date or time: entries dated before it are archived', required: true },
    out: { type: 'string', description: 'the archive file to create (never overwritten)', required: true },
  },
  async run(flags, io) {
    const before = dateFlag(flags, 'before');
    const runtime = await io.runtime();
    return archiveAuditLog(runtime, { actor: 'cli' }, { before, file: stringFlag(flags, 'out')! });
  },
  format: (r) => `archived ${r.entries} entries (${r.after_seq + 1}–${r.through_seq}) to ${r.file}, sha256 ${r.file_sha256}; the chain now starts after ${r.head_hash}`,
});
