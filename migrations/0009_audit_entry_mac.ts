import { type Kysely, sql } from 'kysely';

/**
 * Audit entries carry a MAC made when they are appended (src/audit/audit.ts), so
 * someone who can write to the database but lacks the master key cannot add an
 * entry the sealer will chain. `entry_id` is inside the MAC and unique, so a
 * genuine entry cannot be copied as a second one; `seal_refused` records why the
 * sealer left a row out of the chain (what `audit verify` reports).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('audit_log')
    .addColumn('entry_id', 'uuid')
    .addColumn('mac', 'text')
    .addColumn('seal_refused', 'text')
    .execute();
  await sql`create unique index audit_log_entry_id_idx on audit_log (entry_id)`.execute(db);
  await sql`create index audit_log_refused_idx on audit_log (id) where seal_refused is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists audit_log_refused_idx`.execute(db);
  await sql`drop index if exists audit_log_entry_id_idx`.execute(db);
  await db.schema.alterTable('audit_log').dropColumn('seal_refused').dropColumn('mac').dropColumn('entry_id').execute();
}
