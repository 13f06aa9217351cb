import { type Kysely, sql } from 'kysely';

/**
 * Each client's own security profile (`baseline`, today's behaviour, or `fapi2`,
 * the FAPI 2.0 Security Profile) and its RFC 9126 §6 `require_pushed_authorization_requests`
 * metadata. Existing clients keep working exactly as before: baseline, PAR optional.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oauth_clients').addColumn('security_profile', 'text', (c) => c.notNull().defaultTo('baseline')).execute();
  await db.schema.alterTable('oauth_clients').addColumn('require_pushed_authorization_requests', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await sql`alter table oauth_clients add constraint oauth_clients_security_profile check (security_profile in ('baseline', 'fapi2'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table oauth_clients drop constraint oauth_clients_security_profile`.execute(db);
  await db.schema.alterTable('oauth_clients').dropColumn('require_pushed_authorization_requests').execute();
  await db.schema.alterTable('oauth_clients').dropColumn('security_profile').execute();
}
