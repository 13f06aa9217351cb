import type { Kysely } from 'kysely';

/**
 * How far the audit log has been shipped to each sink (WARTA_AUDIT_SINK): the
 * chain position of the last entry the sink acknowledged, so a restart resumes
 * after it with nothing skipped. The row is also the lock that keeps two
 * instances from shipping at once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_sink_checkpoint')
    .addColumn('sink', 'text', (c) => c.primaryKey())
    .addColumn('last_shipped_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_shipped_id', 'bigint')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_sink_checkpoint').execute();
}
