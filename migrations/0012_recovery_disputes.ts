import { type Kysely, sql } from 'kysely';

const STATUSES_BEFORE = `'pending', 'approved', 'redeemed', 'completed', 'rejected', 'cancelled', 'expired', 'locked'`;

/**
 * A user's "cancel" before the code was used puts the case in `disputed` (an
 * officer resolves it in person) instead of closing it: a hijacked session must
 * not be able to veto a genuine recovery for good. `disputed_from` is where a
 * case continued as genuine goes back to. `users.recovered_at` starts the
 * post-recovery cooldown on privileged actions (src/sessions/privilege.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table recovery_cases drop constraint recovery_cases_status_check`.execute(db);
  await sql.raw(`alter table recovery_cases add constraint recovery_cases_status_check check (status in (${STATUSES_BEFORE}, 'disputed'))`).execute(db);
  await db.schema
    .alterTable('recovery_cases')
    .addColumn('disputed_from', 'text', (c) => c.check(sql`disputed_from in ('pending', 'approved')`))
    .addColumn('disputed_at', 'timestamptz')
    .execute();
  await sql`alter table recovery_cases add constraint recovery_cases_dispute_known check (status <> 'disputed' or (disputed_from is not null and disputed_at is not null))`.execute(db);
  // A disputed case is still open: nobody opens a second one beside it.
  await sql`drop index recovery_cases_one_open`.execute(db);
  await sql`create unique index recovery_cases_one_open on recovery_cases (user_id) where status in ('pending', 'approved', 'redeemed', 'disputed')`.execute(db);

  await db.schema.alterTable('users').addColumn('recovered_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('recovered_at').execute();
  await sql`update recovery_cases set status = 'cancelled', closed_at = coalesce(closed_at, disputed_at), close_reason = coalesce(close_reason, 'cancelled_by_user') where status = 'disputed'`.execute(db);
  await sql`drop index recovery_cases_one_open`.execute(db);
  await sql`create unique index recovery_cases_one_open on recovery_cases (user_id) where status in ('pending', 'approved', 'redeemed')`.execute(db);
  await sql`alter table recovery_cases drop constraint recovery_cases_dispute_known`.execute(db);
  await db.schema.alterTable('recovery_cases').dropColumn('disputed_from').dropColumn('disputed_at').execute();
  await sql`alter table recovery_cases drop constraint recovery_cases_status_check`.execute(db);
  await sql.raw(`alter table recovery_cases add constraint recovery_cases_status_check check (status in (${STATUSES_BEFORE}))`).execute(db);
}
