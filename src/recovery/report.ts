import { type Kysely, sql } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Database, RecoveryCaseStatus } from '../db/schema.js';
import { notFound, WartaError } from '../errors.js';
import { caseView, type CaseView, casesWithPeople, isUuid } from './cases.js';

const STATUSES: readonly RecoveryCaseStatus[] = ['pending', 'approved', 'redeemed', 'completed', 'rejected', 'cancelled', 'expired', 'locked', 'disputed'];
const MAX_LIMIT = 1000;
const MAX_EXPORT = 100_000;

/** Report filters as the admin API's query and the CLI's flags give them. */
export interface RawCaseFilters {
  status?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  officer?: string | undefined;
  user?: string | undefined;
  limit?: string | undefined;
}

export interface CaseFilters {
  statuses: RecoveryCaseStatus[] | undefined;
  /** Opened at or after. */
  from: Date | undefined;
  /** Opened before. */
  to: Date | undefined;
  /** Opened, approved or closed the case. */
  officerId: string | undefined;
  userId: string | undefined;
  limit: number;
}

const badFilter = (description: string) => new WartaError(400, 'invalid_request', description);

function readDate(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const date = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(date.getTime())) throw badFilter(`${name} must be an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T08:00:00Z`);
  return date;
}

/** A person of the organisation by id or username; filtering on someone who does not exist is a mistake worth saying. */
async function personId(db: Kysely<Database>, organisationId: string, raw: string | undefined): Promise<string | undefined> {
  if (raw === undefined || raw === '') return undefined;
  const byId = isUuid(raw);
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .$if(byId, (qb) => qb.where('id', '=', raw.toLowerCase()))
    .$if(!byId, (qb) => qb.where(sql`lower(username)`, '=', raw.trim().toLowerCase()))
    .executeTakeFirst();
  if (!row) throw notFound('user_not_found', `no person "${raw}" in this organisation`);
  return row.id;
}

export async function readCaseFilters(db: Kysely<Database>, organisationId: string, raw: RawCaseFilters, options: { maxLimit?: number } = {}): Promise<CaseFilters> {
  const statuses = raw.status ? raw.status.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  for (const status of statuses ?? []) if (!(STATUSES as readonly string[]).includes(status)) throw badFilter(`status must be one or more of ${STATUSES.join(', ')}`);
  const maxLimit = options.maxLimit ?? MAX_LIMIT;
  let limit = Math.min(100, maxLimit);
  if (raw.limit !== undefined && raw.limit !== '') {
    if (!/^\d+$/.test(raw.limit) || Number(raw.limit) < 1 || Number(raw.limit) > maxLimit) throw badFilter(`limit must be a whole number from 1 to ${maxLimit}`);
    limit = Number(raw.limit);
  }
  return {
    statuses: statuses as RecoveryCaseStatus[] | undefined,
    from: readDate('from', raw.from),
    to: readDate('to', raw.to),
    officerId: await personId(db, organisationId, raw.officer),
    userId: await personId(db, organisationId, raw.user),
    limit,
  };
}

/** The organisation's cases matching the filters, newest first. */
export async function listRecoveryCases(db: Kysely<Database>, organisationId: string, filters: CaseFilters): Promise<CaseView[]> {
  const { statuses, from, to, officerId, userId } = filters;
  const rows = await casesWithPeople(db)
    .where('rc.organisation_id', '=', organisationId)
    .$if(statuses !== undefined, (qb) => qb.where('rc.status', 'in', statuses!))
    .$if(from !== undefined, (qb) => qb.where('rc.opened_at', '>=', from!))
    .$if(to !== undefined, (qb) => qb.where('rc.opened_at', '<', to!))
    .$if(userId !== undefined, (qb) => qb.where('rc.user_id', '=', userId!))
    .$if(officerId !== undefined, (qb) => qb.where((eb) => eb.or([eb('rc.opened_by', '=', officerId!), eb('rc.approved_by', '=', officerId!), eb('rc.closed_by', '=', officerId!)])))
    .orderBy('rc.opened_at', 'desc')
    .orderBy('rc.id', 'desc')
    .limit(filters.limit)
    .execute();
  return rows.map(caseView);
}

export const EXPORT_LIMIT = MAX_EXPORT;

