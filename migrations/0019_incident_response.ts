import { type Kysely, sql } from 'kysely';

/**
 * Incident response (src/incident/): a client can be suspended and resumed; a
 * signing key can be withdrawn at once; and a security event may be about the
 * instance rather than one user (a withdrawn signing key), so its user is optional.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('suspended_at', 'timestamptz')
    .addColumn('suspended_reason', 'text')
    .addColumn('suspended_by', 'text')
    .execute();
  await db.schema.alterTable('signing_keys').addColumn('withdrawn_at', 'timestamptz').execute();
  await sql`alter table security_events alter column user_id drop not null`.execute(db);
  await sql`alter table set_outbox alter column user_id drop not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from set_outbox where user_id is null`.execute(db);
  await sql`delete from security_events where user_id is null`.execute(db);
  await sql`alter table set_outbox alter column user_id set not null`.execute(db);
  await sql`alter table security_events alter column user_id set not null`.execute(db);
  await db.schema.alterTable('signing_keys').dropColumn('withdrawn_at').execute();
  await db.schema.alterTable('oauth_clients').dropColumn('suspended_at').dropColumn('suspended_reason').dropColumn('suspended_by').execute();
}
