import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('password_credentials')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('totp_credentials')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().unique().references('users.id').onDelete('cascade'))
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull().check(sql`algorithm in ('SHA1', 'SHA256', 'SHA512')`))
    .addColumn('digits', 'integer', (c) => c.notNull().check(sql`digits between 6 and 8`))
    .addColumn('period', 'integer', (c) => c.notNull().check(sql`period between 1 and 300`))
    .addColumn('last_used_step', 'bigint')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('totp_setups')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.unique().references('users.id').onDelete('cascade'))
    .addColumn('invitation_id', 'uuid', (c) => c.unique().references('invitations.id').onDelete('cascade'))
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull().check(sql`algorithm in ('SHA1', 'SHA256', 'SHA512')`))
    .addColumn('digits', 'integer', (c) => c.notNull().check(sql`digits between 6 and 8`))
    .addColumn('period', 'integer', (c) => c.notNull().check(sql`period between 1 and 300`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('totp_setups_one_owner', sql`num_nonnulls(user_id, invitation_id) = 1`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['totp_setups', 'totp_credentials', 'password_credentials']) await db.schema.dropTable(table).ifExists().execute();
}
