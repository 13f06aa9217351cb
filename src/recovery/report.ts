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
