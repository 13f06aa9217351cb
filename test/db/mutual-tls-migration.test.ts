/** Migration 0032: the mTLS methods, one subject value per tls_client_auth client (in SQL too), certificate-bound refresh tokens. */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';

describe('migration 0032_mutual_tls', () => {
  it('allows the mTLS methods, holds a tls_client_auth client to exactly one subject value, and is reversible', async () => {
    const db = new Kysely<any>({ dialect: new PGliteDialect({ pglite: await PGlite.create('memory://') }) });
    const insert = (id: string, method: string, subject: Record<string, string> = {}) => {
      const columns = Object.keys(subject);
      return sql`insert into oauth_clients (client_id, client_name, application_type, token_endpoint_auth_method, redirect_uris, post_logout_redirect_uris, grant_types, scope, first_party, dpop_bound_access_tokens, backchannel_logout_session_required, created_at, updated_at${sql.raw(columns.map((c) => `, ${c}`).join(''))})
        values (${id}, 'Service', 'web', ${method}, '[]', '[]', '["client_credentials"]', 'x', false, false, false, now(), now()${sql.join([sql``, ...Object.values(subject).map((v) => sql`${v}`)], sql`, `)})`.execute(db);
    };
    try {
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('0029_signing_key_custody')).error).toBeUndefined();
      await insert('secret-client', 'client_secret_basic');
      await expect(insert('early', 'self_signed_tls_client_auth')).rejects.toThrow(/check constraint/);

      expect((await migrator.migrateTo('0032_mutual_tls')).error).toBeUndefined();
      const { rows } = await sql<{ tls_client_certificate_bound_access_tokens: boolean }>`select tls_client_certificate_bound_access_tokens from oauth_clients where client_id = 'secret-client'`.execute(db);
      expect(rows).toEqual([{ tls_client_certificate_bound_access_tokens: false }]);
      await insert('self-signed', 'self_signed_tls_client_auth');
      await insert('pki', 'tls_client_auth', { tls_client_auth_san_dns: 'svc.example.gov' });
      await expect(insert('pki-without-subject', 'tls_client_auth')).rejects.toThrow(/check constraint/);
      await expect(insert('pki-two-subjects', 'tls_client_auth', { tls_client_auth_san_dns: 'a.example', tls_client_auth_subject_dn: 'CN=a' })).rejects.toThrow(/check constraint/);
      await expect(insert('secret-with-subject', 'client_secret_basic', { tls_client_auth_san_dns: 'a.example' })).rejects.toThrow(/check constraint/);

      expect((await migrator.migrateTo('0029_signing_key_custody')).error).toBeUndefined();
      const { rows: left } = await sql<{ client_id: string }>`select client_id from oauth_clients order by client_id`.execute(db);
      expect(left).toEqual([{ client_id: 'secret-client' }]);
      const { rows: columns } = await sql<{ column_name: string }>`select column_name from information_schema.columns where column_name like '%tls%' or column_name = 'mtls_x5t'`.execute(db);
      expect(columns).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});
