/**
 * Searching and exporting the audit log, for an organisation's admin (their
 * organisation's entries only) and for the operator (the whole instance, or one
 * organisation with `--org`).
 *
 * Which entries are an organisation's, decided by the entry's subject first:
 * - its subject is one of the organisation's things: `org:<its id>`, `user:` of
 *   one of its people, `client:` / `invitation:` / `event_receiver:` it owns, or
 *   `grant:` held by one of its people;
 * - or it has no subject, or a subject no organisation owns (`key:<kid>`, a
 *   signing key), and its actor is one of the organisation's people or clients.
 * An entry whose subject is another organisation's thing is never this one's,
 * whoever acted: an operator who belongs to organisation A and disables someone
 * in B is on B's record, not A's. Any other subject (an operator's client,
 * kinds added later) is nobody's until this list names it: fail closed.
 * Ownership is read as it is now, and a client can change hands (`warta client
 * assign`): so an entry whose actor is a person of another organisation who is
 * not an operator (the client's former admins, say) is never this one's either.
 * Users, invitations, receivers and grants never change organisation.
 *
 * Pages are newest first in the order entries were appended (`id`): unique and
 * assigned once, so a cursor holding the last id is stable however many entries
 * share a millisecond, and new entries never shift a page already read.
 */
import { type Expression, type SqlBool, sql } from 'kysely';
import type { AuditContext } from './audit.js';
import { appendAudit, exportedEntry } from './audit.js';
import type { AuditEntry, Db } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { isUuid } from '../db/uuid.js';
import { invalidRequest, notFound } from '../errors.js';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;
/** At most this many entries in one admin export; a larger one says it was cut (`truncated`) and the rest is taken with a later `from`. */
export const MAX_EXPORT_ROWS = 100_000;
const EXPORT_PAGE = 1000;

/** The whole instance (the operator at the command line), or one organisation. */
export type AuditScope = { organisationId: string } | 'instance';

/** Filters as the query string and the command line give them. */
export interface RawAuditFilters {
  person?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface AuditFilters {
  /** `user:<id>`: entries about this person. */
  subject: string | undefined;
  /** Exact actor: `user:<id>`, `client:<id>`, `cli`, `system`. */
  actor: string | undefined;
  /** Exact action, or a prefix when it ends with a dot (`person.`). */
  action: string | undefined;
  /** At or after. */
  from: Date | undefined;
  /** Before. */
  to: Date | undefined;
}

export interface AuditEntryView {
  id: number;
  seq: number | null;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  outcome: 'success' | 'failure';
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
}

const ACTOR = /^(?:user:[0-9a-f-]{36}|client:[\w.~-]{1,128}|cli|system|anonymous)$/i;
const ACTION = /^[a-z0-9_]+(?:\.[a-z0-9_]+)*\.?$/;

function readTime(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const at = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(at.getTime())) throw invalidRequest(`${name} must be an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T08:00:00Z`);
  return at;
}

/** Checks the filters' shapes; `person` must name someone of the scope's organisation (404 otherwise, as the people API answers). */
export async function readAuditFilters(db: Db, scope: AuditScope, raw: RawAuditFilters): Promise<AuditFilters> {
  const person = raw.person?.trim() ? raw.person.trim().replace(/^user:/i, '') : undefined;
  if (person !== undefined) {
    const found = isUuid(person)
      ? await db
          .selectFrom('users')
          .select('id')
          .where('id', '=', person.toLowerCase())
          .$if(scope !== 'instance', (qb) => qb.where('organisation_id', '=', (scope as { organisationId: string }).organisationId))
          .executeTakeFirst()
      : undefined;
    if (!found) throw notFound('person_not_found', 'no such person in your organisation');
  }
  const actor = raw.actor?.trim() || undefined;
  if (actor !== undefined && !ACTOR.test(actor)) throw invalidRequest('actor is user:<id>, client:<id>, cli, system or anonymous');
  const action = raw.action?.trim() || undefined;
  if (action !== undefined && (action.length > 100 || !ACTION.test(action))) throw invalidRequest('action is an action name (person.disabled) or a prefix ending with a dot (person.)');
  const from = readTime('from', raw.from);
  const to = readTime('to', raw.to);
  if (from && to && from >= to) throw invalidRequest('from must be before to');
  return { subject: person === undefined ? undefined : `user:${person.toLowerCase()}`, actor: actor?.toLowerCase().startsWith('user:') ? actor.toLowerCase() : actor, action, from, to };
}

/** The subjects that are the organisation's own things (see the top of this file). */
const organisationSubjects = (organisationId: string) => sql`(
  select 'user:' || u.id::text from users u where u.organisation_id = ${organisationId}
  union all select 'client:' || c.client_id from oauth_clients c where c.organisation_id = ${organisationId}
  union all select 'invitation:' || i.id::text from invitations i where i.organisation_id = ${organisationId}
  union all select 'event_receiver:' || r.id::text from event_receivers r where r.organisation_id = ${organisationId}
  union all select 'grant:' || g.id::text from oauth_grants g join users gu on gu.id = g.user_id where gu.organisation_id = ${organisationId}
  union all select 'org:' || ${organisationId}::text
)`;

/** Who can act for the organisation: its people and its clients. */
const organisationActors = (organisationId: string) => sql`(
  select 'user:' || u.id::text from users u where u.organisation_id = ${organisationId}
  union all select 'client:' || c.client_id from oauth_clients c where c.organisation_id = ${organisationId}
)`;

