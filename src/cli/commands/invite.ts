import { readFileSync } from 'node:fs';
import type { Role } from '../../db/schema.js';
import { type BulkInvitationResult, inviteInBulk } from '../../invitations/bulk.js';
import { parseInvitationCsv } from '../../invitations/csv.js';
import { createInvitation } from '../../invitations/service.js';
import { CliUsageError, type Flags, integerFlag, stringFlag } from '../command.js';
import { defineOrganisationCommand } from '../organisation-command.js';

interface SingleInvitation {
  invitation: { id: string; organisation: string; display_name: string; role: string; expires_at: string };
  link: string;
}

type BulkInvitation = BulkInvitationResult & { organisation: string };

const ONE_PERSON_FLAGS = ['display-name', 'email', 'employee-id', 'role', 'ttl-hours'];

function csvFile(flags: Flags, file: string): string {
  const given = ONE_PERSON_FLAGS.filter((name) => flags[name] !== undefined);
  if (given.length) throw new CliUsageError(`--csv takes everyone from the file; drop --${given.join(', --')}`);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliUsageError(`cannot read --csv "${file}": ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

const isBulk = (result: SingleInvitation | BulkInvitation): result is BulkInvitation => 'rows' in result;

function bulkTable(result: BulkInvitation): string {
  const header = result.dry_run
    ? `Dry run for ${result.organisation}: ${result.counts.would_invite} of ${result.counts.rows} rows would be invited, ${result.counts.refused} refused; nothing was written.`
    : result.applied
      ? `Invited into ${result.organisation}: ${result.counts.invited} with a link, ${result.counts.awaiting_approval} awaiting a second admin. Hand each link over in person or over a trusted channel; each works once and is shown only now.`
      : `Nothing was invited into ${result.organisation}: ${result.counts.refused} of ${result.counts.rows} rows are refused. Fix them and run again.`;
  const lines = result.rows.map((row) => [String(row.line).padStart(5), row.status.padEnd(17), (row.username ?? '-').padEnd(32), row.link ?? (row.error ? `${row.error}: ${row.error_description}` : '')].join('  ').trimEnd());
  return [header, `${'line'.padStart(5)}  ${'status'.padEnd(17)}  ${'username'.padEnd(32)}  link or reason`, ...lines].join('\n');
}

export const inviteCommand = defineOrganisationCommand<SingleInvitation | BulkInvitation>({
  path: ['invite'],
  summary: 'invite a named person (or everyone a CSV file names) into an organisation; prints the single-use enrollment links',
  flags: {
    // The same name as the API's field and the CSV column: display_name.
    'display-name': { type: 'string', description: "the person's display name (required without --csv)" },
    email: { type: 'string', description: 'e-mail address (becomes the username)' },
    'employee-id': { type: 'string', description: 'employee id (the username when no e-mail is given)' },
    role: { type: 'string', description: 'member (default), recovery_officer or admin' },
    'ttl-hours': { type: 'string', description: 'hours until the link expires (default WARTA_INVITATION_TTL_HOURS, 72)' },
    csv: { type: 'string', file: true, description: 'a CSV file with a header naming display_name, email, employee_id, role: invites every row, or none if any is refused' },
    'dry-run': { type: 'boolean', description: 'with --csv: check every row and write nothing' },
  },
  async run(flags, io) {
    const file = stringFlag(flags, 'csv');
    if (file !== undefined) {
      const text = csvFile(flags, file);
      const { runtime, organisation } = await io.openOrganisation();
      const rows = parseInvitationCsv(text, { maxBytes: runtime.config.http.bodyLimitBytes });
      // The operator is bound by neither the domain list nor the two-admin rule, as with one `warta invite`.
      const result = await inviteInBulk(runtime, { actor: 'cli' }, { organisationId: organisation.id, actor: { kind: 'operator' }, rows, dryRun: flags['dry-run'] === true });
      return { organisation: organisation.name, ...result };
    }
    if (flags['dry-run'] !== undefined) throw new CliUsageError('--dry-run goes with --csv');
    const name = stringFlag(flags, 'display-name');
    if (name === undefined) throw new CliUsageError('--display-name is required');
    const { runtime, organisation } = await io.openOrganisation();
    const ttlHours = integerFlag(flags, 'ttl-hours');
    const issued = await createInvitation(runtime, { actor: 'cli' }, {
      organisationId: organisation.id,
      displayName: name,
      email: stringFlag(flags, 'email') ?? null,
      employeeId: stringFlag(flags, 'employee-id') ?? null,
      role: (stringFlag(flags, 'role') ?? 'member') as Role,
      ...(ttlHours === undefined ? {} : { ttlSeconds: ttlHours * 3600 }),
    });
    return {
      invitation: { id: issued.invitation.id, organisation: organisation.name, display_name: issued.invitation.display_name, role: issued.invitation.role, expires_at: issued.invitation.expires_at.toISOString() },
      link: issued.link,
    };
  },
  format: (r) =>
    isBulk(r)
      ? bulkTable(r)
      : `Invitation for ${r.invitation.display_name} (${r.invitation.role}, ${r.invitation.organisation}), valid until ${r.invitation.expires_at}.\nHand this link to them in person or over a trusted channel; it works once:\n${r.link}`,
  exitCode: (r) => (isBulk(r) && r.counts.refused > 0 ? 1 : 0),
});
