import { type Kysely, sql } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { type Database, OPEN_RECOVERY_STATUSES, type RecoveryCase, type User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../deps.js';

export interface PersonMatch {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  employee_id: string | null;
  status: User['status'];
  /** The person's open case, if any: a second one cannot be opened. */
  open_case_id: string | null;
}

const MAX_RESULTS = 20;

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * People of the officer's own organisation matching a name, e-mail, username or
 * employee number. Searches are audited: looking people up is how a rogue
 * officer would start.
 */
export async function searchPeople(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, officer: Pick<User, 'id' | 'organisation_id'>, query: string): Promise<PersonMatch[]> {
  const text = query.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
  if (text.length < 2 || text.length > 100) throw new WartaError(400, 'invalid_request', 'search for 2 to 100 characters of a name, e-mail or employee number');
  const pattern = likePattern(text);
  const rows = await deps.db
    .selectFrom('users as u')
    .leftJoin('recovery_cases as rc', (join) => join.onRef('rc.user_id', '=', 'u.id').on('rc.status', 'in', OPEN_RECOVERY_STATUSES))
    .select(['u.id', 'u.username', 'u.display_name', 'u.email', 'u.employee_id', 'u.status', 'rc.id as open_case_id'])
    .where('u.organisation_id', '=', officer.organisation_id)
    .where((eb) =>
      eb.or([
        eb(sql`lower(u.display_name)`, 'like', pattern),
        eb(sql`lower(u.username)`, 'like', pattern),
        eb(sql`lower(coalesce(u.email, ''))`, 'like', pattern),
        eb(sql`lower(coalesce(u.employee_id, ''))`, '=', text),
      ]),
    )
    .orderBy('u.display_name')
    .orderBy('u.id')
    .limit(MAX_RESULTS)
    .execute();
  await appendAudit(deps.db, deps, context, { action: 'recovery.people_searched', subject: null, details: { query: text, results: rows.length } });
  return rows;
}

/** A person of the officer's organisation, for the form that opens a case. */
export async function findPersonForOfficer(db: Kysely<Database>, officer: Pick<User, 'organisation_id'>, userId: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', userId).where('organisation_id', '=', officer.organisation_id).executeTakeFirst();
}

/** The user's open cases, newest first: what their account page warns about. */
export async function openCasesOf(db: Kysely<Database>, userId: string): Promise<RecoveryCase[]> {
  return db.selectFrom('recovery_cases').selectAll().where('user_id', '=', userId).where('status', 'in', OPEN_RECOVERY_STATUSES).orderBy('opened_at', 'desc').execute();
}

/** An open case as its user sees it: where and when, never who the officers were or what was checked. */
export const userCaseView = (recoveryCase: RecoveryCase) => ({
  id: recoveryCase.id,
  status: recoveryCase.status,
  opened_desk: recoveryCase.opened_desk,
  opened_at: recoveryCase.opened_at.toISOString(),
  approved_desk: recoveryCase.approved_desk,
  approved_at: recoveryCase.approved_at?.toISOString() ?? null,
  code_expires_at: recoveryCase.code_expires_at?.toISOString() ?? null,
  expires_at: recoveryCase.expires_at.toISOString(),
});
