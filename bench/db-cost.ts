/**
 * The database cost of each user-facing flow: statements, transactions, round trips,
 * rows written and WAL bytes, averaged over repetitions of the flow, with the least we
 * believe each flow needs.
 *
 *   npx tsx bench/db-cost.ts                                   # embedded PGlite (WAL: n/a)
 *   BENCH_DATABASE_URL=postgres://… npx tsx bench/db-cost.ts   # a scratch database on that server
 *   DB_COST_REPETITIONS=200 (default)
 *
 * The flows run in process (the app's fetch handler with Request objects, as the tests do):
 * this counts database work, not time. Counting:
 * - statements: a kysely plugin on the runtime's database sees every statement (including
 *   raw `sql` ones) as it completes, and the rows each insert, update or delete reports;
 * - transactions: the driver reports each BEGIN and COMMIT/ROLLBACK (src/db/observe.ts);
 * - round trips: statements plus BEGIN and COMMIT, each one exchange with the server;
 * - rows written: row triggers installed on every table of the scratch database count the
 *   rows each flow inserts, updates or deletes into an unlogged table (no WAL of their own),
 *   which also catches writes inside data-modifying CTEs, whose statement reports none;
 * - WAL: `pg_current_wal_lsn()` before and after each repetition, on a connection of its
 *   own. WAL is the whole server's, so the median repetition is reported: another
 *   database's work lands in a few repetitions, not in the median;
 * - PostgreSQL CPU: utime + stime of the backends serving the runtime (/proc, so only
 *   with the server on this machine), before and after each repetition; 10 ms ticks, so
 *   a mean over many repetitions. It includes the row-counting triggers' own work.
 * Setting up a repetition (e.g. an approved recovery case to redeem) happens before the
 * counters start.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CompiledQuery, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryId, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import { sql } from 'kysely';
import pg from 'pg';
import { Secret, TOTP } from 'otpauth';
import { createApp } from '../src/app.js';
import { sealAuditLog } from '../src/audit/audit.js';
import { OPERATOR, registerClient } from '../src/clients/service.js';
import { ManualClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import type { DatabaseObserver } from '../src/db/observe.js';
import type { User } from '../src/db/schema.js';
import { createInvitation, redeemInvitation } from '../src/invitations/service.js';
import { createOrganisation } from '../src/orgs/service.js';
import { hashPassword } from '../src/passwords/hash.js';
import { storePasswordHash } from '../src/passwords/service.js';
import { approveRecoveryCase } from '../src/recovery/approve.js';
import { readApproval, readOpenCase } from '../src/recovery/input.js';
import { openRecoveryCase } from '../src/recovery/open.js';
import { openRuntime, type Runtime } from '../src/runtime.js';
import { sessionCookieName } from '../src/http/session-cookie.js';
import { startSession } from '../src/sessions/service.js';
import { confirmTotpSetup, startTotpSetup } from '../src/totp/service.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { processCpuMs } from './cpu.js';
import { SoftAuthenticator } from '../test/support/soft-authenticator.js';

export interface FlowCost {
  flow: string;
  repetitions: number;
  statements: number;
  transactions: number;
  roundTrips: number;
  rowsWritten: number;
  /** Rows written per table, averaged. */
  tables: Record<string, number>;
  /** Median WAL bytes per repetition; undefined on PGlite. */
  walBytes: number | undefined;
  /** Mean CPU milliseconds of the PostgreSQL backends serving the runtime, per repetition; undefined on PGlite or a server elsewhere. */
  postgresCpuMs: number | undefined;
  minimum: Minimum;
}

/**
 * The audit sealer's work after the flows, per audit entry it linked into the chain: it
 * runs beside the requests (every second under `npm start`), so a flow's own figures
 * leave it out, but every audit entry a flow writes costs this too.
 */
export interface SealingCost {
  entries: number;
  /** Rows the sealer wrote per entry (it updates each entry with its place in the chain). */
  rowsWritten: number;
  walBytes: number | undefined;
  postgresCpuMs: number | undefined;
}

/** The least a flow needs, and why. */
interface Minimum {
  roundTrips: number;
  transactions: number;
  rowsWritten: number;
  why: string;
}

