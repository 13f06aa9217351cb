import { type Kysely, sql } from 'kysely';

/**
 * Mutual-TLS client authentication and certificate-bound tokens (RFC 8705): the two
 * mTLS methods join the allowed token_endpoint_auth_method values; a tls_client_auth
 * client names the one subject value its certificate carries (§2.1.2, the check keeps
 * it to one); a client may ask for certificate-bound access tokens (§3.4); and a
 * public client's refresh tokens are bound to the certificate's thumbprint (§4), as
 * `dpop_jkt` binds them to a DPoP key.
 */
const SUBJECT_COLUMNS = ['tls_client_auth_subject_dn', 'tls_client_auth_san_dns', 'tls_client_auth_san_uri', 'tls_client_auth_san_ip', 'tls_client_auth_san_email'];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table oauth_clients drop constraint oauth_clients_token_endpoint_auth_method_check`.execute(db);
  await sql`alter table oauth_clients add constraint oauth_clients_token_endpoint_auth_method_check check (token_endpoint_auth_method in
    ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none', 'tls_client_auth', 'self_signed_tls_client_auth'))`.execute(db);
  for (const column of SUBJECT_COLUMNS) await db.schema.alterTable('oauth_clients').addColumn(column, 'text').execute();
  await sql`alter table oauth_clients add constraint oauth_clients_tls_client_auth_subject check (
    (token_endpoint_auth_method = 'tls_client_auth') = (num_nonnulls(${sql.join(SUBJECT_COLUMNS.map((c) => sql.ref(c)))}) = 1)
    and num_nonnulls(${sql.join(SUBJECT_COLUMNS.map((c) => sql.ref(c)))}) <= 1)`.execute(db);
  await db.schema.alterTable('oauth_clients').addColumn('tls_client_certificate_bound_access_tokens', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema.alterTable('oauth_grants').addColumn('mtls_x5t', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from oauth_clients where token_endpoint_auth_method in ('tls_client_auth', 'self_signed_tls_client_auth')`.execute(db);
  await db.schema.alterTable('oauth_grants').dropColumn('mtls_x5t').execute();
  await db.schema.alterTable('oauth_clients').dropColumn('tls_client_certificate_bound_access_tokens').execute();
  await sql`alter table oauth_clients drop constraint oauth_clients_tls_client_auth_subject`.execute(db);
  for (const column of SUBJECT_COLUMNS) await db.schema.alterTable('oauth_clients').dropColumn(column).execute();
  await sql`alter table oauth_clients drop constraint oauth_clients_token_endpoint_auth_method_check`.execute(db);
  await sql`alter table oauth_clients add constraint oauth_clients_token_endpoint_auth_method_check check (token_endpoint_auth_method in
    ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'))`.execute(db);
}
