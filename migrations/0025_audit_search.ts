import { type Kysely, sql } from 'kysely';

/**
 * Indexes for the admin's audit search (src/audit/search.ts) and the personal
 * data retention job (src/privacy/retention.ts); measured with EXPLAIN on
 * PGlite, see docs/admin.md.
 *
 * Audit search: entries about one person (`subject`) or by one actor, each with
 * `id` so a page is read newest first from the index. No index on `action`: a
 * prefix like `person.` matches a large share of the log, where reading the
 * primary key backwards was as fast, and every index slows every append.
 *
 * Retention: each index holds only rows that still carry an address or user
 * agent, so a row leaves it once blanked and a round reads only what is left to
 * blank instead of the whole table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index audit_log_subject_idx on audit_log (subject, id)`.execute(db);
  await sql`create index audit_log_actor_idx on audit_log (actor, id)`.execute(db);
  await sql`create index sessions_address_ended_idx on sessions (least(revoked_at, expires_at, idle_expires_at)) where ip is not null or user_agent is not null`.execute(db);
  await sql`create index devices_address_used_idx on devices (last_used_at) where user_agent is not null or first_ip is not null or last_ip is not null`.execute(db);
  await sql`create index security_events_address_idx on security_events (occurred_at) where ip is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ['security_events_address_idx', 'devices_address_used_idx', 'sessions_address_ended_idx', 'audit_log_actor_idx', 'audit_log_subject_idx'])
    await sql`drop index if exists ${sql.id(index)}`.execute(db);
}
