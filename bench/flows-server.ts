/**
 * Warta as the target of bench/flows.ts, in its own process: production settings,
 * the default request log on (written to this process's stdout, which the bench
 * discards), PostgreSQL when a database URL is given, else in-memory PGlite.
 *
 * Seeds the messenger (a native public client: PKCE, DPoP-bound tokens, as
 * docs/messenger.md registers it), invitations for the passkey users (the bench
 * enrolls them over HTTP with its software authenticator) and users with a
 * password and an authenticator app (TOTP) for the password sign-in.
 *
 * Answers `cpu` messages with its process.cpuUsage(), so the bench measures
 * Warta's CPU per sign-in, not the wall time the shared machine stretches.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Secret, TOTP } from 'otpauth';
import { createApp } from '../src/app.js';
import { startAuditSealer } from '../src/audit/sealer.js';
import { OPERATOR, registerClient } from '../src/clients/service.js';
import { loadConfig } from '../src/config.js';
import { createInvitation, redeemInvitation } from '../src/invitations/service.js';
import { createOrganisation } from '../src/orgs/service.js';
import { hashPassword } from '../src/passwords/hash.js';
import { storePasswordHash } from '../src/passwords/service.js';
import { openRuntime } from '../src/runtime.js';
import { confirmTotpSetup, startTotpSetup } from '../src/totp/service.js';
import { PostgresQueryCompiler } from 'kysely';
import type { Runtime } from '../src/runtime.js';

export interface FlowServerOptions {
  databaseUrl: string | undefined;
  dbPoolSize: number;
  /** Invitations to hand out for passkey users. */
  passkeyUsers: number;
  /** Users with a password and TOTP. */
  passwordUsers: number;
}

export interface FlowServerReady {
  type: 'ready';
  url: string;
  description: string;
  messenger: { clientId: string; redirectUri: string; scope: string };
  invitations: string[];
  password: string;
  /** username and the authenticator app's secret (base32) of each password user. */
  passwordUsers: { username: string; secret: string }[];
  argon2: { memoryKiB: number; timeCost: number; parallelism: number };
  /** Hashes Warta computes at once (its hashing gate's slots). */
  hashConcurrency: number;
}

export const MESSENGER_REDIRECT_URI = 'gov.example.messenger:/oauth/callback';
export const MESSENGER_SCOPE = 'openid profile email offline_access';
const PASSWORD = 'correct horse battery staple';

const options = JSON.parse(process.argv[2] ?? '{}') as FlowServerOptions;

type Handler = (request: Request, env: unknown) => Response | Promise<Response>;
let handler: Handler | undefined;
// The socket goes to the app with each request (node-server's env), so it sees the peer as a trusted proxy.
const server = serve({ fetch: (request, env) => (handler ? handler(request, env) : new Response('starting', { status: 503 })), port: 0, hostname: '127.0.0.1' });
await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const config = loadConfig({
  NODE_ENV: 'production',
  WARTA_ISSUER: url,
  WARTA_MASTER_KEY: randomBytes(32).toString('base64'),
  // WARTA_LOG_LEVEL is left to its default (info): one request-log line per request, as deployed.
  // The bench is the reverse proxy of a deployment: each virtual client sends its own X-Forwarded-For address,
  // so per-address counters are as spread as in production rather than one hot row for 127.0.0.1.
  WARTA_TRUST_PROXY: '127.0.0.1',
  // Each virtual client signs in dozens of times a second: lift the per-address limit of the anonymous endpoints (/authorize, the options).
  WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000',
  WARTA_DB_POOL_SIZE: String(options.dbPoolSize),
  ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  // To measure other sizes of the hashing gate (the argon2 reference follows it).
  ...(process.env.WARTA_HASH_CONCURRENCY ? { WARTA_HASH_CONCURRENCY: process.env.WARTA_HASH_CONCURRENCY } : {}),
});
const runtime = await openRuntime(config, { pgliteDir: 'memory://' });
if (process.env.BENCH_TRACE_QUERIES) traceQueries(runtime);
const app = createApp(runtime);
handler = (request, env) => app.fetch(request, env as never);
// As `npm start` runs it: the sealer links each sign-in's audit entry into the chain, a cost of the sign-in.
startAuditSealer(runtime);