/** Every matching case, for an export; the export itself is audited (who took the list of recoveries, and which). */
export async function exportRecoveryCases(deps: { db: Kysely<Database>; clock: { now(): Date }; auditEntryKey: Uint8Array }, context: AuditContext, organisationId: string, raw: RawCaseFilters): Promise<CaseView[]> {
  const filters = await readCaseFilters(deps.db, organisationId, { ...raw, limit: raw.limit ?? String(MAX_EXPORT) }, { maxLimit: MAX_EXPORT });
  const cases = await listRecoveryCases(deps.db, organisationId, filters);
  await appendAudit(deps.db, deps, context, {
    action: 'recovery.cases_exported',
    subject: `org:${organisationId}`,
    details: { count: cases.length, filters: { status: filters.statuses ?? null, from: filters.from?.toISOString() ?? null, to: filters.to?.toISOString() ?? null, officer: filters.officerId ?? null, user: filters.userId ?? null } },
  });
  return cases;
}

export interface RecoveryReport {
  organisation_id: string;
  /** Cases opened at or after (null: from the first). */
  from: string | null;
  /** Cases opened before (null: up to now). */
  to: string | null;
  total: number;
  /** Where each case stands now: its outcome, or still open. */
  by_status: Partial<Record<RecoveryCaseStatus, number>>;
  /** Per desk the case was opened at, its cases by status. */
  by_desk: { desk: string; total: number; by_status: Partial<Record<RecoveryCaseStatus, number>> }[];
  /** Per person who took part: cases they opened, approved (as the second officer), co-approved (as an admin) and closed. */
  by_officer: { id: string; username: string; display_name: string; opened: number; approved: number; co_approved: number; closed: number }[];
}

/**
 * Counts of the organisation's cases opened in a period: by outcome, by desk and
 * by officer. Counts only, no person recovered is named; each officer is, since
 * a desk or officer with an unusual count is what the report is read for.
 */
export async function recoveryReport(db: Kysely<Database>, organisationId: string, raw: { from?: string | undefined; to?: string | undefined }): Promise<RecoveryReport> {
  const from = readDate('from', raw.from);
  const to = readDate('to', raw.to);
  if (from && to && from >= to) throw badFilter('from must be before to');
  const inPeriod = db
    .selectFrom('recovery_cases')
    .where('organisation_id', '=', organisationId)
    .$if(from !== undefined, (qb) => qb.where('opened_at', '>=', from!))
    .$if(to !== undefined, (qb) => qb.where('opened_at', '<', to!));
  const byDeskAndStatus = await inPeriod.select(['opened_desk', 'status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy(['opened_desk', 'status']).orderBy('opened_desk').execute();
  // One row per part a person played in a case (opened, approved, co-approved, closed), counted per person and part.
  // A case the person recovered closed themselves (completing it, disputing it) is not an officer's close: they stay unnamed.
  const { rows: parts } = await sql<{ officer_id: string; part: string; n: number }>`
    select part.officer_id, part.part, count(*)::int as n
    from recovery_cases rc
    cross join lateral (values (rc.opened_by, 'opened'), (rc.approved_by, 'approved'), (rc.admin_approved_by, 'co_approved'), (case when rc.closed_by <> rc.user_id then rc.closed_by end, 'closed')) as part(officer_id, part)
    where rc.organisation_id = ${organisationId} and part.officer_id is not null
      and (${from ?? null}::timestamptz is null or rc.opened_at >= ${from ?? null}::timestamptz)
      and (${to ?? null}::timestamptz is null or rc.opened_at < ${to ?? null}::timestamptz)
    group by 1, 2`.execute(db);
  const officerIds = [...new Set(parts.map((row) => row.officer_id))];
  const people = officerIds.length ? await db.selectFrom('users').select(['id', 'username', 'display_name']).where('id', 'in', officerIds).execute() : [];

  const by_status: Partial<Record<RecoveryCaseStatus, number>> = {};
  const desks = new Map<string, RecoveryReport['by_desk'][number]>();
  for (const row of byDeskAndStatus) {
    const n = Number(row.n);
    by_status[row.status] = (by_status[row.status] ?? 0) + n;
    const desk = desks.get(row.opened_desk) ?? { desk: row.opened_desk, total: 0, by_status: {} };
    desk.total += n;
    desk.by_status[row.status] = n;
    desks.set(row.opened_desk, desk);
  }
  const by_officer = people
    .map((person) => {
      const count = (part: string) => Number(parts.find((row) => row.officer_id === person.id && row.part === part)?.n ?? 0);
      return { id: person.id, username: person.username, display_name: person.display_name, opened: count('opened'), approved: count('approved'), co_approved: count('co_approved'), closed: count('closed') };
    })
    .sort((a, b) => a.username.localeCompare(b.username));
  return {
    organisation_id: organisationId,
    from: from?.toISOString() ?? null,
    to: to?.toISOString() ?? null,
    total: Object.values(by_status).reduce((sum, n) => sum + n, 0),
    by_status,
    by_desk: [...desks.values()],
    by_officer,
  };
}
