import { type Kysely, sql } from 'kysely';

/**
 * How the instance's real passkeys look (how many an account has, how long their
 * ids are, which transports they name), kept in one row that every instance reads
 * (src/webauthn/decoy.ts), so decoys for unknown names are drawn from the same
 * distribution on every instance behind a load balancer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('passkey_shapes')
    .addColumn('id', 'smallint', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('shapes', 'jsonb', (c) => c.notNull())
    .addColumn('computed_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('passkey_shapes').execute();
}
