import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { connectDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { makeMigratedDataDir } from '../../src/db/pglite.js';
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
 * vitest globalSetup: one migrated database, which every test runtime copies
 * instead of paying initdb and every migration again (seconds per file). It holds
 * the schema only: each runtime still makes its own instance secrets under its own
 * master key. On PostgreSQL a template database made for the run (and dropped after
 * it); on PGlite a snapshot of the data directory, kept between runs. Returns the
 * teardown.
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

  project.provide('migratedPgliteSnapshot', await cachedPgliteSnapshot());
  return async () => {};
}

/**
 * Making the snapshot costs about ten seconds of CPU, so it is kept between runs
 * under a name derived from everything it is made from (the migrations, this
 * recipe, the PGlite and kysely versions): a changed migration makes a new one.
 */
async function cachedPgliteSnapshot(): Promise<string> {
  const dir = path.join(tmpdir(), 'warta-test-snapshots');
  const file = path.join(dir, `${await snapshotKey()}.tar`);
  if (await access(file).then(() => true, () => false)) return file;
  await mkdir(dir, { recursive: true });
  // Written aside and renamed: a run in another checkout may be making the same file.
  const partial = `${file}.${randomBytes(6).toString('hex')}.partial`;
  try {
    await writeFile(partial, await migratedPgliteDataDir());
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  return file;
}

async function snapshotKey(): Promise<string> {
  const hash = createHash('sha256');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  for (const name of ['@electric-sql/pglite', 'kysely']) hash.update(await readFile(path.join(root, 'node_modules', name, 'package.json')));
  hash.update(await readFile(fileURLToPath(import.meta.url)));
  hash.update(await readFile(path.join(root, 'src', 'db', 'pglite.ts')));
  for (const name of (await readdir(path.join(root, 'migrations'))).sort()) hash.update(name).update(await readFile(path.join(root, 'migrations', name)));
  return `pglite-migrated-${hash.digest('hex').slice(0, 16)}`;
}

async function migratedPgliteDataDir(): Promise<Buffer> {
  return Buffer.from(await makeMigratedDataDir('none'));
}