const bench = { actor: 'bench' };
const organisation = await createOrganisation(runtime, bench, { name: `Bench ${randomBytes(3).toString('hex')}` });
const messenger = await registerClient(runtime, bench, {
  client_name: 'Messenger',
  application_type: 'native',
  grant_types: ['authorization_code', 'refresh_token'],
  redirect_uris: [MESSENGER_REDIRECT_URI],
  scope: MESSENGER_SCOPE,
  first_party: true,
  dpop_bound_access_tokens: true,
  required_acr: 'urn:warta:acr:phishing-resistant',
}, { authority: OPERATOR });

const invitations: string[] = [];
for (let i = 0; i < options.passkeyUsers; i++) {
  const { token } = await createInvitation(runtime, bench, { organisationId: organisation.id, displayName: `Passkey User ${i}`, email: `passkey-${i}-${randomBytes(3).toString('hex')}@example.gov`, role: 'member' });
  invitations.push(token);
}

// One hash for every password user: argon2 stores its salt in the hash, so it verifies for each of them.
const passwordHash = await hashPassword(PASSWORD, config.passwords.argon2);
const passwordUsers: FlowServerReady['passwordUsers'] = [];
for (let i = 0; i < options.passwordUsers; i++) {
  const invitation = await createInvitation(runtime, bench, { organisationId: organisation.id, displayName: `Password User ${i}`, email: `password-${i}-${randomBytes(3).toString('hex')}@example.gov`, role: 'member' });
  const { user } = await runtime.db.transaction().execute((trx) => redeemInvitation(trx, runtime, bench, invitation.token));
  const setup = await startTotpSetup(runtime, bench, user);
  const secret = setup.secret.replaceAll(' ', '');
  await confirmTotpSetup(runtime, bench, user, TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: runtime.clock.now().getTime() }));
  await runtime.db.transaction().execute((trx) => storePasswordHash(trx, runtime.clock, user.id, passwordHash));
  passwordUsers.push({ username: user.username, secret });
}

const ready: FlowServerReady = {
  type: 'ready',
  url,
  description: `Warta (hono + @hono/node-server, ${runtime.dbKind === 'pg' ? `PostgreSQL, pool ${options.dbPoolSize}` : 'embedded PGlite'}, request log at info)`,
  messenger: { clientId: messenger.client_id, redirectUri: MESSENGER_REDIRECT_URI, scope: MESSENGER_SCOPE },
  invitations,
  password: PASSWORD,
  passwordUsers,
  argon2: config.passwords.argon2,
  hashConcurrency: config.passwords.hashing.concurrency,
};
process.send!(ready);
process.on('message', async (message) => {
  if (message === 'cpu') {
    // The query count rides along: the metrics' query-duration histogram counts every statement.
    const { body } = await runtime.metrics.exposition();
    const queries = [...body.matchAll(/^warta_database_query_duration_seconds_count\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    process.send!({ type: 'cpu', usage: process.cpuUsage(), mainThreadMs: mainThreadCpuMs(), queries });
    return;
  }
  if (message !== 'stop') return;
  (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  server.close();
  await runtime.close();
  process.exit(0);
});

/**
 * CPU of the main (JavaScript) thread alone, from /proc (Linux; NaN elsewhere): the
 * process's total less this is libuv's threadpool (where argon2 runs) and V8's helpers,
 * so a sign-in's own JavaScript shows apart from the hash it waits for. 10 ms ticks.
 */
function mainThreadCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS_PER_SECOND = 100;

/** BENCH_TRACE_QUERIES=1: every statement to stderr, to see what one flow runs (with BENCH_FLOW_CONCURRENCY=1). */
function traceQueries(runtime: Runtime): void {
  const compiler = new PostgresQueryCompiler();
  (runtime as { db: Runtime['db'] }).db = runtime.db.withPlugin({
    transformQuery: (args) => {
      process.stderr.write(`  SQL ${compiler.compileQuery(args.node, args.queryId).sql.slice(0, 160)}\n`);
      return args.node;
    },
    transformResult: async (args) => args.result,
  });
}
