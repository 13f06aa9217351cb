import { sql, type Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { assertEmailInDomains } from '../authority/email-domains.js';
import type { Database, Role } from '../db/schema.js';
import { conflict, WartaError } from '../errors.js';
import { getOrganisation } from '../orgs/service.js';
import type { InvitationCsvRow } from './csv.js';
import { type CheckedInvitation, checkInvitationValues, storeInvitation, userExists } from './service.js';

interface BulkDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  config: Pick<Config, 'issuer' | 'invitations'>;
}

/** Who invites: an organisation admin (domain list, two-admin rule) or the instance operator (CLI), bound by neither, as with one invitation. */
export type BulkInviter = { kind: 'admin'; userId: string } | { kind: 'client'; clientId: string } | { kind: 'operator' };

export interface BulkRowResult {
  line: number;
  username: string | null;
  status: 'would_invite' | 'invited' | 'awaiting_approval' | 'refused';
  error?: string;
  error_description?: string;
  invitation_id?: string;
  /** Only in the answer that invited the row, and only when usable at once. */
  link?: string;
}

export interface BulkInvitationResult {
  dry_run: boolean;
  /** True only when every row was invited; a refused row means nothing was written. */
  applied: boolean;
  counts: { rows: number; would_invite: number; invited: number; awaiting_approval: number; refused: number };
  rows: BulkRowResult[];
}

const refusedRow = (line: number, username: string | null, error: WartaError): BulkRowResult => ({ line, username, status: 'refused', error: error.code, error_description: error.description });

/**
 * Invites everyone a CSV file names, with the rules one invitation has, plus
 * two a file needs: no person twice in the file, and none with an invitation
 * still pending. A dry run writes nothing and says what each row would get. A
 * confirmed run is all-or-nothing: one refused row and nothing is invited (the
 * refusal is audited once), else every row in one transaction, each audited as
 * usual and the whole once more (`invitation.bulk_created`).
 */
export async function inviteInBulk(
  deps: BulkDeps,
  context: AuditContext,
  input: { organisationId: string; actor: BulkInviter; rows: readonly InvitationCsvRow[]; dryRun: boolean },
): Promise<BulkInvitationResult> {
  const organisation = await getOrganisation(deps.db, input.organisationId);
  const createdBy = input.actor.kind === 'admin' ? input.actor.userId : null;
  const createdByClient = input.actor.kind === 'client' ? input.actor.clientId : null;
  const checked: (CheckedInvitation | null)[] = [];
  const results: BulkRowResult[] = [];
  const firstLineOf = new Map<string, number>();
  for (const row of input.rows) {
    try {
      const invitation = checkInvitationValues(deps, { organisationId: organisation.id, displayName: row.displayName, email: row.email, employeeId: row.employeeId, role: row.role as Role, createdBy, createdByClient });
      if ((createdBy || createdByClient) && invitation.email) assertEmailInDomains(organisation, invitation.email);
      const keys = [invitation.username, invitation.employeeId].filter((key): key is string => key !== null).map((key) => key.toLowerCase());
      const earlier = keys.map((key) => firstLineOf.get(key)).find((line) => line !== undefined);
      if (earlier !== undefined) throw conflict('duplicate_row', `the same person as on line ${earlier}`);
      for (const key of keys) firstLineOf.set(key, row.line);
      checked.push(invitation);
      results.push({ line: row.line, username: invitation.username, status: 'would_invite' });
    } catch (error) {
      if (!(error instanceof WartaError)) throw error;
      checked.push(null);
      results.push(refusedRow(row.line, row.email ?? row.employeeId, error));
    }
  }

  const usernames = checked.flatMap((invitation) => (invitation ? [invitation.username.toLowerCase()] : []));
  const { existing, pending } = await takenUsernames(deps.db, deps.clock.now(), usernames);
  checked.forEach((invitation, index) => {
    if (!invitation) return;
    const username = invitation.username.toLowerCase();
    const problem = existing.has(username) ? userExists(invitation.username) : pending.has(username) ? conflict('invitation_pending', `an invitation for "${invitation.username}" is still pending`) : null;
    if (problem) {
      results[index] = refusedRow(results[index]!.line, invitation.username, problem);
      checked[index] = null;
    }
  });

  const refused = results.filter((row) => row.status === 'refused');
  const counts = (over: BulkRowResult[]) => ({
    rows: over.length,
    would_invite: over.filter((row) => row.status === 'would_invite').length,
    invited: over.filter((row) => row.status === 'invited').length,
    awaiting_approval: over.filter((row) => row.status === 'awaiting_approval').length,
    refused: over.filter((row) => row.status === 'refused').length,
  });
  if (input.dryRun) return { dry_run: true, applied: false, counts: counts(results), rows: results };
  if (refused.length > 0) {
    await appendAudit(deps.db, deps, context, {
      action: 'invitation.bulk_refused',
      subject: `org:${organisation.id}`,
      outcome: 'failure',
      details: { rows: results.length, refused: refused.slice(0, 50).map((row) => ({ line: row.line, reason: row.error })) },
    });
    return { dry_run: false, applied: false, counts: counts(results), rows: results };
  }

  const invited = await deps.db.transaction().execute(async (trx) => {
    const rows: BulkRowResult[] = [];
    for (const [index, invitation] of (checked as CheckedInvitation[]).entries()) {
      const issued = await storeInvitation(trx, deps, context, invitation);
      rows.push({
        line: results[index]!.line,
        username: invitation.username,
        status: issued.link ? 'invited' : 'awaiting_approval',
        invitation_id: issued.invitation.id,
        ...(issued.link ? { link: issued.link } : {}),
      });
    }
    const summary = counts(rows);
    await appendAudit(trx, deps, context, {
      action: 'invitation.bulk_created',
      subject: `org:${organisation.id}`,
      details: { rows: summary.rows, invited: summary.invited, awaiting_approval: summary.awaiting_approval, by: createdBy ? `user:${createdBy}` : createdByClient ? `client:${createdByClient}` : 'cli' },
    });
    return rows;
  });
  return { dry_run: false, applied: true, counts: counts(invited), rows: invited };
}

/** Of these lower-cased usernames, the ones a user has, and the ones an invitation still usable or awaiting approval leads to. */
async function takenUsernames(db: Kysely<Database>, now: Date, usernames: string[]): Promise<{ existing: Set<string>; pending: Set<string> }> {
  if (usernames.length === 0) return { existing: new Set(), pending: new Set() };
  const users = await db.selectFrom('users').select(sql<string>`lower(username)`.as('name')).where(sql`lower(username)`, 'in', usernames).execute();
  const invitations = await db
    .selectFrom('invitations')
    .select(sql<string>`lower(coalesce(email, employee_id))`.as('name'))
    .where(sql`lower(coalesce(email, employee_id))`, 'in', usernames)
    .where('redeemed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .execute();
  return { existing: new Set(users.map((row) => row.name)), pending: new Set(invitations.map((row) => row.name)) };
}
