import { type Kysely, sql } from 'kysely';

const CEREMONIES_BEFORE = `'enrollment', 'registration', 'authentication', 'reauthentication'`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('recovery_cases')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    // No cascade: a case is part of the audit trail and outlives nothing it refers to.
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'redeemed', 'completed', 'rejected', 'cancelled', 'expired', 'locked')`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('document_type', 'text', (c) => c.notNull())
    // Only ever the last four characters of the document: a full number cannot be stored.
    .addColumn('document_last4', 'text', (c) => c.notNull().check(sql`document_last4 ~ '^[A-Z0-9]{4}$'`))
    .addColumn('identity_note', 'text', (c) => c.notNull())
    .addColumn('opened_by', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('opened_desk', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('approved_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('approved_desk', 'text')
    .addColumn('approved_at', 'timestamptz')
    .addColumn('code_hash', 'text')
    .addColumn('code_expires_at', 'timestamptz')
    .addColumn('code_attempts', 'integer', (c) => c.notNull().defaultTo(0).check(sql`code_attempts >= 0`))
    .addColumn('code_max_attempts', 'integer')
    .addColumn('redeemed_at', 'timestamptz')
    .addColumn('grant_hash', 'text', (c) => c.unique())
    .addColumn('grant_expires_at', 'timestamptz')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('closed_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('closed_desk', 'text')
    .addColumn('close_reason', 'text')
    .addCheckConstraint('recovery_cases_two_people', sql`approved_by is null or (approved_by <> opened_by and approved_by <> user_id)`)
    .addCheckConstraint('recovery_cases_not_about_opener', sql`opened_by <> user_id`)
    .execute();
  // At most one open case per person: two officers opening at once cannot both succeed.
  await sql`create unique index recovery_cases_one_open on recovery_cases (user_id) where status in ('pending', 'approved', 'redeemed')`.execute(db);
  await sql`create index recovery_cases_org_idx on recovery_cases (organisation_id, opened_at desc)`.execute(db);

  await sql`alter table webauthn_challenges drop constraint webauthn_challenges_ceremony_check`.execute(db);
  await sql.raw(`alter table webauthn_challenges add constraint webauthn_challenges_ceremony_check check (ceremony in (${CEREMONIES_BEFORE}, 'recovery'))`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from webauthn_challenges where ceremony = 'recovery'`.execute(db);
  await sql`alter table webauthn_challenges drop constraint webauthn_challenges_ceremony_check`.execute(db);
  await sql.raw(`alter table webauthn_challenges add constraint webauthn_challenges_ceremony_check check (ceremony in (${CEREMONIES_BEFORE}))`).execute(db);
  await db.schema.dropTable('recovery_cases').ifExists().execute();
}
