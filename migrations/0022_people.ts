import { type Kysely, sql } from 'kysely';

/**
 * People administration (src/people/): an admin disables a person (and says
 * why), or offboards them: the row stays, so the audit trail keeps its subject
 * and the username is never given to anyone else.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop constraint if exists users_status_check`.execute(db);
  await sql`alter table users add constraint users_status_check check (status in ('active', 'disabled', 'offboarded'))`.execute(db);
  await db.schema.alterTable('users').addColumn('disabled_at', 'timestamptz').addColumn('disabled_by', 'text').addColumn('disabled_reason', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('disabled_at').dropColumn('disabled_by').dropColumn('disabled_reason').execute();
  await sql`update users set status = 'disabled' where status = 'offboarded'`.execute(db);
  await sql`alter table users drop constraint if exists users_status_check`.execute(db);
  await sql`alter table users add constraint users_status_check check (status in ('active', 'disabled'))`.execute(db);
}
