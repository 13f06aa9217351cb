import { type Kysely, sql } from 'kysely';

const CEREMONIES_BEFORE = `'enrollment', 'registration', 'authentication', 'reauthentication', 'recovery'`;

/**
 * First-party native sign-in (the authorization challenge endpoint, src/first-party/):
 * - `oauth_clients.first_party_native`: the operator lets the client sign users in without a browser;
 * - `oauth_authorization_requests.kind = 'challenge'`: the auth_session, waiting for its passkey assertion;
 * - `webauthn_challenges.ceremony = 'authorization_challenge'`: its passkey challenge, spendable only there;
 * - `oauth_authorization_codes.redirect_uri` nullable: such a code went to no redirect URI, so none is sent
 *   at the token endpoint (RFC 6749 §4.1.3: required only "if the redirect_uri parameter was included").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oauth_clients').addColumn('first_party_native', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await sql`alter table oauth_authorization_requests drop constraint oauth_authorization_requests_kind_check`.execute(db);
  await sql`alter table oauth_authorization_requests add constraint oauth_authorization_requests_kind_check check (kind in ('pushed', 'interactive', 'challenge'))`.execute(db);
  await sql`alter table webauthn_challenges drop constraint webauthn_challenges_ceremony_check`.execute(db);
  await sql.raw(`alter table webauthn_challenges add constraint webauthn_challenges_ceremony_check check (ceremony in (${CEREMONIES_BEFORE}, 'authorization_challenge'))`).execute(db);
  await db.schema.alterTable('oauth_authorization_codes').alterColumn('redirect_uri', (c) => c.dropNotNull()).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from oauth_authorization_codes where redirect_uri is null`.execute(db);
  await db.schema.alterTable('oauth_authorization_codes').alterColumn('redirect_uri', (c) => c.setNotNull()).execute();
  await sql`delete from webauthn_challenges where ceremony = 'authorization_challenge'`.execute(db);
  await sql`alter table webauthn_challenges drop constraint webauthn_challenges_ceremony_check`.execute(db);
  await sql.raw(`alter table webauthn_challenges add constraint webauthn_challenges_ceremony_check check (ceremony in (${CEREMONIES_BEFORE}))`).execute(db);
  await sql`delete from oauth_authorization_requests where kind = 'challenge'`.execute(db);
  await sql`alter table oauth_authorization_requests drop constraint oauth_authorization_requests_kind_check`.execute(db);
  await sql`alter table oauth_authorization_requests add constraint oauth_authorization_requests_kind_check check (kind in ('pushed', 'interactive'))`.execute(db);
  await db.schema.alterTable('oauth_clients').dropColumn('first_party_native').execute();
}
