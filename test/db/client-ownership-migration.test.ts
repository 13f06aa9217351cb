/** Migration 0016: clients registered before ownership existed become the operator's, to be assigned by the operator. */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';

describe('migration 0016_client_ownership', () => {
  it('makes every existing client operator-owned, closed to cross-organisation sign-in by default, and is reversible', async () => {
    const db = new Kysely<any>({ dialect: new PGliteDialect({ pglite: await PGlite.create('memory://') }) });
    try {
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('0015_authority')).error).toBeUndefined();
      await sql`insert into oauth_clients (client_id, client_name, application_type, token_endpoint_auth_method, redirect_uris, post_logout_redirect_uris, grant_types, scope, first_party, dpop_bound_access_tokens, backchannel_logout_session_required, created_at, updated_at)
        values ('legacy-client', 'Legacy', 'web', 'client_secret_basic', '[]', '[]', '["client_credentials"]', 'x', true, false, false, now(), now())`.execute(db);

      expect((await migrator.migrateTo('0016_client_ownership')).error).toBeUndefined();
      const { rows } = await sql<{ organisation_id: string | null; cross_organisation_sign_in: boolean; first_party: boolean }>`select organisation_id, cross_organisation_sign_in, first_party from oauth_clients where client_id = 'legacy-client'`.execute(db);
      expect(rows).toEqual([{ organisation_id: null, cross_organisation_sign_in: false, first_party: true }]);
      // The owner must be a real organisation.
      await expect(sql`update oauth_clients set organisation_id = '00000000-0000-4000-8000-000000000000' where client_id = 'legacy-client'`.execute(db)).rejects.toThrow(/foreign key/);

      expect((await migrator.migrateTo('0015_authority')).error).toBeUndefined();
      const { rows: columns } = await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'oauth_clients' and column_name in ('organisation_id', 'cross_organisation_sign_in')`.execute(db);
      expect(columns).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});
