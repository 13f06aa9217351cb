import { type Kysely, sql } from 'kysely';

/**
 * Room on each page for the updates these rows get, so PostgreSQL can make them HOT
 * (heap-only: the new version on the same page, no new entry in any index). Each is
 * inserted and then updated in columns no index covers: a refresh token and an
 * authorization code once (used_at: single use), a WebAuthn challenge once (used_at),
 * a passkey at every sign-in (sign_count, last_used_at), a TOTP credential at every
 * code (last_used_step), a rate-limit counter at every counted attempt. Packed full
 * (the default), the page of a row inserted a moment ago has no room, so its update
 * writes the row elsewhere and a new entry into every index of the table.
 * Only pages filled from now on keep the room; no table is rewritten.
 */
const TABLES = ['oauth_refresh_tokens', 'oauth_authorization_codes', 'webauthn_challenges', 'webauthn_credentials', 'totp_credentials', 'rate_limits'];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) await sql`alter table ${sql.table(table)} set (fillfactor = 80)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) await sql`alter table ${sql.table(table)} reset (fillfactor)`.execute(db);
}
