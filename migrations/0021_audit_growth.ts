import { type Kysely, sql } from 'kysely';

/**
 * Bounds what anonymous input adds to the audit log, and lets the operator move
 * old entries out of it.
 *
 * `anonymous_failure_counts`: failures that name no existing account or client
 * (an unknown username, a throttled address) are counted here, one row per
 * action, key and time window, instead of one audit entry each; a periodic job
 * turns each closed window into one audit entry and deletes the row
 * (src/audit/anonymous-failures.ts).
 *
 * `audit_archives`: where `warta audit archive` cut the chain. The newest row is
 * the chain's start anchor for `audit verify`; its MAC (chain key, under the
 * master key) keeps a database writer from moving the anchor.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table anonymous_failure_counts (
      id bigint generated always as identity primary key,
      action text not null,
      key text not null check (length(key) <= 200),
      window_start timestamptz not null,
      window_seconds integer not null,
      count bigint not null,
      first_at timestamptz not null,
      last_at timestamptz not null,
      last_ip text,
      unique (action, key, window_start)
    )`.execute(db);
  await sql`create index anonymous_failure_counts_window_idx on anonymous_failure_counts (window_start)`.execute(db);
  await sql`
    create table audit_archives (
      id bigint generated always as identity primary key,
      after_seq bigint not null unique,
      through_seq bigint not null unique check (through_seq > after_seq),
      head_hash text not null,
      head_at timestamptz not null,
      entries bigint not null,
      file_sha256 text not null,
      archived_at timestamptz not null,
      mac text not null
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table audit_archives`.execute(db);
  await sql`drop table anonymous_failure_counts`.execute(db);
}
