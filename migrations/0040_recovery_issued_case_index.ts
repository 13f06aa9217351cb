import { type Kysely, sql } from 'kysely';

/**
 * Redeeming a recovery code reads the person's most recently approved case (the one whose
 * code they hold): without this index, a scan of every case ever opened, on a page anyone
 * can post to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index recovery_cases_user_issued_idx on recovery_cases (user_id, approved_at desc) where code_hash is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index recovery_cases_user_issued_idx`.execute(db);
}
