import { type Kysely, sql } from 'kysely';

/**
 * Two events for one person often land in the same millisecond (suspended, then
 * resumed; a device linked, then signed out). Event ids are random, so the account
 * page and the tests could show them the wrong way round. A database sequence
 * gives the order they were written in; the per-user advisory lock in raise.ts
 * makes that the order they committed in, across instances.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table security_events add column seq bigint generated always as identity`.execute(db);
  await sql`drop index security_events_user_idx`.execute(db);
  await sql`create index security_events_user_idx on security_events (user_id, occurred_at desc, seq desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index security_events_user_idx`.execute(db);
  await sql`create index security_events_user_idx on security_events (user_id, occurred_at desc)`.execute(db);
  await sql`alter table security_events drop column seq`.execute(db);
}
