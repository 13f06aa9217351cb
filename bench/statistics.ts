import pg from 'pg';

/**
 * Gathers PostgreSQL's statistics for a freshly seeded bench database before any load, as a
 * deployment's tables have them. Without them, autovacuum gathered the first ones in the middle
 * of a run, from tables a few seconds old, and in some runs PostgreSQL then planned Warta's
 * refresh rotation to read every family's whole history (about 144 index scans and 16,000 rows
 * per refresh, from pg_stat_user_tables): up to 2.3 ms of PostgreSQL CPU per refresh where
 * 0.4 ms is the norm, in whichever run it fell.
 */
export async function analyzeDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('analyze');
  } finally {
    await client.end();
  }
}
