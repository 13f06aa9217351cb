import { type Kysely, sql } from 'kysely';

/**
 * SCIM Groups (src/scim/groups.ts): `groups.updated_at`, when the group's name, external id or
 * members last changed, for the resource's `meta.lastModified` (RFC 7643 §3.1). A group made before
 * this migration was last changed, as far as anyone can tell, when it was made.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('groups').addColumn('updated_at', 'timestamptz').execute();
  await sql`update groups set updated_at = created_at`.execute(db);
  await db.schema.alterTable('groups').alterColumn('updated_at', (c) => c.setNotNull()).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('groups').dropColumn('updated_at').execute();
}
