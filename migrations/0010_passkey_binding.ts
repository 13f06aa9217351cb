import { type Kysely, sql } from 'kysely';

/**
 * How each passkey was bound (src/webauthn/binding.ts). A passkey is only as
 * trustworthy as the proof that let it be added: one added from a password +
 * TOTP session (phishable) signs in at `mfa` until it is confirmed, by an
 * officer at the desk or from a session that used a phishing-resistant passkey.
 *
 * Existing passkeys are marked from structural evidence only, never guessed
 * upward: the first passkey created with the account (invitation enrollment,
 * one transaction) and a passkey created as a recovery case completed (the
 * desk) are phishing-resistant; every other passkey was added from a session
 * whose assurance was not recorded, so it starts at `mfa` and its owner
 * confirms it from a passkey session (one click on the account page).
 */
const PHISHING_RESISTANT = 'urn:warta:acr:phishing-resistant';
const MFA = 'urn:warta:acr:mfa';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('webauthn_credentials')
    .addColumn('bound_acr', 'text', (c) => c.notNull().defaultTo(MFA).check(sql`bound_acr in ('urn:warta:acr:single-factor', 'urn:warta:acr:mfa', 'urn:warta:acr:phishing-resistant')`))
    .addColumn('bound_via', 'text', (c) => c.notNull().defaultTo('unknown').check(sql`bound_via in ('invitation', 'recovery', 'passkey_session', 'session', 'unknown')`))
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('confirmed_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .execute();
  await sql`
    update webauthn_credentials c set bound_acr = ${PHISHING_RESISTANT}, bound_via = 'invitation'
    where c.id = (select first.id from webauthn_credentials first where first.user_id = c.user_id order by first.created_at, first.id limit 1)
      and exists (select 1 from users u where u.id = c.user_id and c.created_at between u.created_at and u.created_at + interval '1 minute')`.execute(db);
  await sql`
    update webauthn_credentials c set bound_acr = ${PHISHING_RESISTANT}, bound_via = 'recovery'
    where c.bound_via = 'unknown'
      and exists (select 1 from recovery_cases r where r.user_id = c.user_id and r.status = 'completed' and c.created_at between r.closed_at and r.closed_at + interval '1 minute')`.execute(db);
  // New rows must say how they were bound: no default, so forgetting fails the insert (fail closed).
  await sql`alter table webauthn_credentials alter column bound_acr drop default, alter column bound_via drop default`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webauthn_credentials').dropColumn('confirmed_by').dropColumn('confirmed_at').dropColumn('bound_via').dropColumn('bound_acr').execute();
}