/** The instance's operators, who act on every organisation. */
const operators = sql`(select 'user:' || r.user_id::text from user_roles r where r.role = 'operator')`;

function belongsTo(organisationId: string): Expression<SqlBool> {
  return sql<SqlBool>`(
    (a.subject in ${organisationSubjects(organisationId)} or ((a.subject is null or a.subject like 'key:%') and a.actor in ${organisationActors(organisationId)}))
    and (a.actor not like 'user:%' or a.actor in ${organisationActors(organisationId)} or a.actor in ${operators})
  )`;
}

const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function matching(db: Db, scope: AuditScope, filters: AuditFilters) {
  const { subject, actor, action, from, to } = filters;
  return db
    .selectFrom('audit_log as a')
    .selectAll('a')
    .$if(scope !== 'instance', (qb) => qb.where(belongsTo((scope as { organisationId: string }).organisationId)))
    .$if(subject !== undefined, (qb) => qb.where('a.subject', '=', subject!))
    .$if(actor !== undefined, (qb) => qb.where('a.actor', '=', actor!))
    .$if(action !== undefined && action.endsWith('.'), (qb) => qb.where('a.action', 'like', likePrefix(action!)))
    .$if(action !== undefined && !action.endsWith('.'), (qb) => qb.where('a.action', '=', action!))
    .$if(from !== undefined, (qb) => qb.where('a.at', '>=', from!))
    .$if(to !== undefined, (qb) => qb.where('a.at', '<', to!));
}

/** An entry as the admin API shows it: what happened, without the MAC and chain hashes, which only `audit verify` can use. */
export const auditEntryView = (row: AuditEntry): AuditEntryView => ({
  id: Number(row.id),
  seq: row.seq === null ? null : Number(row.seq),
  at: new Date(row.at).toISOString(),
  actor: row.actor,
  action: row.action,
  subject: row.subject,
  outcome: row.outcome,
  ip: row.ip,
  user_agent: row.user_agent,
  details: row.details,
});

const encodeCursor = (id: number) => Buffer.from(`audit:${id}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const match = /^audit:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw invalidRequest('cursor is not one this server gave out');
  return Number(match[1]);
}

/** One page, newest first; `next_cursor` is null on the last page. */
export async function searchAudit(db: Db, scope: AuditScope, filters: AuditFilters, page: { cursor?: string | undefined; limit?: number | undefined } = {}) {
  const limit = page.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalidRequest(`limit must be 1 to ${MAX_PAGE}`);
  const before = page.cursor ? decodeCursor(page.cursor) : undefined;
  const rows = await matching(db, scope, filters)
    .$if(before !== undefined, (qb) => qb.where('a.id', '<', before!))
    .orderBy('a.id', 'desc')
    .limit(limit + 1)
    .execute();
  const entries = rows.slice(0, limit).map(auditEntryView);
  return { entries, next_cursor: rows.length > limit ? encodeCursor(entries.at(-1)!.id) : null };
}

export interface AuditExport {
  /** Entries the export holds. */
  rows: number;
  /** More entries matched than `rows`: the export holds the oldest of them. */
  truncated: boolean;
  /** The entries, oldest first, as stored (the command line writes them whole, as `audit archive` does; the API shows `auditEntryView`). */
  entries: AsyncGenerator<AuditEntry>;
}

const filtersRecord = (filters: AuditFilters) => ({
  person: filters.subject ?? null,
  actor: filters.actor ?? null,
  action: filters.action ?? null,
  from: filters.from?.toISOString() ?? null,
  to: filters.to?.toISOString() ?? null,
});

/**
 * Counts what matches now, puts the export on record (`audit.exported`, with the
 * filters and the count), then hands back the entries to stream. Everything is
 * read up to the last entry present when the count was taken, so the entries
 * streamed are the ones counted (less any `warta audit archive` moved out
 * meanwhile), and the export's own entry is not in it.
 */
export async function exportAuditEntries(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, scope: AuditScope, filters: AuditFilters, options: { maxRows?: number } = {}): Promise<AuditExport> {
  const maxRows = options.maxRows ?? MAX_EXPORT_ROWS;
  const last = await deps.db.selectFrom('audit_log').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  const throughId = Number(last?.id ?? 0);
  const counted = await deps.db
    .selectFrom(matching(deps.db, scope, filters).where('a.id', '<=', throughId).limit(maxRows + 1).as('m'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const matched = Number(counted.n);
  const rows = Math.min(matched, maxRows);
  const truncated = matched > maxRows;
  await appendAudit(deps.db, deps, context, {
    action: 'audit.exported',
    subject: scope === 'instance' ? null : `org:${scope.organisationId}`,
    details: { filters: filtersRecord(filters), rows, truncated, through_id: throughId },
  });
  async function* entries(): AsyncGenerator<AuditEntry> {
    let afterId = 0;
    let left = rows;
    while (left > 0) {
      const page = await matching(deps.db, scope, filters).where('a.id', '>', afterId).where('a.id', '<=', throughId).orderBy('a.id').limit(Math.min(EXPORT_PAGE, left)).execute();
      for (const row of page) yield exportedEntry(row);
      if (page.length === 0) return;
      left -= page.length;
      afterId = Number(page.at(-1)!.id);
    }
  }
  return { rows, truncated, entries: entries() };
}
