/** Migration 0036: pairwise subjects, sign-in requirements, groups and attributes. */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';

describe('migration 0036_claims', () => {
  it('keeps existing clients public and unrestricted, keeps a group and its parent in one organisation, and is reversible', async () => {
    const db = new Kysely<any>({ dialect: new PGliteDialect({ pglite: await PGlite.create('memory://') }) });
    try {
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('0035_scim_provisioning')).error).toBeUndefined();
      await sql`insert into oauth_clients (client_id, client_name, application_type, token_endpoint_auth_method, redirect_uris, post_logout_redirect_uris, grant_types, scope, first_party, dpop_bound_access_tokens, backchannel_logout_session_required, created_at, updated_at)
        values ('messenger', 'Messenger', 'native', 'none', '["gov.example.messenger:/cb"]', '[]', '["authorization_code"]', 'openid', true, true, false, now(), now())`.execute(db);
      expect((await migrator.migrateTo('0036_claims')).error).toBeUndefined();
      const { rows } = await sql`select subject_type, sector_identifier, required_groups, required_attributes from oauth_clients where client_id = 'messenger'`.execute(db);
      expect(rows).toEqual([{ subject_type: 'public', sector_identifier: null, required_groups: [], required_attributes: {} }]);

      const org = (id: string) => sql`insert into organisations (id, name, policy, created_at) values (${id}::uuid, ${id}, '{}', now())`.execute(db);
      const a = '00000000-0000-0000-0000-00000000000a';
      const b = '00000000-0000-0000-0000-00000000000b';
      await org(a);
      await org(b);
      const group = (id: string, organisation: string, parent: string | null, name: string) =>
        sql`insert into groups (id, organisation_id, parent_id, name, created_at) values (${id}::uuid, ${organisation}::uuid, ${parent}::uuid, ${name}, now())`.execute(db);
      await group('10000000-0000-0000-0000-000000000001', a, null, 'Ministry');
      await group('10000000-0000-0000-0000-000000000002', a, '10000000-0000-0000-0000-000000000001', 'Department');
      // A parent of another organisation, a sibling with the same name, a name with "/": refused by the database.
      await expect(group('10000000-0000-0000-0000-000000000003', b, '10000000-0000-0000-0000-000000000001', 'Stray')).rejects.toThrow();
      await expect(group('10000000-0000-0000-0000-000000000004', a, null, 'MINISTRY')).rejects.toThrow();
      await expect(group('10000000-0000-0000-0000-000000000005', a, null, 'a/b')).rejects.toThrow();
      await expect(sql`insert into attribute_definitions (id, organisation_id, name, type, created_at) values (gen_random_uuid(), ${a}::uuid, 'level', 'enum', now())`.execute(db)).rejects.toThrow(/check constraint/);

      expect((await migrator.migrateTo('0035_scim_provisioning')).error).toBeUndefined();
      const { rows: columns } = await sql`select column_name from information_schema.columns where table_name = 'oauth_clients' and column_name = 'subject_type'`.execute(db);
      expect(columns).toEqual([]);
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
    } finally {
      await db.destroy();
    }
  });
});
