/** Migration 0035: a directory's externalId unique within an organisation (not across them), names, the provisioned person of an invitation; reversible. */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';

describe('migration 0035_scim_provisioning', () => {
  it('keeps externalId unique per organisation only, links an invitation to its person, and is reversible', async () => {
    const db = new Kysely<any>({ dialect: new PGliteDialect({ pglite: await PGlite.create('memory://') }) });
    const organisation = (id: string) => sql`insert into organisations (id, name, created_at) values (${id}, ${`Org ${id.slice(0, 4)}`}, now())`.execute(db);
    const person = (id: string, org: string, username: string, externalId: string | null) =>
      sql`insert into users (id, organisation_id, username, display_name, status, created_at, updated_at, external_id) values (${id}, ${org}, ${username}, 'Person', 'active', now(), now(), ${externalId})`.execute(db);
    const [a, b] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    try {
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('0035_scim_provisioning')).error).toBeUndefined();
      await organisation(a);
      await organisation(b);
      await person('aaaaaaaa-0000-4000-8000-000000000001', a, 'one', 'ext-1');
      await person('bbbbbbbb-0000-4000-8000-000000000001', b, 'two', 'ext-1');
      await person('aaaaaaaa-0000-4000-8000-000000000002', a, 'three', null);
      await person('aaaaaaaa-0000-4000-8000-000000000003', a, 'four', null);
      await expect(person('aaaaaaaa-0000-4000-8000-000000000004', a, 'five', 'ext-1')).rejects.toThrow(/unique/);
      const { rows } = await sql<{ user_id: string | null }>`select column_name as user_id from information_schema.columns where table_name = 'invitations' and column_name = 'user_id'`.execute(db);
      expect(rows).toHaveLength(1);

      expect((await migrator.migrateDown()).error).toBeUndefined();
      const { rows: columns } = await sql<{ column_name: string }>`select column_name from information_schema.columns where column_name in ('external_id', 'given_name', 'family_name', 'user_id') and table_name in ('users', 'invitations')`.execute(db);
      expect(columns).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});