/**
 * What each flow must do at the least, as we read it. A statement that changes several
 * rows under one condition (data-modifying CTEs) is one round trip and atomic without
 * BEGIN/COMMIT; a transaction of several statements costs two more round trips. Caches
 * (clients, signing keys) are warm, as under load. Rows are the design's: every
 * security-relevant change audited, single-use enforced by a row change, per-address
 * request counting in the database (several instances share it).
 */
const MINIMUM: Record<string, Minimum> = {
  'passkey sign-in (options + verify)': {
    roundTrips: 2,
    transactions: 0,
    rowsWritten: 4,
    why: 'options: nothing (the challenge is sealed with an instance key, not stored). verify: read the address throttle, the challenge, and the credential with its user, user handle, policy and account throttle in one statement; after the signature, one statement stores the spent challenge (single use: its hash is unique), updates the counter and last use, inserts the session and its audit entry (4 rows). 2 round trips, one commit; 4 with those last writes as a transaction of three statements.',
  },
  'authorize (code issued, signed in)': {
    roundTrips: 4,
    transactions: 0,
    rowsWritten: 7,
    why: 'read the session with its user and roles (1); count the address (1 row); read the client (1): the front channel reads it fresh rather than from the per-instance cache the token endpoint uses, so a suspension holds at /authorize on every instance at once (docs/incident-response.md); one statement inserts the grant, its device, the code, the security event and the two audit entries (6 rows).',
  },
  'code → token': {
    roundTrips: 2,
    transactions: 0,
    rowsWritten: 2,
    why: 'one read of code, grant, user (claims included) and client owner, checked before anything changes; one statement claims the code (used_at IS NULL), binds the grant when the client is bound, and inserts the refresh token (2 rows). No audit on success.',
  },
  'refresh (rotating)': {
    roundTrips: 1,
    transactions: 0,
    rowsWritten: 3,
    why: 'one statement consumes the token (used_at IS NULL), inserts its successor, checks grant, user, client owner and session, returns the user claims, and notes the device use (3 rows: the device is written at most once a minute, so every refresh at a 5-minute cadence).',
  },
  client_credentials: {
    roundTrips: 0,
    transactions: 0,
    rowsWritten: 0,
    why: 'the client is cached and the JWT access token is self-contained: nothing to read or write.',
  },
  'recovery-code redemption': {
    roundTrips: 3,
    transactions: 0,
    rowsWritten: 2,
    why: 'read the address throttle (1); read user, latest approved case, policy and roles (1); one statement moves the case approved → redeemed (single use) and appends its audit entry (2 rows).',
  },
  'password + TOTP sign-in': {
    roundTrips: 2,
    transactions: 0,
    rowsWritten: 7,
    why: 'count the attempt against address and account before the argon2 verify (2 rows, so parallel guesses cannot outrun the limit) and read user, password, TOTP and policy in the same statement (1); one statement claims the TOTP step (single use), inserts the session and its audit entry and gives back the two counts (5 rows). 4 round trips with a transaction.',
  },
};

/** Counts what the runtime's database does between `start()` and `stop()`. */
class DatabaseCostCounter implements KyselyPlugin, DatabaseObserver {
  readonly plugin = this;
  counting = false;
  statements = 0;
  transactions = 0;
  /** Rows inserts, updates and deletes report (a CTE's writes are not reported: see the row triggers). */
  affectedRows = 0;

  /** DB_COST_TRACE=1 / DB_COST_EXPLAIN=1: sees each counted statement of a flow's first repetition. */
  trace: ((node: RootOperationNode, queryId: QueryId) => void) | undefined;

  /**
   * The queries transformQuery saw, until their result comes back. A query built into a
   * larger one (a sign-in's gate, a step of a CTE) passes through transformQuery as well,
   * when the larger one takes it in, but is never sent on its own, so no result names its
   * id: only whole statements reach the trace, and only they can be explained.
   */
  readonly #built = new WeakMap<QueryId, RootOperationNode>();

  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    if (this.counting && this.trace) this.#built.set(queryId, node);
    return node;
  }

  async transformResult({ result, queryId }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.counting) {
      this.statements += 1;
      if (result.numAffectedRows !== undefined) this.affectedRows += Number(result.numAffectedRows);
      const node = this.#built.get(queryId);
      if (node) this.trace?.(node, queryId);
    }
    this.#built.delete(queryId);
    return result;
  }

  onTransaction(step: 'begin' | 'commit' | 'rollback'): void {
    if (this.counting && step === 'begin') this.transactions += 1;
  }

  reset(): void {
    this.statements = this.transactions = this.affectedRows = 0;
  }
}

