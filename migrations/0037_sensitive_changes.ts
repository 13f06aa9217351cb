import { type Kysely, sql } from 'kysely';

/**
 * Principle 8 for claims that carry authority (src/change-requests/):
 * - `groups.sensitive` / `attribute_definitions.sensitive`: flagged by an admin, at once; a group
 *   is sensitive when it or an ancestor is flagged, or a client that signs in the organisation's
 *   people requires it (src/groups/sensitive.ts, src/attributes/sensitive.ts);
 * - `change_requests`: a change to something sensitive (a value, a membership, a move or rename,
 *   clearing a flag) asked by one admin, waiting for a different admin of the organisation who is
 *   not the person it is about. A request nobody decides expires, like a role request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('groups').addColumn('sensitive', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema.alterTable('attribute_definitions').addColumn('sensitive', 'boolean', (c) => c.notNull().defaultTo(false)).execute();

  await db.schema
    .createTable('change_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('attribute.set', 'attribute.unflag', 'group.add_member', 'group.remove_member', 'group.unflag', 'group.move')`))
    .addColumn('user_id', 'uuid', (c) => c.references('users.id'))
    // A request about a group or a definition goes with it: nothing is left to apply.
    .addColumn('group_id', 'uuid', (c) => c.references('groups.id').onDelete('cascade'))
    .addColumn('definition_id', 'uuid', (c) => c.references('attribute_definitions.id').onDelete('cascade'))
    .addColumn('change', 'jsonb', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('requested_by', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'rejected', 'expired')`))
    .addColumn('decided_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('decided_at', 'timestamptz')
    .execute();
  // Each kind names exactly what it changes.
  await sql`alter table change_requests add constraint change_requests_shape check (
    (kind in ('attribute.set', 'group.add_member', 'group.remove_member')) = (user_id is not null)
    and (kind in ('group.add_member', 'group.remove_member', 'group.unflag', 'group.move')) = (group_id is not null)
    and (kind in ('attribute.set', 'attribute.unflag')) = (definition_id is not null))`.execute(db);
  // Whoever asks, and whoever the change is about, never approves it: enforced by the schema as well as the code.
  await sql`alter table change_requests add constraint change_requests_four_eyes check (status <> 'approved' or decided_by is null or (decided_by <> requested_by and decided_by is distinct from user_id))`.execute(db);
  // One open request per thing changed: a second ask while the first waits is refused, not stacked.
  await sql`create unique index change_requests_one_pending on change_requests (organisation_id, kind, coalesce(user_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(group_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(definition_id, '00000000-0000-0000-0000-000000000000'::uuid)) where status = 'pending'`.execute(db);
  await db.schema.createIndex('change_requests_organisation_idx').on('change_requests').columns(['organisation_id', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('change_requests').execute();
  await db.schema.alterTable('attribute_definitions').dropColumn('sensitive').execute();
  await db.schema.alterTable('groups').dropColumn('sensitive').execute();
}
