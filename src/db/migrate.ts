import { type Kysely, sql } from 'kysely';
import { type MigrationResultSet, Migrator } from 'kysely/migration';
import { migrations } from '../../migrations/index.js';

/**
 * Applies every pending migration. Kysely's Postgres adapter holds a session
 * advisory lock for the whole run, so instances starting together apply each
 * migration exactly once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  if (await upToDate(db)) return [];
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  return applied(await migrator.migrateToLatest());
}

export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/**
 * The common case at start-up, in one query: every migration this code knows is recorded
 * and nothing else is. Kysely's full check (schema, lock table, advisory lock) runs otherwise.
 */
async function upToDate(db: Kysely<any>): Promise<boolean> {
  const names = Object.keys(migrations).sort();
  try {
    const { rows } = await sql<{ total: number; known: number }>`select count(*)::int as total, (count(*) filter (where name = any(${names})))::int as known from kysely_migration`.execute(db);
    return rows[0]?.total === names.length && rows[0].known === names.length;
  } catch {
    // No migration table yet (a new database): the migrator creates it.
    return false;
  }
}

function applied({ error, results }: MigrationResultSet): string[] {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '(setup)'} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
