import { type Kysely, sql } from 'kysely';

/**
 * SCIM 2.0 provisioning (src/scim/):
 * - `users.external_id`: the directory's own identifier for the person (RFC 7643 §3.1 `externalId`),
 *   unique within an organisation, so one directory's two records never become one person;
 * - `users.given_name`, `users.family_name`: the parts of `name` a directory sends, kept as sent so
 *   a directory comparing what it wrote with what it reads back sees no difference;
 * - `invitations.user_id`: the person a directory provisioned before anyone enrolled; redeeming the
 *   invitation gives that person their first credential instead of creating another one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('external_id', 'text')
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .execute();
  await sql`create unique index users_external_id_key on users (organisation_id, external_id) where external_id is not null`.execute(db);
  await db.schema.alterTable('invitations').addColumn('user_id', 'uuid', (c) => c.references('users.id')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('invitations').dropColumn('user_id').execute();
  await sql`drop index users_external_id_key`.execute(db);
  await db.schema.alterTable('users').dropColumn('family_name').dropColumn('given_name').dropColumn('external_id').execute();
}
