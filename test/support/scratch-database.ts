import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** `npm run test:pg` sets WARTA_TEST_DB=pg and TEST_DATABASE_URL; `npm test` uses in-memory PGlite. */
export const usingPostgres = process.env.WARTA_TEST_DB === 'pg';

export function testDatabaseServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('npm run test:pg needs TEST_DATABASE_URL=postgres://user:pass@host:port/db (a server where the user may CREATE DATABASE)');
  return url;
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh PostgreSQL database on `serverUrl` (whose user may CREATE DATABASE),
 * dropped by the returned function: empty, or a copy of `template` (a database
 * nobody is connected to, which PostgreSQL requires while it copies it). Shared by
 * the tests and the benchmark, so it imports nothing from vitest.
 */
export async function createScratchDatabase(serverUrl: string, prefix = 'warta_test', template?: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(template ? `create database ${name} template ${template}` : `create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
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
