import { type Kysely, sql } from 'kysely';

/**
 * OpenID Connect provider: registered clients, grants (one per user sign-in to a
 * client, the family of every token issued from it), codes, refresh tokens,
 * pending and pushed authorization requests, consents, replay caches and the
 * back-channel logout outbox. Every bearer value is stored as a hash.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oauth_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('client_name', 'text', (c) => c.notNull())
    .addColumn('application_type', 'text', (c) => c.notNull().check(sql`application_type in ('web', 'native')`))
    .addColumn('token_endpoint_auth_method', 'text', (c) =>
      c.notNull().check(sql`token_endpoint_auth_method in ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')`),
    )
    .addColumn('client_secret_hash', 'text')
    .addColumn('client_secret_issued_at', 'timestamptz')
    .addColumn('jwks', 'jsonb')
    .addColumn('redirect_uris', 'jsonb', (c) => c.notNull())
    .addColumn('post_logout_redirect_uris', 'jsonb', (c) => c.notNull())
    .addColumn('grant_types', 'jsonb', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('first_party', 'boolean', (c) => c.notNull())
    .addColumn('required_acr', 'text')
    .addColumn('dpop_bound_access_tokens', 'boolean', (c) => c.notNull())
    .addColumn('access_token_audience', 'text')
    .addColumn('backchannel_logout_uri', 'text')
    .addColumn('backchannel_logout_session_required', 'boolean', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('oauth_grants')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.client_id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('session_id', 'uuid', (c) => c.references('sessions.id').onDelete('set null'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('offline', 'boolean', (c) => c.notNull())
    .addColumn('auth_time', 'timestamptz', (c) => c.notNull())
    .addColumn('acr', 'text', (c) => c.notNull())
    .addColumn('amr', 'jsonb', (c) => c.notNull())
    .addColumn('dpop_jkt', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text')
    .execute();
  await db.schema.createIndex('oauth_grants_session_idx').on('oauth_grants').column('session_id').execute();
  await db.schema.createIndex('oauth_grants_user_idx').on('oauth_grants').column('user_id').execute();
  await db.schema.createIndex('oauth_grants_client_idx').on('oauth_grants').column('client_id').execute();

  await db.schema
    .createTable('oauth_authorization_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('grant_id', 'uuid', (c) => c.notNull().references('oauth_grants.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text')
    .addColumn('dpop_jkt', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('oauth_authorization_codes_grant_idx').on('oauth_authorization_codes').column('grant_id').execute();

  await db.schema
    .createTable('oauth_refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('grant_id', 'uuid', (c) => c.notNull().references('oauth_grants.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('oauth_refresh_tokens_grant_idx').on('oauth_refresh_tokens').column('grant_id').execute();

  await db.schema
    .createTable('oauth_authorization_requests')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('pushed', 'interactive')`))
    .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.client_id').onDelete('cascade'))
    .addColumn('params', 'jsonb', (c) => c.notNull())
    .addColumn('sign_in_rounds', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('oauth_authorization_requests_expiry_idx').on('oauth_authorization_requests').column('expires_at').execute();

  await db.schema
    .createTable('oauth_consents')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.client_id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('granted_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('oauth_consents_pkey', ['user_id', 'client_id'])
    .execute();

  // DPoP proof and client assertion jtis (single use), and revoked access token jtis.
  await db.schema
    .createTable('oauth_seen_jtis')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oauth_seen_jtis_expiry_idx').on('oauth_seen_jtis').column('expires_at').execute();

  await db.schema
    .createTable('oauth_revoked_access_tokens')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('backchannel_logouts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.client_id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('session_id', 'uuid', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('abandoned_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .execute();
  await sql`create index backchannel_logouts_pending_idx on backchannel_logouts (next_attempt_at) where delivered_at is null and abandoned_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'backchannel_logouts',
    'oauth_revoked_access_tokens',
    'oauth_seen_jtis',
    'oauth_consents',
    'oauth_authorization_requests',
    'oauth_refresh_tokens',
    'oauth_authorization_codes',
    'oauth_grants',
    'oauth_clients',
  ])
    await db.schema.dropTable(table).ifExists().execute();
}
