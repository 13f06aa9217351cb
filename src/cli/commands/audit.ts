import { exportAudit, sealAuditLog, verifyAuditChain } from '../../audit/audit.js';
import { CliUsageError, defineCommand, stringFlag } from '../command.js';

export const verifyAuditCommand = defineCommand({
  path: ['audit', 'verify'],
  summary: 'walk the audit hash chain and report the first broken link (exit 1 if broken)',
  flags: { seal: { type: 'boolean', description: 'first seal entries not yet linked (as a running server does every second)' } },
  async run(flags, io) {
    const runtime = await io.runtime();
    if (flags.seal) while ((await sealAuditLog(runtime.db, runtime)) > 0);
    return verifyAuditChain(runtime.db, runtime);
  },
  exitCode: (r) => (r.ok ? 0 : 1),
  format: (r) => {
    const chain = r.brokenAt
      ? `audit chain BROKEN at entry ${r.brokenAt.seq}${r.brokenAt.id !== null ? ` (id ${r.brokenAt.id})` : ''}: ${r.brokenAt.reason}. ${r.sealed} entries before it verify; ${r.unsealed} not yet sealed.`
      : `audit chain ${r.ok ? 'intact' : 'links hold'}: ${r.sealed} sealed entries, head ${r.headHash ?? '(empty)'}; ${r.unsealed} not yet sealed`;
    const refused = r.refused.map((entry) => `\nREFUSED row id ${entry.id} (${entry.action}, dated ${entry.at}): ${entry.reason}`).join('');
    return chain + refused;
  },
});

export const exportAuditCommand = defineCommand({
  path: ['audit', 'export'],
  summary: 'write audit entries since a time as JSON lines',
  flags: { since: { type: 'string', description: 'ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T08:00:00Z', required: true } },
  async run(flags, io) {
    const raw = stringFlag(flags, 'since')!;
    const since = new Date(raw);
    if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(since.getTime())) throw new CliUsageError(`--since expects an ISO 8601 date, got "${raw}"`);
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