const ROW_COUNTER_TABLE = 'bench_rows_written';

/** Row triggers on every table that count inserted, updated and deleted rows per table into an unlogged table. */
async function installRowCounters(runtime: Runtime): Promise<void> {
  await sql`create unlogged table if not exists ${sql.id(ROW_COUNTER_TABLE)} (table_name text primary key, n bigint not null)`.execute(runtime.db);
  await sql`
    create or replace function bench_count_row() returns trigger language plpgsql as $$
    begin
      insert into bench_rows_written (table_name, n) values (tg_table_name, 1) on conflict (table_name) do update set n = bench_rows_written.n + 1;
      return null;
    end $$`.execute(runtime.db);
  const { rows } = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema() and tablename <> ${ROW_COUNTER_TABLE}`.execute(runtime.db);
  for (const { name } of rows) await sql`create trigger bench_count_row after insert or update or delete on ${sql.id(name)} for each row execute function bench_count_row()`.execute(runtime.db);
}

async function rowsWrittenByTable(runtime: Runtime): Promise<Map<string, number>> {
  const { rows } = await sql<{ table_name: string; n: number }>`select table_name, n from ${sql.id(ROW_COUNTER_TABLE)}`.execute(runtime.db);
  return new Map(rows.map((row) => [row.table_name, Number(row.n)]));
}

/**
 * DB_COST_TRACE=1 prints the statements of a flow's first repetition. DB_COST_EXPLAIN=1
 * also prints each one's plan with sequential scans discouraged (enable_seqscan off):
 * the bench's tables are small, so the planner would scan them whatever the indexes;
 * this way a "Seq Scan" left in a plan means no index can serve the statement.
 */
async function printStatements(runtime: Runtime, flow: string, statements: CompiledQuery[]): Promise<void> {
  process.stdout.write(`${flow}:\n`);
  await runtime.db.connection().execute(async (connection) => {
    if (process.env.DB_COST_EXPLAIN) await sql`set enable_seqscan = off`.execute(connection);
    for (const statement of statements) {
      process.stdout.write(`  ${statement.sql.replace(/\s+/g, ' ').slice(0, 300)}\n`);
      if (!process.env.DB_COST_EXPLAIN || /^\s*(begin|commit|rollback)/i.test(statement.sql)) continue;
      const { rows } = await connection.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain (costs off) ${statement.sql}`, [...statement.parameters]));
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n      ');
      process.stdout.write(`    ${/Seq Scan/.test(plan) ? 'SEQ SCAN ' : ''}plan:\n      ${plan}\n`);
    }
    if (process.env.DB_COST_EXPLAIN) await sql`reset enable_seqscan`.execute(connection);
  });
}

interface Flow {
  name: string;
  /** Prepares everything repetition `i` needs; not counted. */
  prepare?(i: number): Promise<void>;
  /** The flow itself; counted. */
  run(i: number): Promise<void>;
}

type Send = (path: string, init?: RequestInit & { form?: Record<string, string>; json?: unknown; cookie?: string }) => Promise<Response>;

async function expectStatus(response: Response, status: number, what: string): Promise<Response> {
  if (response.status !== status) throw new Error(`${what}: expected ${status}, got ${response.status} ${await response.text()}`);
  return response;
}

const cookiesOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .filter((c) => !c.endsWith('='))
    .join('; ');

