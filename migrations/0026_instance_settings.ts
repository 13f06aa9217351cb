import type { Kysely } from 'kysely';

/**
 * Facts about the running instance that other processes need, such as the
 * issuer the server serves: the `warta` CLI prints links with it, so it never
 * hands out a link to a server that is not there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('instance_settings')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('instance_settings').execute();
}
