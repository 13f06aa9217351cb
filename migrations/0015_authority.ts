import { type Kysely, sql } from 'kysely';

/**
 * Authority (src/authority/): no single admin grants privilege or takes over an
 * account alone (issue 11, attacks 2 and 10).
 *
 * - `operator` role: the instance operator's people; granted by bootstrap or the CLI only.
 * - user_roles.acts_from: a newly granted recovery officer acts on cases only from then on.
 * - invitations.approved_by/approved_at: an admin's invitation to a privileged role waits
 *   for a second admin; until then it has no token (token_hash null), so no link exists.
 * - organisations.email_domains: the e-mail domains an organisation may invite into.
 * - recovery_cases.requires_admin/admin_approved_*: a case about an admin or an officer
 *   needs an admin's co-approval besides the two officers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table user_roles drop constraint if exists user_roles_role_check`.execute(db);
  await sql`alter table user_roles add constraint user_roles_role_check check (role in ('member', 'recovery_officer', 'admin', 'operator'))`.execute(db);
  await db.schema.alterTable('user_roles').addColumn('acts_from', 'timestamptz').execute();

  // Bootstrap's first admin also becomes an operator when the invitation is redeemed.
  await db.schema.alterTable('invitations').addColumn('grants_operator', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema.alterTable('invitations').addColumn('approval_required', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema.alterTable('invitations').addColumn('approved_by', 'uuid', (c) => c.references('users.id')).execute();
  await db.schema.alterTable('invitations').addColumn('approved_at', 'timestamptz').execute();
  await sql`alter table invitations alter column token_hash drop not null`.execute(db);
  // Whoever asks for the privilege never approves it: enforced by the schema as well as the code.
  await sql`alter table invitations add constraint invitations_four_eyes check (approved_by is null or created_by is null or approved_by <> created_by)`.execute(db);

  await db.schema.alterTable('organisations').addColumn('email_domains', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`)).execute();

  await db.schema.alterTable('recovery_cases').addColumn('requires_admin', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema.alterTable('recovery_cases').addColumn('admin_approved_by', 'uuid', (c) => c.references('users.id')).execute();
  await db.schema.alterTable('recovery_cases').addColumn('admin_approved_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('recovery_cases').dropColumn('admin_approved_at').dropColumn('admin_approved_by').dropColumn('requires_admin').execute();
  await db.schema.alterTable('organisations').dropColumn('email_domains').execute();
  await sql`alter table invitations drop constraint if exists invitations_four_eyes`.execute(db);
  await sql`delete from invitations where token_hash is null`.execute(db);
  await sql`alter table invitations alter column token_hash set not null`.execute(db);
  await db.schema.alterTable('invitations').dropColumn('approved_at').dropColumn('approved_by').dropColumn('approval_required').dropColumn('grants_operator').execute();
  await db.schema.alterTable('user_roles').dropColumn('acts_from').execute();
  await sql`delete from user_roles where role = 'operator'`.execute(db);
  await sql`alter table user_roles drop constraint if exists user_roles_role_check`.execute(db);
  await sql`alter table user_roles add constraint user_roles_role_check check (role in ('member', 'recovery_officer', 'admin'))`.execute(db);
}