export async function measureDatabaseCost(options: { databaseUrl?: string | undefined; repetitions?: number } = {}): Promise<{ rows: FlowCost[]; sealing: SealingCost; markdown: string }> {
  const repetitions = options.repetitions ?? 200;
  const scratch = options.databaseUrl ? await createScratchDatabase(options.databaseUrl, 'warta_bench_dbcost') : undefined;
  const counter = new DatabaseCostCounter();
  const clock = new ManualClock(new Date());
  const issuer = 'http://127.0.0.1:3000';
  const config = loadConfig({
    NODE_ENV: 'production',
    WARTA_ISSUER: issuer,
    WARTA_MASTER_KEY: randomBytes(32).toString('base64'),
    WARTA_LOG_LEVEL: 'silent',
    WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000',
    WARTA_OFFICER_COOLDOWN_HOURS: '0',
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
  });
  const runtime = await openRuntime(config, { clock, pgliteDir: 'memory://', databaseObserver: counter });
  const walClient = scratch ? new pg.Client({ connectionString: scratch.url }) : undefined;
  await walClient?.connect();
  try {
    await installRowCounters(runtime);
    let tracing = false;
    const traced: CompiledQuery[] = [];
    if (process.env.DB_COST_TRACE || process.env.DB_COST_EXPLAIN) counter.trace = (node, queryId) => tracing && traced.push(runtime.db.getExecutor().compileQuery(node, queryId));
    const app = createApp(runtime);
    const send: Send = (path, init = {}) => {
      const headers = new Headers(init.headers);
      let body = init.body;
      if (init.form) {
        headers.set('content-type', 'application/x-www-form-urlencoded');
        body = new URLSearchParams(init.form).toString();
      }
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      if (init.cookie) headers.set('cookie', init.cookie);
      return Promise.resolve(app.request(`${issuer}${path}`, { method: init.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) }));
    };
    const flows = await setUpFlows(runtime, clock, send);
    const rows: FlowCost[] = [];
    for (const flow of flows) {
      // A few unmeasured rounds first: caches (clients, signing keys) fill as in a running server.
      for (let i = 0; i < 3; i++) {
        await flow.prepare?.(repetitions + i);
        await flow.run(repetitions + i);
      }
      const walBytes: number[] = [];
      const backends = await backendsOf(walClient);
      let postgresMs: number | undefined = backends.length ? 0 : undefined;
      const totals = { statements: 0, transactions: 0 };
      const tables = new Map<string, number>();
      for (let i = 0; i < repetitions; i++) {
        await flow.prepare?.(i);
        const before = await rowsWrittenByTable(runtime);
        const lsn = await walPosition(walClient);
        const cpuBefore = postgresMs === undefined ? undefined : cpuMsOf(backends);
        counter.reset();
        counter.counting = true;
        tracing = i === 0;
        try {
          await flow.run(i);
        } finally {
          counter.counting = false;
          tracing = false;
        }
        const cpuAfter = cpuBefore === undefined ? undefined : cpuMsOf(backends);
        postgresMs = cpuBefore === undefined || cpuAfter === undefined || postgresMs === undefined ? undefined : postgresMs + cpuAfter - cpuBefore;
        if (traced.length) await printStatements(runtime, flow.name, traced.splice(0));
        if (walClient) walBytes.push(await walSince(walClient, lsn!));
        totals.statements += counter.statements;
        totals.transactions += counter.transactions;
        for (const [table, n] of await rowsWrittenByTable(runtime)) {
          const written = n - (before.get(table) ?? 0);
          if (written) tables.set(table, (tables.get(table) ?? 0) + written);
        }
      }
      const perRun = (n: number) => n / repetitions;
      const statements = perRun(totals.statements);
      const transactions = perRun(totals.transactions);
      rows.push({
        flow: flow.name,
        repetitions,
        statements,
        transactions,
        roundTrips: statements + 2 * transactions,
        rowsWritten: perRun([...tables.values()].reduce((a, b) => a + b, 0)),
        tables: Object.fromEntries([...tables].sort(([a], [b]) => a.localeCompare(b)).map(([table, n]) => [table, perRun(n)])),
        walBytes: walBytes.length ? median(walBytes) : undefined,
        postgresCpuMs: postgresMs === undefined ? undefined : postgresMs / repetitions,
        minimum: MINIMUM[flow.name]!,
      });
    }
    const sealing = await measureSealing(runtime, walClient);
    return { rows, sealing, markdown: databaseCostTable(rows, runtime.dbKind, sealing) };
  } finally {
    await walClient?.end();
    await runtime.close();
    await scratch?.drop();
  }
}

