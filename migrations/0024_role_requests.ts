import { type Kysely, sql } from 'kysely';

/**
 * Role requests (src/people/role-requests.ts): an admin asks to give a person a
 * privileged role (`kind` grant) or to re-enable a disabled privileged person
 * (`kind` enable); a different admin of the organisation, who is not the person,
 * approves it before it takes effect. A request nobody approves expires.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('role_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('grant', 'enable')`))
    .addColumn('role', 'text', (c) => c.check(sql`role in ('recovery_officer', 'admin')`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'expired')`))
    .addColumn('decided_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('decided_at', 'timestamptz')
    .execute();
  // A grant names its role; an enable gives back whatever the person held.
  await sql`alter table role_requests add constraint role_requests_role_by_kind check ((kind = 'grant') = (role is not null))`.execute(db);
  // Whoever asks, and whoever the request is about, never approves it: enforced by the schema as well as the code.
  await sql`alter table role_requests add constraint role_requests_four_eyes check (decided_by is null or (decided_by <> requested_by and decided_by <> user_id))`.execute(db);
  await sql`alter table role_requests add constraint role_requests_not_about_self check (requested_by <> user_id)`.execute(db);
  // One open request per change: a second ask while the first waits is refused, not stacked.
  await sql`create unique index role_requests_one_pending on role_requests (user_id, kind, coalesce(role, '')) where status = 'pending'`.execute(db);
  await db.schema.createIndex('role_requests_organisation_idx').on('role_requests').columns(['organisation_id', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('role_requests').execute();
}
