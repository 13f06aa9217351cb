import { type Kysely, sql } from 'kysely';

/**
 * Client ownership (src/clients/): every OAuth client belongs to one organisation,
 * whose admins alone manage it, or to the instance operator (organisation_id null).
 *
 * - oauth_clients.organisation_id: the owning organisation; null = operator-owned.
 *   Clients registered before this migration had no owner and any admin managed
 *   them, so they become operator-owned: the operator assigns each to its
 *   organisation (`warta client assign`). Nothing is guessed from who created them.
 * - oauth_clients.cross_organisation_sign_in: an organisation's client accepts
 *   users of other organisations only when the operator says so.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('organisation_id', 'uuid', (c) => c.references('organisations.id'))
    .addColumn('cross_organisation_sign_in', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema.createIndex('oauth_clients_organisation_idx').on('oauth_clients').column('organisation_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists oauth_clients_organisation_idx`.execute(db);
  await db.schema.alterTable('oauth_clients').dropColumn('cross_organisation_sign_in').dropColumn('organisation_id').execute();
}
