/** Migration 0041: room on the page for the updates of single-use and counter rows. */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';

const TABLES = ['oauth_authorization_codes', 'oauth_refresh_tokens', 'rate_limits', 'totp_credentials', 'webauthn_challenges', 'webauthn_credentials'];

describe('migration 0041_hot_update_room', () => {
  it('leaves a fifth of each page of these tables free for updates, and is reversible', async () => {
    const db = new Kysely<any>({ dialect: new PGliteDialect({ pglite: await PGlite.create('memory://') }) });
    const options = async () => {
      const { rows } = await sql<{ relname: string; reloptions: string[] | null }>`select relname, reloptions from pg_class where relname = any(${TABLES}) order by relname`.execute(db);
      return Object.fromEntries(rows.map((row) => [row.relname, row.reloptions]));
    };
    try {
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('0040_recovery_issued_case_index')).error).toBeUndefined();
      expect(await options()).toEqual(Object.fromEntries(TABLES.map((table) => [table, null])));
      expect((await migrator.migrateTo('0041_hot_update_room')).error).toBeUndefined();
      expect(await options()).toEqual(Object.fromEntries(TABLES.map((table) => [table, ['fillfactor=80']])));
      expect((await migrator.migrateTo('0040_recovery_issued_case_index')).error).toBeUndefined();
      expect(await options()).toEqual(Object.fromEntries(TABLES.map((table) => [table, null])));
    } finally {
      await db.destroy();
    }
  });
});
