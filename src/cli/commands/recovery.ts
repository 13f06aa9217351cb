import type { CaseView } from '../../recovery/cases.js';
import { exportRecoveryCases, listRecoveryCases, type RawCaseFilters, readCaseFilters, recoveryReport } from '../../recovery/report.js';
import { type Flags, type FlagSpec, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

const FILTER_FLAGS: Record<string, FlagSpec> = {
  status: { type: 'string', description: 'comma-separated statuses: pending, approved, redeemed, completed, rejected, cancelled, expired, locked' },
  since: { type: 'string', description: 'cases opened at or after this ISO 8601 date or time' },
  until: { type: 'string', description: 'cases opened before this ISO 8601 date or time' },
  officer: { type: 'string', description: 'an officer (username or id) who opened, approved or closed the case' },
  user: { type: 'string', description: 'the person recovered (username or id)' },
};

const filtersOf = (flags: Flags): RawCaseFilters => ({
  status: stringFlag(flags, 'status'),
  from: stringFlag(flags, 'since'),
  to: stringFlag(flags, 'until'),
  officer: stringFlag(flags, 'officer'),
  user: stringFlag(flags, 'user'),
  limit: stringFlag(flags, 'limit'),
});

const describe = (c: CaseView) =>
  `${c.id}  ${c.status.padEnd(9)}  ${c.user.username}  opened ${c.opened.at} by ${c.opened.by?.username} at ${c.opened.desk}` +
  (c.approved ? `; approved ${c.approved.at} by ${c.approved.by?.username} at ${c.approved.desk}` : '') +
  (c.closed ? `; closed ${c.closed.at} (${c.closed.reason})` : '');

export const listRecoveryCasesCommand = defineOrganisationCommand({
  path: ['recovery', 'list'],
  summary: "list an organisation's recovery cases, newest first",
  flags: { ...FILTER_FLAGS, limit: { type: 'string', description: 'at most this many cases (default 100, at most 1000)' } },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return { cases: await listRecoveryCases(runtime.db, organisation.id, await readCaseFilters(runtime.db, organisation.id, filtersOf(flags))) };
  },
  format: (r) => (r.cases.length ? r.cases.map(describe).join('\n') : 'No recovery cases.'),
});

export const exportRecoveryCasesCommand = defineOrganisationCommand({
  path: ['recovery', 'export'],
  summary: "write an organisation's recovery cases as JSON lines (audited)",
  flags: FILTER_FLAGS,
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    const cases = await exportRecoveryCases(runtime, { actor: 'cli' }, organisation.id, filtersOf(flags));
    for (const view of cases) io.write(`${JSON.stringify(view)}\n`);
    return { exported: cases.length, organisation: organisation.name };
  },
  format: () => '',
});

export const recoveryReportCommand = defineOrganisationCommand({
  path: ['recovery', 'report'],
  summary: "count an organisation's recovery cases opened in a period: by outcome, by desk, by officer",
  flags: { since: FILTER_FLAGS.since!, until: FILTER_FLAGS.until! },
  async run(flags, io) {
    const { runtime, organisation } = await io.openOrganisation();
    return recoveryReport(runtime.db, organisation.id, { from: stringFlag(flags, 'since'), to: stringFlag(flags, 'until') });
  },
  format: (r) =>
    [
      `${r.total} case(s) opened ${r.from ? `from ${r.from}` : 'since the start'}${r.to ? ` until ${r.to}` : ''}: ${Object.entries(r.by_status).map(([status, n]) => `${status} ${n}`).join(', ') || 'none'}`,
      ...r.by_desk.map((d) => `desk ${d.desk}: ${d.total} (${Object.entries(d.by_status).map(([status, n]) => `${status} ${n}`).join(', ')})`),
      ...r.by_officer.map((o) => `${o.username}: opened ${o.opened}, approved ${o.approved}, co-approved ${o.co_approved}, closed ${o.closed}`),
    ].join('\n'),
});
