import { archiveAuditLog, type ArchiveVerification, verifyArchiveFile } from '../../audit/archive.js';
import { auditLine, type ChainVerification, sealAuditLog, verifyAuditChain } from '../../audit/audit.js';
import { type AuditScope, exportAuditEntries, type RawAuditFilters, readAuditFilters, searchAudit } from '../../audit/search.js';
import { findOrganisationByName } from '../../orgs/service.js';
import type { Runtime } from '../../runtime.js';
import { CliUsageError, defineCommand, type FlagSpec, type Flags, integerFlag, stringFlag } from '../command.js';

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
    archive: { type: 'string', file: true, description: 'a file written by `warta audit archive`: check its chain and that it matches the anchor the archive left' },
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

/** The filters `audit search` and `audit export` share with the admin API; without --org, the whole instance. */
const searchFlags: Record<string, FlagSpec> = {
  org: { type: 'string', description: "only this organisation's entries (its name), as its admins see them; without it, the whole instance" },
  person: { type: 'string', description: 'user:<id>: entries about this person' },
  actor: { type: 'string', description: 'who acted: user:<id>, client:<id>, cli, system or anonymous' },
  action: { type: 'string', description: 'an action (person.disabled), or a prefix ending with a dot (person.)' },
  from: { type: 'string', description: 'at or after (ISO 8601 date or time)' },
  to: { type: 'string', description: 'before (ISO 8601 date or time)' },
};

async function scopeOf(runtime: Runtime, flags: Flags): Promise<AuditScope> {
  const name = stringFlag(flags, 'org');
  return name === undefined ? 'instance' : { organisationId: (await findOrganisationByName(runtime.db, name)).id };
}

const rawFilters = (flags: Flags): RawAuditFilters => ({
  person: stringFlag(flags, 'person'),
  actor: stringFlag(flags, 'actor'),
  action: stringFlag(flags, 'action'),
  from: stringFlag(flags, 'from') ?? stringFlag(flags, 'since'),
  to: stringFlag(flags, 'to'),
});

export const searchAuditCommand = defineCommand({
  path: ['audit', 'search'],
  summary: 'audit entries, newest first, a page at a time (the same filters as the admin API)',
  flags: {
    ...searchFlags,
    cursor: { type: 'string', description: 'the next_cursor of the previous page' },
    limit: { type: 'string', description: 'entries per page (1 to 200, default 50)' },
  },
  async run(flags, io) {
    const runtime = await io.runtime();
    const scope = await scopeOf(runtime, flags);
    return searchAudit(runtime.db, scope, await readAuditFilters(runtime.db, scope, rawFilters(flags)), { cursor: stringFlag(flags, 'cursor'), limit: integerFlag(flags, 'limit') });
  },
  format: (r) =>
    [
      ...r.entries.map((e) => `${e.at}  ${e.outcome === 'failure' ? 'FAILED ' : ''}${e.action}  by ${e.actor}${e.subject ? `  on ${e.subject}` : ''}  ${JSON.stringify(e.details)}`),
      ...(r.entries.length === 0 ? ['No entry matches.'] : []),
      ...(r.next_cursor ? [`More: --cursor ${r.next_cursor}`] : []),
    ].join('\n'),
});

export const exportAuditCommand = defineCommand({
  path: ['audit', 'export'],
  summary: 'write audit entries as JSON lines, oldest first (the same filters as audit search; the export is audited)',
  flags: {
    since: { type: 'string', description: 'the same as --from (ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T08:00:00Z)' },
    ...searchFlags,
  },
  async run(flags, io) {
    const since = stringFlag(flags, 'since');
    if (since !== undefined) dateFlag(flags, 'since');
    if (since !== undefined && stringFlag(flags, 'from') !== undefined) throw new CliUsageError('give --since or --from, not both');
    const runtime = await io.runtime();
    const scope = await scopeOf(runtime, flags);
    // The operator's export is not capped: it writes to a file of their choosing, not through a server's memory.
    const exported = await exportAuditEntries(runtime, { actor: 'cli' }, scope, await readAuditFilters(runtime.db, scope, rawFilters(flags)), { maxRows: Number.MAX_SAFE_INTEGER });
    for await (const entry of exported.entries) io.write(auditLine(entry));
    return { exported: exported.rows, ...(since !== undefined ? { since: new Date(since).toISOString() } : {}), ...(scope === 'instance' ? {} : { organisation: stringFlag(flags, 'org') }) };
  },
  format: () => '',
});

export const archiveAuditCommand = defineCommand({
  path: ['audit', 'archive'],
  summary: 'move sealed audit entries older than a date into a file (written and flushed first), then delete them; audited',
  flags: {
    before: { type: 'string', description: 'ISO 8601 date or time: entries dated before it are archived', required: true },
    out: { type: 'string', file: true, description: 'the archive file to create (never overwritten)', required: true },
  },
  async run(flags, io) {
    const before = dateFlag(flags, 'before');
    const runtime = await io.runtime();
    return archiveAuditLog(runtime, { actor: 'cli' }, { before, file: stringFlag(flags, 'out')! });
  },
  format: (r) => `archived ${r.entries} entries (${r.after_seq + 1}–${r.through_seq}) to ${r.file}, sha256 ${r.file_sha256}; the chain now starts after ${r.head_hash}`,
});
