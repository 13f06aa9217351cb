import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Database, RecoveryCase, User, Db } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { raiseSecurityEvent } from '../events/raise.js';
import type { InitiatingEntity } from '../events/types.js';
import { notFound, recordingRefusal } from '../errors.js';
import type { Deps } from '../deps.js';


export type RecoveryEvent = 'recovery_opened' | 'recovery_approved' | 'recovery_rejected' | 'recovery_disputed' | 'recovery_expired' | 'account_recovered';

export const caseNotFound = () => notFound('recovery_case_not_found', 'no such recovery case in your organisation');

/** A case id from a URL or body: anything that is not a UUID names no case (and never reaches SQL as one). */
export function caseIdOf(raw: string | undefined): string {
  if (!raw || !isUuid(raw)) throw caseNotFound();
  return raw.toLowerCase();
}

export { isUuid };

/** A case of the officer's own organisation; another organisation's case is "not found", not "forbidden", so ids reveal nothing. */
export async function findOfficerCase(db: Db, officer: Pick<User, 'organisation_id'>, caseId: string): Promise<RecoveryCase> {
  const found = await db.selectFrom('recovery_cases').selectAll().where('id', '=', caseIdOf(caseId)).where('organisation_id', '=', officer.organisation_id).executeTakeFirst();
  if (!found) throw caseNotFound();
  return found;
}

/**
 * A change to a case, recorded as the audit entry and the user's security
 * event, in the transaction that makes it (principle: both or neither).
 */
export async function recordCaseChange(
  trx: Transaction<Database>,
  deps: Pick<Deps, 'clock' | 'auditEntryKey'>,
  context: AuditContext,
  recoveryCase: RecoveryCase,
  input: { action: string; event?: RecoveryEvent; initiatingEntity?: InitiatingEntity; details?: Record<string, unknown> },
): Promise<void> {
  await appendAudit(trx, deps, context, { action: input.action, subject: `user:${recoveryCase.user_id}`, details: { case_id: recoveryCase.id, ...input.details } });
  if (input.event)
    await raiseSecurityEvent(trx, deps.clock, {
      type: input.event,
      userId: recoveryCase.user_id,
      organisationId: recoveryCase.organisation_id,
      details: { caseId: recoveryCase.id },
      ip: context.ip ?? null,
      initiatingEntity: input.initiatingEntity ?? 'admin',
    });
}

/**
 * Runs one officer or user action on a case and audits its refusal (self-approval,
 * a second approval, a stale re-authentication …): a refused recovery step is
 * exactly what an investigation looks for.
 */
export async function auditingRefusal<T>(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, attempt: { action: string; caseId?: string; subject?: string }, run: () => Promise<T>): Promise<T> {
  return recordingRefusal(run, (refusal) =>
    appendAudit(deps.db, deps, context, {
      action: 'recovery.refused',
      subject: attempt.subject ?? null,
      outcome: 'failure',
      details: { attempted: attempt.action, reason: refusal.code, ...(attempt.caseId && isUuid(attempt.caseId) ? { case_id: attempt.caseId.toLowerCase() } : {}) },
    }),
  );
}

/** Cases with the names of everyone involved, for the console and the reports. */
export function casesWithPeople(db: Db) {
  return db
    .selectFrom('recovery_cases as rc')
    .innerJoin('users as u', 'u.id', 'rc.user_id')
    .innerJoin('users as o', 'o.id', 'rc.opened_by')
    .leftJoin('users as a', 'a.id', 'rc.approved_by')
    .leftJoin('users as x', 'x.id', 'rc.closed_by')
    .selectAll('rc')
    .select([
      'u.username as user_username',
      'u.display_name as user_display_name',
      'u.employee_id as user_employee_id',
      'o.username as opener_username',
      'o.display_name as opener_display_name',
      'a.username as approver_username',
      'a.display_name as approver_display_name',
      'x.username as closer_username',
      'x.display_name as closer_display_name',
    ]);
}

export type CaseWithPeople = Awaited<ReturnType<ReturnType<typeof casesWithPeople>['executeTakeFirstOrThrow']>>;

const person = (id: string | null, username: string | null, displayName: string | null) => (id ? { id, username, display_name: displayName } : null);
const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A case as the officer console, the admin report and the CLI show it: never the code's or the grant's hash. */
export function caseView(row: CaseWithPeople) {
  return {
    id: row.id,
    status: row.status,
    user: { id: row.user_id, username: row.user_username, display_name: row.user_display_name, employee_id: row.user_employee_id },
    reason: row.reason,
    identity_check: { document_type: row.document_type, document_last4: row.document_last4, note: row.identity_note },
    opened: { by: person(row.opened_by, row.opener_username, row.opener_display_name), desk: row.opened_desk, at: row.opened_at.toISOString() },
    expires_at: row.expires_at.toISOString(),
    approved: row.approved_at ? { by: person(row.approved_by, row.approver_username, row.approver_display_name), desk: row.approved_desk, at: row.approved_at.toISOString() } : null,
    code: row.code_expires_at ? { expires_at: row.code_expires_at.toISOString(), attempts: Number(row.code_attempts), max_attempts: row.code_max_attempts } : null,
    redeemed_at: iso(row.redeemed_at),
    closed: row.closed_at ? { at: row.closed_at.toISOString(), by: person(row.closed_by, row.closer_username, row.closer_display_name), desk: row.closed_desk, reason: row.close_reason } : null,
  };
}

export type CaseView = ReturnType<typeof caseView>;

export async function findCaseView(db: Db, caseId: string): Promise<CaseView> {
  return caseView(await casesWithPeople(db).where('rc.id', '=', caseId).executeTakeFirstOrThrow());
}
