/**
 * The people of one organisation, a page at a time, each with their roles and
 * sign-in methods: one query per page (the counts are correlated sub-queries,
 * not a query per person). Ordered by display name then id, so a cursor (the
 * last row's pair) pages stably while people are added.
 */
import { decodeCursor, encodeCursor } from '../db/cursor.js';
import { sql } from 'kysely';
import { type Db, type Role, ROLES, USER_STATUSES, type UserStatus } from '../db/schema.js';
import { invalidRequest } from '../errors.js';

export interface PeopleFilter {
  query?: string | undefined;
  role?: string | undefined;
  status?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface PersonRow {
  id: string;
  display_name: string;
  username: string;
  email: string | null;
  employee_id: string | null;
  roles: Role[];
  status: UserStatus;
  last_sign_in: string | null;
  methods: { passkeys: number; password: boolean; totp: boolean };
}

export const MAX_PAGE = 100;
const MAX_QUERY = 100;

const likePattern = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listPeople(db: Db, organisationId: string, filter: PeopleFilter = {}): Promise<{ people: PersonRow[]; next_cursor: string | null }> {
  const limit = filter.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalidRequest(`limit must be 1 to ${MAX_PAGE}`);
  const query = filter.query?.trim() || undefined;
  if (query && query.length > MAX_QUERY) throw invalidRequest(`query is at most ${MAX_QUERY} characters`);
  if (filter.role !== undefined && !ROLES.includes(filter.role as Role)) throw invalidRequest(`role is one of ${ROLES.join(', ')}`);
  if (filter.status !== undefined && !USER_STATUSES.includes(filter.status as UserStatus)) throw invalidRequest(`status is one of ${USER_STATUSES.join(', ')}`);
  const after = filter.cursor ? (decodeCursor(filter.cursor, 2) as [string, string]) : undefined;

  const rows = await db
    .selectFrom('users as u')
    .select([
      'u.id',
      'u.display_name',
      'u.username',
      'u.email',
      'u.employee_id',
      'u.status',
      sql<string>`lower(u.display_name)`.as('sort_name'),
      sql<Role[]>`array(select r.role from user_roles r where r.user_id = u.id order by r.role)`.as('roles'),
      sql<Date | null>`(select max(s.created_at) from sessions s where s.user_id = u.id)`.as('last_sign_in'),
      sql<number>`(select count(*) from webauthn_credentials w where w.user_id = u.id and w.revoked_at is null and w.blocked_at is null)::int`.as('passkeys'),
      sql<boolean>`exists (select 1 from password_credentials p where p.user_id = u.id)`.as('password'),
      sql<boolean>`exists (select 1 from totp_credentials t where t.user_id = u.id)`.as('totp'),
    ])
    .where('u.organisation_id', '=', organisationId)
    .$if(query !== undefined, (qb) =>
      qb.where(sql<boolean>`(lower(u.display_name) like ${likePattern(query!)} or lower(u.username) like ${likePattern(query!)} or lower(coalesce(u.email, '')) like ${likePattern(query!)} or lower(coalesce(u.employee_id, '')) like ${likePattern(query!)})`),
    )
    .$if(filter.role !== undefined, (qb) => qb.where(sql<boolean>`exists (select 1 from user_roles r where r.user_id = u.id and r.role = ${filter.role!})`))
    .$if(filter.status !== undefined, (qb) => qb.where('u.status', '=', filter.status as UserStatus))
    .$if(after !== undefined, (qb) => qb.where(sql<boolean>`(lower(u.display_name), u.id) > (${after![0]}, ${after![1]}::uuid)`))
    .orderBy(sql`lower(u.display_name)`)
    .orderBy('u.id')
    .limit(limit + 1)
    .execute();

  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    people: page.map((row) => ({
      id: row.id,
      display_name: row.display_name,
      username: row.username,
      email: row.email,
      employee_id: row.employee_id,
      roles: row.roles,
      status: row.status,
      last_sign_in: row.last_sign_in ? new Date(row.last_sign_in).toISOString() : null,
      methods: { passkeys: Number(row.passkeys), password: Boolean(row.password), totp: Boolean(row.totp) },
    })),
    next_cursor: rows.length > limit && last ? encodeCursor([last.sort_name, last.id]) : null,
  };
}
