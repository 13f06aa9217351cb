/** Migration 0033: first-party native sign-in (the authorization challenge endpoint). */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';

describe('migration 0033_first_party_native', () => {
  it('leaves existing clients browser-only, accepts auth_sessions (kind challenge) and nothing else new, and is reversible', async () => {
    const db = new Kysely<any>({ dialect: new PGliteDialect({ pglite: await PGlite.create('memory://') }) });
    try {
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('0029_signing_key_custody')).error).toBeUndefined();
      await sql`insert into oauth_clients (client_id, client_name, application_type, token_endpoint_auth_method, redirect_uris, post_logout_redirect_uris, grant_types, scope, first_party, dpop_bound_access_tokens, backchannel_logout_session_required, created_at, updated_at)
        values ('messenger', 'Messenger', 'native', 'none', '["gov.example.messenger:/cb"]', '[]', '["authorization_code"]', 'openid', true, true, false, now(), now())`.execute(db);

      expect((await migrator.migrateTo('0033_first_party_native')).error).toBeUndefined();
      const { rows } = await sql<{ first_party_native: boolean }>`select first_party_native from oauth_clients where client_id = 'messenger'`.execute(db);
      expect(rows).toEqual([{ first_party_native: false }]);
      await sql`insert into oauth_authorization_requests (id_hash, kind, client_id, params, created_at, expires_at) values ('h', 'challenge', 'messenger', '{}', now(), now())`.execute(db);
      await expect(sql`insert into oauth_authorization_requests (id_hash, kind, client_id, params, created_at, expires_at) values ('h2', 'other', 'messenger', '{}', now(), now())`.execute(db)).rejects.toThrow(/check constraint/);

      expect((await migrator.migrateTo('0029_signing_key_custody')).error).toBeUndefined();
      const { rows: columns } = await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'oauth_clients' and column_name = 'first_party_native'`.execute(db);
      expect(columns).toEqual([]);
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
    } finally {
      await db.destroy();
    }
  });
});
