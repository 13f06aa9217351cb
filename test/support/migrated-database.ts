import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import type { TestProject } from 'vitest/node';
import { connectDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createScratchDatabase, testDatabaseServerUrl, usingPostgres } from './scratch-database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** File holding a migrated PGlite data directory (`npm test`). */
    migratedPgliteSnapshot?: string;
    /** Name of a migrated PostgreSQL database to copy (`npm run test:pg`). */
    migratedTemplateDatabase?: string;
  }
}

/**
 * vitest globalSetup: migrates one database per run, which every test runtime then
 * copies instead of paying initdb and every migration again (seconds per file).
 * It holds the schema only: each runtime still makes its own instance secrets
 * under its own master key. Returns the teardown.
 */
export default async function migrateOnceForTheRun(project: TestProject): Promise<() => Promise<void>> {
  if (usingPostgres) {
    const template = await createScratchDatabase(testDatabaseServerUrl(), 'warta_template');
    try {
      const handle = await connectDatabase({ databaseUrl: template.url, pgliteDir: 'memory://', poolSize: 1, attempts: 1 });
      // Closed before any copy: PostgreSQL copies a template only while nobody is connected to it.
      await migrateToLatest(handle.db).finally(() => handle.close());
    } catch (error) {
      await template.drop();
      throw error;
    }
    project.provide('migratedTemplateDatabase', template.name);
    return () => template.drop();
  }

  const dir = await mkdtemp(path.join(tmpdir(), 'warta-test-snapshot-'));
  const file = path.join(dir, 'pgdata.tar');
  try {
    await writeFile(file, await migratedPgliteDataDir());
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  project.provide('migratedPgliteSnapshot', file);
  return () => rm(dir, { recursive: true, force: true });
}

async function migratedPgliteDataDir(): Promise<Buffer> {
  const pglite = await PGlite.create();
  const db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
  try {
    await migrateToLatest(db);
    // PGlite zeroes its whole buffer pool when it starts (128 MB by default: about half
    // a second of CPU per test database); a test database needs a fraction of it.
    await pglite.exec("alter system set shared_buffers = '16MB'");
    // Flushed now, so no copy replays the migrations' WAL when it starts.
    await pglite.exec('checkpoint');
    return Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer());
  } finally {
    await db.destroy();
    if (!pglite.closed) await pglite.close();
  }
}
