import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A fresh, empty PostgreSQL database on `serverUrl` (whose user may CREATE DATABASE),
 * dropped by the returned function. Shared by the tests and the benchmark, so it
 * imports nothing from vitest.
 */
export async function createScratchDatabase(serverUrl: string, prefix = 'warta_test'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } catch (error) {
        // Cleanup only: an autovacuum worker (a superuser backend) can hold the scratch
        // database for a moment, and a non-superuser cannot terminate it. A leftover
        // scratch database harms nothing; the run's own result stands.
        process.emitWarning(`could not drop scratch database ${name}: ${(error as Error).message}`);
      } finally {
        await client.end();
      }
    },
  };
}
