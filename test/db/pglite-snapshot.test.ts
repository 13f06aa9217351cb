import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.js';
import { pendingMigrations } from '../../src/db/migrate.js';
import { cleanUpLater, migratedPgliteSnapshot, usingPostgres } from '../support/runtime.js';

describe.skipIf(usingPostgres)('an embedded database started from a snapshot', () => {
  it('starts an empty data folder from the migrated snapshot, and later reopens that folder as it is', async () => {
    const snapshot = await migratedPgliteSnapshot();
    expect(snapshot, 'the run makes a migrated snapshot (vitest globalSetup)').toBeDefined();
    const dir = await mkdtemp(path.join(tmpdir(), 'warta-snapshot-'));
    cleanUpLater(() => rm(dir, { recursive: true, force: true }));
    const open = () => connectDatabase({ databaseUrl: undefined, pgliteDir: path.join(dir, 'pglite'), pgliteSnapshot: snapshot, poolSize: 1, attempts: 1 });

    const first = await open();
    try {
      expect(await pendingMigrations(first.db)).toEqual([]);
      await sql`create table kept_across_restart (id int)`.execute(first.db);
    } finally {
      await first.close();
    }

    // A folder that already holds a database is opened, not overwritten by the snapshot.
    const second = await open();
    try {
      expect((await sql`select count(*)::int as n from kept_across_restart`.execute(second.db)).rows).toEqual([{ n: 0 }]);
    } finally {
      await second.close();
    }
  });
});
