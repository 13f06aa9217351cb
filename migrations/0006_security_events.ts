import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The user-visible record of a security event: the account page's banner and history read it.
  await db.schema
    .createTable('security_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('initiating_entity', 'text', (c) => c.check(sql`initiating_entity in ('admin', 'user', 'policy', 'system')`))
    .addColumn('txn', 'text')
    .addColumn('ip', 'text')
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index security_events_user_idx on security_events (user_id, occurred_at desc)`.execute(db);

  await db.schema
    .createTable('event_receivers')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organisation_id', 'uuid', (c) => c.notNull().references('organisations.id'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    // null: every event type; else a JSON array of Warta event type names.
    .addColumn('events', 'jsonb')
    .addColumn('bearer_token_enc', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('removed_at', 'timestamptz')
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failing_since', 'timestamptz')
    .addColumn('last_success_at', 'timestamptz')
    .addColumn('last_failure_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .execute();
  await sql`create unique index event_receivers_active_key on event_receivers (organisation_id, url, audience) where removed_at is null`.execute(db);

  // One row per (event, receiver): the SET to push. Rows stay after delivery as its record until pruned.
  await db.schema
    .createTable('set_outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('jti', 'text', (c) => c.notNull().unique())
    .addColumn('receiver_id', 'uuid', (c) => c.notNull().references('event_receivers.id'))
    .addColumn('event_id', 'uuid', (c) => c.notNull().references('security_events.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'delivered', 'rejected', 'abandoned', 'cancelled')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
    .addColumn('locked_until', 'timestamptz')
    .addColumn('claim_id', 'uuid')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  // The claim query looks for the oldest pending row per (receiver, user).
  await sql`create index set_outbox_pending_idx on set_outbox (receiver_id, user_id, id) where status = 'pending'`.execute(db);
  await sql`create index set_outbox_due_idx on set_outbox (next_attempt_at) where status = 'pending'`.execute(db);
  await sql`create index set_outbox_finished_idx on set_outbox (finished_at) where status <> 'pending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['set_outbox', 'event_receivers', 'security_events']) await db.schema.dropTable(table).ifExists().execute();
}
