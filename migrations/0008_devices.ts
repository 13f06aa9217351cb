import { type Kysely, sql } from 'kysely';

/**
 * Devices (src/devices/): what the user sees of each refresh-token family
 * (oauth_grants row). The grant stays the source of truth for whether the device
 * is signed in; this row only adds its name, platform and where it was last used.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('devices')
    .addColumn('grant_id', 'uuid', (c) => c.primaryKey().references('oauth_grants.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('first_ip', 'text')
    .addColumn('last_ip', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('devices_user_idx').on('devices').column('user_id').execute();
  // The account page's "last 30 sign-ins" reads audit_log by subject; without this it scans the log.
  await sql`create index audit_log_signin_idx on audit_log (subject, id desc) where action like 'signin.%'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists audit_log_signin_idx`.execute(db);
  await db.schema.dropTable('devices').ifExists().execute();
}
