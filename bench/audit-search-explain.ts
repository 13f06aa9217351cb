/**
 * The audit search and retention indexes of migration 0025, measured on an
 * in-memory PGlite: `npx tsx bench/audit-search-explain.ts` (with them) and
 * `… without` (dropped). Results in docs/admin.md (Audit log).
 */
import { sql } from 'kysely';
import { connectDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { readAuditFilters, searchAudit } from '../src/audit/search.js';

const { db } = await connectDatabase({ databaseUrl: undefined, pgliteDir: 'memory://', poolSize: 1, attempts: 1 });
await migrateToLatest(db);
const withIndexes = process.argv[2] !== 'without';
if (!withIndexes) for (const i of ['audit_log_subject_idx', 'audit_log_actor_idx', 'sessions_address_ended_idx', 'devices_address_used_idx', 'security_events_address_idx']) await sql`drop index ${sql.id(i)}`.execute(db);
// 20 organisations × 50 people; 200k audit entries spread over them; one small organisation.
await sql`insert into organisations (id, name, policy, email_domains, created_at) select gen_random_uuid(), 'org ' || g, '{}', '{}', now() from generate_series(1, 20) g`.execute(db).catch(async (e) => { console.error(e.message); process.exit(1); });
await sql`insert into users (id, organisation_id, username, display_name, status, created_at, updated_at) select gen_random_uuid(), o.id, o.name || '-' || g, 'u', 'active', now(), now() from organisations o, generate_series(1, 50) g`.execute(db);
const actions = ['signin.passkey', 'person.viewed', 'person.disabled', 'session.ended', 'invitation.created'];
await sql`insert into audit_log (at, actor, action, subject, outcome, details) select now() - (g || ' seconds')::interval, 'user:' || u.id, (${sql.val(actions)}::text[])[1 + g % 5], 'user:' || u.id, 'success', '{}' from generate_series(1, 200000) g, lateral (select id from users order by id offset (g % 1000) limit 1) u`.execute(db);
const small = await sql<{ id: string }>`insert into organisations (id, name, policy, email_domains, created_at) values (gen_random_uuid(), 'small', '{}', '{}', now()) returning id`.execute(db);
const smallOrg = small.rows[0]!.id;
await sql`insert into users (id, organisation_id, username, display_name, status, created_at, updated_at) select gen_random_uuid(), ${smallOrg}, 'small-' || g, 'u', 'active', now(), now() from generate_series(1, 3) g`.execute(db);
await sql`insert into audit_log (at, actor, action, subject, outcome, details) select now() - interval '30 days', 'cli', 'person.disabled', 'user:' || id, 'success', '{}' from users where organisation_id = ${smallOrg}`.execute(db);
await sql`insert into sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, idle_expires_at, auth_time, acr, amr, ip, user_agent) select gen_random_uuid(), md5(g::text), (select id from users limit 1), now(), now(), now() + (g || ' minutes')::interval, now() + (g || ' minutes')::interval, now(), 'x', '[]', '1.2.3.4', 'ua' from generate_series(1, 50000) g`.execute(db).catch((e) => console.error('sessions seed:', e.message));
await sql`analyze`.execute(db);
const big = (await sql<{ id: string }>`select id from organisations where name = 'org 3'`.execute(db)).rows[0]!.id;
const person = (await sql<{ id: string }>`select id from users where organisation_id = ${big} limit 1`.execute(db)).rows[0]!.id;

async function measure(label: string, run: () => Promise<unknown>) {
  const started = performance.now();
  for (let i = 0; i < 5; i++) await run();
  console.log(`${withIndexes ? 'with' : 'without'} indexes: ${label}: ${((performance.now() - started) / 5).toFixed(1)} ms`);
}
for (const [label, scope, raw] of [
  ['big org, no filter', { organisationId: big }, {}],
  ['big org, person', { organisationId: big }, { person }],
  ['big org, action prefix person.', { organisationId: big }, { action: 'person.' }],
  ['big org, actor', { organisationId: big }, { actor: `user:${person}` }],
  ['small org (3 entries in 200k), no filter', { organisationId: smallOrg }, {}],
] as const) {
  const filters = await readAuditFilters(db, scope, raw);
  await measure(label, () => searchAudit(db, scope, filters, { limit: 50 }));
}
const plan = await sql<{ 'QUERY PLAN': string }>`explain select id from sessions where (ip is not null or user_agent is not null) and least(revoked_at, expires_at, idle_expires_at) < ${new Date(Date.now() - 86400_000)} limit 500`.execute(db);
console.log('retention sessions plan:', plan.rows.map((r) => r['QUERY PLAN']).join(' | '));
const plan2 = await sql<{ 'QUERY PLAN': string }>`explain select id from audit_log a where a.subject = ${'user:' + person} order by id desc limit 51`.execute(db);
console.log('person plan:', plan2.rows.map((r) => r['QUERY PLAN']).join(' | '));
process.exit(0);
