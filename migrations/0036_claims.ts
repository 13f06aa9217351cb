import { type Kysely, sql } from 'kysely';

/**
 * Claims that carry authority (issue 17):
 * - `oauth_clients.subject_type` / `sector_identifier`: pairwise subject identifiers (OIDC Core §8.1);
 * - `oauth_clients.required_groups` / `required_attributes`: who may sign in to the client at all;
 * - `groups`: an organisation's hierarchy (ministry → department → unit). `parent_id` is in the same
 *   organisation (the composite foreign key says so); a move (src/groups/move.ts, added later) refuses
 *   a cycle under a lock on the organisation's groups;
 *   `external_id` is the directory's id for the group (SCIM `externalId`), unique per organisation;
 * - `group_members`: direct memberships (a member of a unit is, for claims, in its ancestors too);
 * - `attribute_definitions` / `user_attributes`: typed attributes per organisation and their values per user.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('subject_type', 'text', (c) => c.notNull().defaultTo('public').check(sql`subject_type in ('public', 'pairwise')`))
    .addColumn('sector_identifier', 'text')
    .addColumn('required_groups', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('required_attributes', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();

  await db.schema
    .createTable('groups')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    .addColumn('parent_id', 'uuid')
    .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 100 and position('/' in name) = 0`))
    .addColumn('external_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('groups_id_organisation_unique', ['id', 'organisation_id'])
    .addForeignKeyConstraint('groups_parent_same_organisation', ['parent_id', 'organisation_id'], 'groups', ['id', 'organisation_id'])
    .addCheckConstraint('groups_not_own_parent', sql`parent_id is null or parent_id <> id`)
    .execute();
  // Sibling names are unique (case-insensitively), so a path names one group.
  await sql`create unique index groups_sibling_name on groups (organisation_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name))`.execute(db);
  await sql`create unique index groups_external_id on groups (organisation_id, external_id) where external_id is not null`.execute(db);

  await db.schema
    .createTable('group_members')
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('added_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
    .execute();
  await db.schema.createIndex('group_members_user').on('group_members').column('user_id').execute();

  await db.schema
    .createTable('attribute_definitions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('string', 'integer', 'boolean', 'enum')`))
    .addColumn('allowed_values', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('attribute_definitions_name', ['organisation_id', 'name'])
    .addCheckConstraint('attribute_definitions_enum_values', sql`(type = 'enum') = (allowed_values is not null)`)
    .execute();

  await db.schema
    .createTable('user_attributes')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('definition_id', 'uuid', (c) => c.notNull().references('attribute_definitions.id').onDelete('cascade'))
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_attributes_pk', ['user_id', 'definition_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('user_attributes').execute();
  await db.schema.dropTable('attribute_definitions').execute();
  await db.schema.dropTable('group_members').execute();
  await db.schema.dropTable('groups').execute();
  await db.schema.alterTable('oauth_clients').dropColumn('required_attributes').dropColumn('required_groups').dropColumn('sector_identifier').dropColumn('subject_type').execute();
}