/** Everything the flows left unsealed, sealed as the audit sealer does it, in its batches. */
async function measureSealing(runtime: Runtime, walClient: pg.Client | undefined): Promise<SealingCost> {
  const backends = await backendsOf(walClient);
  const before = await rowsWrittenByTable(runtime);
  const lsn = await walPosition(walClient);
  const cpuBefore = backends.length ? cpuMsOf(backends) : undefined;
  let entries = 0;
  for (let sealed; (sealed = await sealAuditLog(runtime.db, runtime)) > 0; ) entries += sealed;
  const cpuAfter = cpuBefore === undefined ? undefined : cpuMsOf(backends);
  const walBytes = walClient ? await walSince(walClient, lsn!) : undefined;
  const rowsWritten = [...(await rowsWrittenByTable(runtime))].reduce((sum, [table, n]) => sum + n - (before.get(table) ?? 0), 0);
  const perEntry = (n: number) => n / Math.max(1, entries);
  return {
    entries,
    rowsWritten: perEntry(rowsWritten),
    walBytes: walBytes === undefined ? undefined : perEntry(walBytes),
    postgresCpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : perEntry(cpuAfter - cpuBefore),
  };
}

/** The PostgreSQL backends serving the runtime: every connection to the scratch database but the WAL reader's own. */
async function backendsOf(walClient: pg.Client | undefined): Promise<number[]> {
  if (!walClient) return [];
  return (await walClient.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')).rows.map((row) => row.pid);
}

const walPosition = async (walClient: pg.Client | undefined): Promise<string | undefined> => (walClient ? (await walClient.query<{ lsn: string }>('select pg_current_wal_lsn() as lsn')).rows[0]!.lsn : undefined);

const walSince = async (walClient: pg.Client, lsn: string): Promise<number> => Number((await walClient.query<{ bytes: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1) as bytes', [lsn])).rows[0]!.bytes);

/**
 * CPU ms (user + system) the processes `pids` have used, from /proc: the PostgreSQL
 * backends of the runtime's connections when the server runs on this machine;
 * undefined when one cannot be read. It moves in 10 ms ticks, so one repetition reads
 * 0 or 10, and only the mean over many means something.
 */
function cpuMsOf(pids: number[]): number | undefined {
  let ms = 0;
  for (const pid of pids) {
    const used = processCpuMs(pid);
    if (used === undefined) return undefined;
    ms += used;
  }
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

export function databaseCostTable(rows: FlowCost[], dbKind: 'pg' | 'pglite', sealing?: SealingCost): string {
  const auditEntries = (r: FlowCost) => r.tables.audit_log ?? 0;
  const withSealing = (r: FlowCost) => (r.walBytes === undefined || sealing?.walBytes === undefined ? 'n/a' : fmt(Math.round(r.walBytes + auditEntries(r) * sealing.walBytes)));
  return [
    `Database cost per flow (${dbKind === 'pg' ? 'PostgreSQL' : 'embedded PGlite'}; mean of ${rows[0]?.repetitions ?? 0} repetitions each, WAL the median repetition; PostgreSQL CPU from /proc of the backends serving the flow, in 10 ms ticks averaged, and including the bench's row-counting triggers). Minimum: round trips / transactions / rows the flow needs at the least.`,
    '',
    '| flow | statements | transactions | round trips | rows written | WAL bytes | WAL bytes with the sealing of its audit entries | PostgreSQL CPU ms | minimum (round trips / tx / rows) | rows written by table |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.flow} | ${fmt(r.statements)} | ${fmt(r.transactions)} | ${fmt(r.roundTrips)} | ${fmt(r.rowsWritten)} | ${r.walBytes === undefined ? 'n/a' : fmt(r.walBytes)} | ${withSealing(r)} | ${r.postgresCpuMs === undefined ? 'n/a' : r.postgresCpuMs.toFixed(2)} | ${r.minimum.roundTrips} / ${r.minimum.transactions} / ${r.minimum.rowsWritten} | ${Object.entries(r.tables)
          .map(([table, n]) => `${table} ${fmt(n)}`)
          .join(', ')} |`,
    ),
    '',
    ...(sealing
      ? [
          `Sealing, afterwards: the audit sealer links each new audit entry into the chain, in batches of up to 500, beside the requests (every second under \`npm start\`). Sealing the ${sealing.entries} entries these flows wrote took, per entry, ${fmt(sealing.rowsWritten)} row written (the entry, updated with its place in the chain), ${sealing.walBytes === undefined ? 'n/a' : Math.round(sealing.walBytes)} WAL bytes and ${sealing.postgresCpuMs === undefined ? 'n/a' : sealing.postgresCpuMs.toFixed(2)} ms of PostgreSQL CPU. A flow's own columns leave this out; the column with sealing adds it once per audit entry the flow wrote.`,
          '',
        ]
      : []),
    'Why these minimums:',
    ...rows.map((r) => `- ${r.flow}: ${r.minimum.why}`),
  ].join('\n');
}

const REDIRECT_URI = 'https://rp.bench.invalid/callback';
const DESKS = ['Desk 1', 'Desk 2'];

async function createPerson(runtime: Runtime, organisationId: string, role: 'member' | 'recovery_officer' = 'member'): Promise<User> {
  const invitation = await createInvitation(runtime, { actor: 'bench' }, { organisationId, displayName: 'Bench Person', email: `p-${randomBytes(5).toString('hex')}@example.gov`, role });
  return runtime.db.transaction().execute(async (trx) => (await redeemInvitation(trx, runtime, { actor: 'bench' }, invitation.token)).user);
}

async function setUpFlows(runtime: Runtime, clock: ManualClock, send: Send): Promise<Flow[]> {
  const organisation = await createOrganisation(runtime, { actor: 'bench' }, { name: `Bench ${randomBytes(3).toString('hex')}`, policy: { recoveryDesks: DESKS } });
  const client = await registerClient(runtime, { actor: 'bench' }, {
    client_name: 'Bench client',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile email offline_access api:read',
    first_party: true,
  }, { authority: OPERATOR });
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret!)}`).toString('base64')}`;
  const token = (form: Record<string, string>) => send('/token', { method: 'POST', headers: { authorization: basic }, form });
  const origin = runtime.config.origin;

  // Passkey: one person enrolled by invitation with a software authenticator.
  const enrollee = await createInvitation(runtime, { actor: 'bench' }, { organisationId: organisation.id, displayName: 'Passkey Person', email: `pk-${randomBytes(4).toString('hex')}@example.gov`, role: 'member' });
  const authenticator = new SoftAuthenticator();
  const creation = await (await expectStatus(await send('/api/webauthn/enrollment/options', { method: 'POST', json: { invitation: enrollee.token } }), 200, 'enrollment options')).json();
  await expectStatus(await send('/api/webauthn/enrollment/verify', { method: 'POST', json: { invitation: enrollee.token, credential: authenticator.createCredential(creation, { origin }) } }), 201, 'enrollment');

  // The code flow: a signed-in person and fresh PKCE per repetition.
  const member = await createPerson(runtime, organisation.id);
  const { token: sessionToken } = await startSession(runtime.db, runtime, { userId: member.id, amr: ['hwk', 'user'], ip: null, userAgent: 'bench' });
  const sessionCookie = `${sessionCookieName(runtime.config.secureCookies)}=${sessionToken}`;
  const codes: string[] = [];
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = async () => {
    const params = new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, scope: 'openid profile email offline_access', code_challenge: challenge, code_challenge_method: 'S256', state: randomUUID(), nonce: randomUUID() });
    const response = await send(`/authorize?${params}`, { cookie: sessionCookie });
    const location = response.headers.get('location');
    const code = location ? new URL(location).searchParams.get('code') : null;
    if (code === null) throw new Error(`authorize: ${response.status} ${location ?? (await response.text()).slice(0, 300)}`);
    return code;
  };

  // Refresh: one chain from a real code exchange (so its device is listed), rotated by each repetition.
  const exchanged = await expectStatus(await token({ grant_type: 'authorization_code', code: await authorize(), redirect_uri: REDIRECT_URI, code_verifier: verifier }), 200, 'code → token');
  let refreshToken = ((await exchanged.json()) as { refresh_token: string }).refresh_token;

  // Recovery: two officers; each repetition redeems an approved case of its own person.
  const [opener, approver] = [await createPerson(runtime, organisation.id, 'recovery_officer'), await createPerson(runtime, organisation.id, 'recovery_officer')];
  const { session: approverSession } = await startSession(runtime.db, runtime, { userId: approver!.id, amr: ['hwk', 'user'], ip: null, userAgent: 'bench' });
  const recoveryCodes = new Map<number, { username: string; code: string }>();

  // Password + TOTP: one person; the clock moves a step per repetition (a TOTP step is single-use).
  const passwordPerson = await createPerson(runtime, organisation.id);
  const setup = await startTotpSetup(runtime, { actor: 'bench' }, passwordPerson);
  const totpSecret = new Secret({ buffer: Secret.fromBase32(setup.secret.replaceAll(' ', '')).buffer });
  const totpCode = () => TOTP.generate({ secret: totpSecret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: clock.now().getTime() });
  await confirmTotpSetup(runtime, { actor: 'bench' }, passwordPerson, totpCode());
  const password = 'correct horse battery staple';
  const passwordHash = await hashPassword(password, runtime.config.passwords.argon2);
  await runtime.db.transaction().execute((trx) => storePasswordHash(trx, clock, passwordPerson.id, passwordHash));

  const flows: Flow[] = [
    {
      name: 'passkey sign-in (options + verify)',
      run: async () => {
        const options = await expectStatus(await send('/api/webauthn/authentication/options', { method: 'POST', json: {} }), 200, 'passkey options');
        const credential = authenticator.getAssertion(await options.json(), { origin });
        await expectStatus(await send('/api/webauthn/authentication/verify', { method: 'POST', json: { credential }, cookie: cookiesOf(options) }), 200, 'passkey verify');
      },
    },
    {
      name: 'authorize (code issued, signed in)',
      run: async () => {
        codes.push(await authorize());
      },
    },
    {
      name: 'code → token',
      prepare: async () => {
        if (!codes.length) codes.push(await authorize());
      },
      run: async () => {
        await expectStatus(await token({ grant_type: 'authorization_code', code: codes.shift()!, redirect_uri: REDIRECT_URI, code_verifier: verifier }), 200, 'code → token');
      },
    },
    {
      name: 'refresh (rotating)',
      // A messenger refreshes every five minutes (issue #18's projection), so each refresh finds its device last used then.
      // Moving the clock instead would also expire the client and key caches, which under real load are warm.
      prepare: async () => {
        await runtime.db.updateTable('devices').set({ last_used_at: new Date(clock.now().getTime() - 300_000) }).where('user_id', '=', member.id).execute();
      },
      run: async () => {
        const response = await expectStatus(await token({ grant_type: 'refresh_token', refresh_token: refreshToken }), 200, 'refresh');
        refreshToken = ((await response.json()) as { refresh_token: string }).refresh_token;
      },
    },
    {
      name: 'client_credentials',
      run: async () => {
        await expectStatus(await token({ grant_type: 'client_credentials', scope: 'api:read' }), 200, 'client_credentials');
      },
    },
    {
      name: 'recovery-code redemption',
      prepare: async (i) => {
        const person = await createPerson(runtime, organisation.id);
        const opened = await openRecoveryCase(runtime, { actor: `user:${opener!.id}` }, opener!, readOpenCase({ user_id: person.id, desk: DESKS[0], document_type: 'national_id', document_last4: '4kx9', identity_note: 'Photo matches.', reason: 'Phone lost.' }));
        const { code } = await approveRecoveryCase(runtime, { actor: `user:${approver!.id}` }, { officer: approver!, session: approverSession, caseId: opened.id, ...readApproval({ desk: DESKS[1] }) });
        recoveryCodes.set(i, { username: person.username, code });
      },
      run: async (i) => {
        await expectStatus(await send('/api/recovery/redeem', { method: 'POST', json: recoveryCodes.get(i) }), 200, 'recovery redeem');
      },
    },
    {
      name: 'password + TOTP sign-in',
      prepare: async () => {
        clock.advance(30);
      },
      run: async () => {
        await expectStatus(await send('/api/signin/password', { method: 'POST', json: { username: passwordPerson.username, password, code: totpCode() } }), 200, 'password + TOTP sign-in');
      },
    },
  ];
  return flows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const repetitions = Number(process.env.DB_COST_REPETITIONS ?? 200);
  const { rows, markdown } = await measureDatabaseCost({ databaseUrl: process.env.BENCH_DATABASE_URL || undefined, repetitions });
  process.stdout.write(`${markdown}\n`);
  if (process.env.DB_COST_JSON) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  process.exit(0);
}
