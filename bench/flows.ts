/**
 * What users feel: whole sign-ins under load, each against a reference measured in the same run.
 *
 * 1. The messenger's passkey sign-in, over HTTP as its app and the system browser make it:
 *    GET /authorize (public client, PKCE S256, dpop_jkt) → POST …/authentication/options →
 *    POST …/authentication/verify (the software authenticator's assertion) → GET the resume
 *    URL with the new session cookie → the code → POST /token (PKCE verifier, DPoP proof).
 *    Then the sign-in alone (options + verify), which is what the issue's targets count.
 *    Reference: the single-core crypto floor of the same work (the P-256 verifications and
 *    the ES256 signatures it issues), measured in this process.
 * 2. Password + TOTP sign-in (POST /api/signin/password). Reference: argon2id verify alone
 *    at Warta's parameters on every core (as many at once as Warta's hashing gate allows by
 *    default, one per core, on libuv's default threadpool as Warta's), measured in this process
 *    while Warta is idle, just before each round: the ratio is the median of the rounds' own.
 *
 * Warta's and PostgreSQL's cost per sign-in come from their CPU counters (Warta's
 * process.cpuUsage() over IPC; /proc/<pid>/stat of the PostgreSQL backends serving the
 * bench database), not from wall time: the load generator (and its authenticator's
 * signatures) shares the two cores, and so do other people's jobs. Warta runs its audit
 * sealer as `npm start` does; on PostgreSQL the counters are read once it has linked every
 * entry the run wrote, so each run pays for its own sealing and not for the run before it.
 *
 *   npx tsx bench/flows.ts                      # embedded PGlite (PostgreSQL CPU not separable)
 *   BENCH_DATABASE_URL=postgres://… npx tsx bench/flows.ts
 *
 * Settings (environment), besides bench/run.ts's BENCH_DURATION, BENCH_ROUNDS, BENCH_DB_POOL and
 * BENCH_FIRST_WARMUP (each scenario's one warm-up here, default 6 s; its figures are printed too):
 *   BENCH_FLOW_CONCURRENCY     concurrent passkey clients (default 16)
 *   BENCH_PASSWORD_CONCURRENCY concurrent password clients (default 8: the hashing gate's
 *                              slots plus its queue is 2 + 8 on two cores; more get 503)
 *   BENCH_PASSKEY_USERS        enrolled passkey users (default 256)
 *   BENCH_CPU_PROFILE          a directory: Warta runs with --cpu-prof writing there
 *   BENCH_FLOWS                which to run, comma-separated: flow (the whole passkey flow), signin
 *                              (options + verify), password; default all three
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { Secret, TOTP } from 'otpauth';
import pg from 'pg';
import { verifyPassword } from '../src/passwords/hash.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { SoftAuthenticator } from '../test/support/soft-authenticator.js';
import { PostgresCpu } from './cpu.js';
import { benchPoolSize } from './pool-size.js';
import type { FlowServerOptions, FlowServerReady } from './flows-server.js';

export interface FlowSettings {
  /** A PostgreSQL server; a scratch database is made on it. Unset: embedded PGlite. */
  databaseUrl: string | undefined;
  duration: number;
  rounds: number;
  warmup: number;
  dbPool: number;
  concurrency: number;
  passwordConcurrency: number;
  passkeyUsers: number;
  cpuProfileDir: string | undefined;
  /** Which scenarios run (all by default). */
  scenarios: { passkeyFlow: boolean; passkeySignIn: boolean; password: boolean };
}

export function flowSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FlowSettings {
  const number = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  return {
    databaseUrl: env.BENCH_DATABASE_URL || undefined,
    duration: number('BENCH_DURATION', 4),
    rounds: number('BENCH_ROUNDS', 2),
    warmup: number('BENCH_FIRST_WARMUP', 6),
    dbPool: benchPoolSize(env),
    concurrency: number('BENCH_FLOW_CONCURRENCY', 16),
    passwordConcurrency: number('BENCH_PASSWORD_CONCURRENCY', 8),
    passkeyUsers: number('BENCH_PASSKEY_USERS', 256),
    cpuProfileDir: env.BENCH_CPU_PROFILE || undefined,
    scenarios: scenariosFrom(env.BENCH_FLOWS),
  };
}

function scenariosFrom(list: string | undefined): FlowSettings['scenarios'] {
  const names = (list || 'flow,signin,password').split(',').map((name) => name.trim());
  return { passkeyFlow: names.includes('flow'), passkeySignIn: names.includes('signin'), password: names.includes('password') };
}

/** One measured run of a scenario. */
export interface FlowRun {
  /** Completed sign-ins (flows) per second of wall time. */
  perSecond: number;
  /** Server time per flow (the requests' round trips, without the client's own signing), ms. */
  p50: number;
  p99: number;
  wartaCpuMs: number;
  /** The part of wartaCpuMs spent in the kernel (socket writes and reads, mostly). */
  wartaSystemMs: number;
  /** The part of wartaCpuMs on the main thread (the JavaScript; the rest is libuv's threadpool, where argon2 runs, and V8's helpers). */
  wartaMainThreadMs: number;
  /** This process's CPU per flow: the load generator (HTTP client, TOTP codes, authenticator), on the same two cores. */
  loadGeneratorCpuMs: number;
  /** SQL statements Warta ran per flow. */
  queries: number;
  /** undefined on embedded PGlite (it runs inside Warta's process). */
  pgCpuMs: number | undefined;
  /** The kernel's part of pgCpuMs. */
  pgSystemMs: number | undefined;
  completed: number;
  errors: number;
  firstError: string | undefined;
}

export interface FlowResults {
  description: string;
  settings: FlowSettings;
  loadAverage: { start: number; end: number };
  /** authorize → options → verify → code → token */
  passkeyFlow: FlowRun;
  /** options + verify */
  passkeySignIn: FlowRun;
  password: FlowRun;
  floor: {
    p256VerifyMs: number;
    es256SignMs: number;
    /** The crypto of one whole flow and of options + verify, on one core. */
    flowMs: number;
    signInMs: number;
    flowOperations: string;
    /** `ratio`: the median over the rounds of sign-ins / the floor measured just before that round. */
    argon2: Argon2Floor & { params: FlowServerReady['argon2'] };
  };
}

// ---- HTTP, as cheaply as the load generator can make it (it shares the cores with Warta) ----

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method ?? 'GET', agent, headers: { ...(init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) }), ...init.headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(init.body);
  });
}

function expectStatus(reply: Reply, status: number, what: string): Reply {
  if (reply.status !== status) throw new Error(`${what}: ${reply.status} ${reply.body.slice(0, 300)}`);
  return reply;
}

// ---- CPU counters ----


/** Warta's CPU time (ms) and the number of SQL statements it has run. */
function wartaCounters(child: ChildProcess): Promise<{ cpuMs: number; systemMs: number; mainThreadMs: number; queries: number }> {
  return new Promise((resolve) => {
    const listener = (message: unknown) => {
      const m = message as { type?: string; usage?: NodeJS.CpuUsage; mainThreadMs?: number; queries?: number };
      if (m.type !== 'cpu') return;
      child.off('message', listener);
      resolve({ cpuMs: (m.usage!.user + m.usage!.system) / 1000, systemMs: m.usage!.system / 1000, mainThreadMs: m.mainThreadMs ?? NaN, queries: m.queries ?? NaN });
    };
    child.on('message', listener);
    child.send('cpu');
  });
}

// ---- the virtual clients ----

interface VirtualClient {
  /** Its address, sent as X-Forwarded-For (Warta trusts 127.0.0.1 as its proxy). */
  ip: string;
  dpopKey: KeyObject;
  dpopJwk: JWK;
  dpopJkt: string;
}

async function virtualClient(index: number): Promise<VirtualClient> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as JWK;
  const dpopJwk = { kty, crv, x, y } as JWK;
  return { ip: `10.77.${index >> 8}.${(index & 255) + 1}`, dpopKey: privateKey, dpopJwk, dpopJkt: await calculateJwkThumbprint(dpopJwk) };
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** RFC 9449 §4.2 proof, signed with node:crypto (the client's time is not Warta's). */
function dpopProof(client: VirtualClient, method: string, url: string): string {
  const header = b64url(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: client.dpopJwk }));
  const payload = b64url(JSON.stringify({ jti: randomBytes(16).toString('base64url'), htm: method, htu: url, iat: Math.floor(Date.now() / 1000) }));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: client.dpopKey, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

interface PasskeyUser {
  credentialId: string;
}

/** Work items are taken from the front and put back at the end when done: no user ever has two sign-ins in flight (their passkey's counter must rise in order). */
class Pool<T> {
  constructor(private readonly items: T[]) {}
  take(available: (item: T) => boolean = () => true): T {
    const index = this.items.findIndex(available);
    if (index < 0) throw new Error('no user is free for a sign-in (raise the number of users)');
    return this.items.splice(index, 1)[0]!;
  }
  give(item: T): void {
    this.items.push(item);
  }
}

interface Target {
  child: ChildProcess;
  /** Statements one reading of Warta's counters runs itself (the metrics' database gauges), taken off each run's count. */
  countersQueries: number;
  ready: FlowServerReady;
  postgres: PostgresCpu | undefined;
  authenticator: SoftAuthenticator;
  passkeyUsers: Pool<PasskeyUser>;
  passwordUsers: Pool<PasswordUser>;
  clients: VirtualClient[];
}

interface PasswordUser {
  username: string;
  secret: Secret;
  /** The last TOTP time step this user's sign-ins used (each step works once). */
  lastStep: number;
}

/** One flow by `client`; returns the server time (ms) it took, without the client's own signing. */
type Flow = (target: Target, client: VirtualClient) => Promise<number>;

const timed = async <T>(work: () => Promise<T>, into: { ms: number }): Promise<T> => {
  const started = performance.now();
  try {
    return await work();
  } finally {
    into.ms += performance.now() - started;
  }
};

/** The messenger's whole sign-in, from the authorization request to its tokens. */
const passkeyFlow: Flow = async (target, client) => {
  const { url, messenger } = target.ready;
  const server = { ms: 0 };
  const headers = { 'x-forwarded-for': client.ip, 'user-agent': 'bench-messenger' };
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: messenger.clientId,
    redirect_uri: messenger.redirectUri,
    scope: messenger.scope,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    nonce: randomBytes(16).toString('base64url'),
    dpop_jkt: client.dpopJkt,
  });
  const toSignIn = expectStatus(await timed(() => send(`${url}/authorize?${query}`, { headers }), server), 303, 'authorize');
  const returnTo = new URL(toSignIn.headers.location!, url).searchParams.get('return_to');
  if (!returnTo) throw new Error(`authorize: no return_to in ${toSignIn.headers.location}`);

  const user = target.passkeyUsers.take();
  let cookie: string;
  try {
    cookie = await signIn(target, client, user, server, returnTo);
  } finally {
    target.passkeyUsers.give(user);
  }

  const toClient = expectStatus(await timed(() => send(`${url}${returnTo}`, { headers: { ...headers, cookie } }), server), 303, 'authorize/resume');
  const callback = new URL(toClient.headers.location!);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) throw new Error(`no code at the redirect URI: ${callback}`);

  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: messenger.redirectUri, client_id: messenger.clientId, code_verifier: verifier }).toString();
  const proof = dpopProof(client, 'POST', `${url}/token`);
  const tokens = expectStatus(await timed(() => send(`${url}/token`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', dpop: proof }, body: form }), server), 200, 'token');
  const body = JSON.parse(tokens.body) as { access_token?: string; id_token?: string; refresh_token?: string };
  if (!body.access_token || !body.id_token || !body.refresh_token) throw new Error(`token: missing tokens in ${tokens.body.slice(0, 200)}`);
  return server.ms;
};

/** Usernameless options + verify; returns the session cookie. */
async function signIn(target: Target, client: VirtualClient, user: PasskeyUser, server: { ms: number }, returnTo?: string): Promise<string> {
  const { url } = target.ready;
  const headers = { 'x-forwarded-for': client.ip, 'user-agent': 'bench-messenger', 'content-type': 'application/json', origin: url };
  const options = expectStatus(await timed(() => send(`${url}/api/webauthn/authentication/options`, { method: 'POST', headers, body: '{}' }), server), 200, 'options');
  const credential = target.authenticator.getAssertion(JSON.parse(options.body), { origin: url, credentialId: user.credentialId });
  const verified = expectStatus(
    await timed(() => send(`${url}/api/webauthn/authentication/verify`, { method: 'POST', headers, body: JSON.stringify({ credential, ...(returnTo ? { return_to: returnTo } : {}) }) }), server),
    200,
    'verify',
  );
  const setCookie = verified.headers['set-cookie']?.find((c) => c.startsWith('warta_session='));
  if (!setCookie) throw new Error('verify: no session cookie');
  return setCookie.split(';')[0]!;
}

const passkeySignIn: Flow = async (target, client) => {
  const server = { ms: 0 };
  const user = target.passkeyUsers.take();
  try {
    await signIn(target, client, user, server);
  } finally {
    target.passkeyUsers.give(user);
  }
  return server.ms;
};

const TOTP_PERIOD_MS = 30_000;
/** The earliest time step a user may still use now (Warta accepts one step either side: WARTA_TOTP_WINDOW=1). */
const freeStep = (user: PasswordUser) => Math.max(user.lastStep + 1, Math.floor(Date.now() / TOTP_PERIOD_MS) - 1);
const stepUsable = (user: PasswordUser) => freeStep(user) <= Math.floor(Date.now() / TOTP_PERIOD_MS) + 1;

const passwordSignIn: Flow = async (target, client) => {
  const { url, password } = target.ready;
  const user = target.passwordUsers.take(stepUsable);
  const step = freeStep(user);
  try {
    const code = TOTP.generate({ secret: user.secret, timestamp: step * TOTP_PERIOD_MS });
    const server = { ms: 0 };
    expectStatus(
      await timed(
        () => send(`${url}/api/signin/password`, { method: 'POST', headers: { 'x-forwarded-for': client.ip, 'content-type': 'application/json', origin: url }, body: JSON.stringify({ username: user.username, password, code }) }),
        server,
      ),
      200,
      'password sign-in',
    );
    user.lastStep = step;
    return server.ms;
  } finally {
    target.passwordUsers.give(user);
  }
};

// ---- running a scenario ----

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** `concurrency` clients run `flow` back to back for `seconds`; the CPU counters are read around the whole run, in-flight flows included. */
async function drive(target: Target, flow: Flow, concurrency: number, seconds: number): Promise<FlowRun> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const pgBefore = await target.postgres?.read();
  const before = await wartaCounters(target.child);
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    target.clients.slice(0, concurrency).map(async (client) => {
      while (performance.now() < deadline) {
        if (process.env.BENCH_TRACE_QUERIES) process.stderr.write(`== ${flow.name}\n`);
        try {
          latencies.push(await flow(target, client));
        } catch (error) {
          errors += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  // The audit sealer links the run's entries after it: that work is the run's own, waited for before the counters
  // are read, so it is neither left out of this run nor charged to the next.
  await settle(target);
  const own = process.cpuUsage(ownBefore);
  const after = await wartaCounters(target.child);
  const pgSpent = pgBefore ? PostgresCpu.spentWithKernel(pgBefore, await target.postgres!.read()) : undefined;
  latencies.sort((a, b) => a - b);
  const completed = latencies.length;
  return {
    perSecond: completed / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    wartaCpuMs: (after.cpuMs - before.cpuMs) / Math.max(1, completed),
    wartaSystemMs: (after.systemMs - before.systemMs) / Math.max(1, completed),
    wartaMainThreadMs: (after.mainThreadMs - before.mainThreadMs) / Math.max(1, completed),
    loadGeneratorCpuMs: (own.user + own.system) / 1000 / Math.max(1, completed),
    queries: (after.queries - before.queries - target.countersQueries) / Math.max(1, completed),
    pgCpuMs: pgSpent === undefined ? undefined : pgSpent.ms / Math.max(1, completed),
    pgSystemMs: pgSpent === undefined ? undefined : pgSpent.systemMs / Math.max(1, completed),
    completed,
    errors,
    firstError,
  };
}

const SETTLE_LIMIT_MS = 10_000;

/** Until every audit entry written so far is sealed (PostgreSQL only: the embedded database is Warta's own process's). */
async function settle(target: Target): Promise<void> {
  if (!target.postgres) return;
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  while (performance.now() < deadline && (await target.postgres.count('select count(*) as n from audit_log where seq is null and seal_refused is null')) > 0) await delay(20);
}

/** The median of each figure over the rounds; errors summed. */
function medianRun(runs: FlowRun[]): FlowRun {
  if (runs.length === 0) return { perSecond: NaN, p50: NaN, p99: NaN, wartaCpuMs: NaN, wartaSystemMs: NaN, wartaMainThreadMs: NaN, loadGeneratorCpuMs: NaN, queries: NaN, pgCpuMs: undefined, pgSystemMs: undefined, completed: 0, errors: 0, firstError: 'not run' };
  const pick = (f: (r: FlowRun) => number) => median(runs.map(f));
  return {
    perSecond: pick((r) => r.perSecond),
    p50: pick((r) => r.p50),
    p99: pick((r) => r.p99),
    wartaCpuMs: pick((r) => r.wartaCpuMs),
    wartaSystemMs: pick((r) => r.wartaSystemMs),
    wartaMainThreadMs: pick((r) => r.wartaMainThreadMs),
    loadGeneratorCpuMs: pick((r) => r.loadGeneratorCpuMs),
    queries: pick((r) => r.queries),
    pgCpuMs: runs[0]!.pgCpuMs === undefined ? undefined : pick((r) => r.pgCpuMs!),
    pgSystemMs: runs[0]!.pgSystemMs === undefined ? undefined : pick((r) => r.pgSystemMs!),
    completed: runs.reduce((n, r) => n + r.completed, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    firstError: runs.find((r) => r.firstError)?.firstError,
  };
}

// ---- the references ----

/** CPU ms per call of `op`, on this (one) core. */
function cpuPerCall(op: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(200, iterations); i++) op();
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) op();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / 1000 / iterations;
}

function cryptoFloor(): { p256VerifyMs: number; es256SignMs: number } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // An assertion's signed data: authenticatorData (37 bytes) ‖ SHA-256(clientDataJSON).
  const data = randomBytes(69);
  const signature = sign('sha256', data, privateKey);
  const jwt = Buffer.from(`${b64url('{"alg":"ES256","kid":"k"}')}.${b64url(JSON.stringify({ iss: 'https://id.example.gov', sub: randomBytes(16).toString('hex'), aud: 'client', exp: 2e9, iat: 1.9e9 }))}`);
  return {
    p256VerifyMs: cpuPerCall(() => verify('sha256', data, publicKey, signature), 3000),
    es256SignMs: cpuPerCall(() => sign('sha256', jwt, { key: privateKey, dsaEncoding: 'ieee-p1363' }), 3000),
  };
}

type Argon2Floor = { verifiesPerSecond: number; cpuMsPerVerify: number; cores: number; ratio?: number };

/** The median of each figure over the rounds; `ratio` is the median of the rounds' own sign-ins / floor. */
function medianFloor(rounds: Argon2Floor[]): Argon2Floor {
  return { verifiesPerSecond: median(rounds.map((r) => r.verifiesPerSecond)), cpuMsPerVerify: median(rounds.map((r) => r.cpuMsPerVerify)), cores: rounds[0]!.cores, ratio: median(rounds.map((r) => r.ratio!)) };
}

/**
 * argon2id verifications per second with every core busy, at Warta's parameters, and the
 * CPU each takes (this process's counters include libuv's threads, where argon2 runs): the
 * CPU figure does not depend on what else the machine runs, the rate does.
 */
async function argon2Floor(params: FlowServerReady['argon2'], concurrency: number, password: string, seconds: number): Promise<Argon2Floor> {
  const { hashPassword } = await import('../src/passwords/hash.js');
  const hash = await hashPassword(password, params);
  const cores = concurrency;
  let count = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() < deadline) {
        if (!(await verifyPassword(hash, password))) throw new Error('argon2 reference: the hash does not verify');
        count += 1;
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return { verifiesPerSecond: count / ((performance.now() - started) / 1000), cpuMsPerVerify: (cpu.user + cpu.system) / 1000 / Math.max(1, count), cores };
}

// ---- set-up ----

async function startTarget(settings: FlowSettings, databaseUrl: string | undefined, passwordUsers: number): Promise<Target> {
  const options: FlowServerOptions = { databaseUrl, dbPoolSize: settings.dbPool, passkeyUsers: settings.passkeyUsers, passwordUsers };
  const execArgv = ['--import', 'tsx', ...(settings.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`] : [])];
  // The request log goes to stdout: written (its cost is Warta's) and discarded.
  const child = fork(fileURLToPath(new URL('./flows-server.ts', import.meta.url)), [JSON.stringify(options)], { execArgv, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ready = await new Promise<FlowServerReady>((resolve, reject) => {
    child.once('message', (message) => resolve(message as FlowServerReady));
    child.once('exit', (code) => reject(new Error(`flows-server.ts exited with ${code} before it was ready`)));
  });
  const clients = await Promise.all(Array.from({ length: Math.max(settings.concurrency, settings.passwordConcurrency) }, (_, i) => virtualClient(i)));

  // Each invitation enrolls a passkey over HTTP, as a new user would.
  const authenticator = new SoftAuthenticator();
  const enrolled: PasskeyUser[] = [];
  const pending = [...ready.invitations];
  const headers = { 'content-type': 'application/json', origin: ready.url };
  await Promise.all(
    clients.slice(0, 8).map(async (client) => {
      for (let invitation = pending.shift(); invitation; invitation = pending.shift()) {
        const h = { ...headers, 'x-forwarded-for': client.ip };
        const creation = expectStatus(await send(`${ready.url}/api/webauthn/enrollment/options`, { method: 'POST', headers: h, body: JSON.stringify({ invitation }) }), 200, 'enrollment options');
        const credential = authenticator.createCredential(JSON.parse(creation.body), { origin: ready.url });
        expectStatus(await send(`${ready.url}/api/webauthn/enrollment/verify`, { method: 'POST', headers: h, body: JSON.stringify({ invitation, credential }) }), 201, 'enrollment verify');
        enrolled.push({ credentialId: credential.id });
      }
    }),
  );
  const setupStep = Math.floor(Date.now() / TOTP_PERIOD_MS);
  await wartaCounters(child);
  const countersQueries = -(await wartaCounters(child)).queries + (await wartaCounters(child)).queries;
  return {
    child,
    countersQueries,
    ready,
    postgres: databaseUrl ? await PostgresCpu.open(databaseUrl) : undefined,
    authenticator,
    passkeyUsers: new Pool(enrolled),
    // Set up (and its confirming step used) no later than now.
    passwordUsers: new Pool(ready.passwordUsers.map((u) => ({ username: u.username, secret: Secret.fromBase32(u.secret), lastStep: setupStep }))),
    clients,
  };
}

async function stopTarget(target: Target): Promise<void> {
  await target.postgres?.close();
  await new Promise<void>((resolve) => {
    target.child.once('exit', () => resolve());
    target.child.send('stop');
  });
}

export async function runFlowBenchmarks(settings: FlowSettings, log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<FlowResults> {
  const loadAtStart = os.loadavg()[0]!;
  const database = settings.databaseUrl ? await createScratchDatabase(settings.databaseUrl, 'warta_bench_flows') : undefined;
  // Every user's TOTP step works once: enough users for ~120 sign-ins/s over the password runs, each usable once per step.
  const passwordSeconds = settings.warmup + settings.rounds * settings.duration;
  const passwordUsers = settings.scenarios.password ? Math.ceil(120 * passwordSeconds) : 0;
  log(`Sign-in flows: ${settings.concurrency} passkey clients, ${settings.passwordConcurrency} password clients, ${settings.passkeyUsers} passkey users, ${passwordUsers} password users, ${settings.rounds} rounds of ${settings.duration} s after ${settings.warmup} s warm-up, ${database ? 'PostgreSQL' : 'embedded PGlite'}`);
  let target: Target | undefined;
  try {
    target = await startTarget(settings, database?.url, passwordUsers);
    const t = target;
    const runs = { passkeyFlow: [] as FlowRun[], passkeySignIn: [] as FlowRun[], password: [] as FlowRun[] };
    const report = (name: string, r: FlowRun) =>
      log(`  ${name.padEnd(26)} ${r.perSecond.toFixed(0).padStart(5)}/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  Warta CPU ${r.wartaCpuMs.toFixed(2)} ms (kernel ${r.wartaSystemMs.toFixed(2)}, main thread ${r.wartaMainThreadMs.toFixed(2)})  PostgreSQL CPU ${r.pgCpuMs === undefined ? 'n/a' : `${r.pgCpuMs.toFixed(2)} ms (kernel ${r.pgSystemMs!.toFixed(2)})`}  load generator CPU ${r.loadGeneratorCpuMs.toFixed(2)} ms  ${r.queries.toFixed(1)} queries${r.errors ? `  (${r.errors} errors: ${r.firstError})` : ''}  load ${os.loadavg()[0]!.toFixed(1)}`);

    const { scenarios } = settings;
    // Each scenario warms up on its own, once. With 1 s, its first measured round cost the most: 2.3 ms of Warta CPU
    // per passkey sign-in against 1.3–1.5 ms from the third round on, the load generator's own CPU falling alike (JIT, heap sizing).
    if (scenarios.passkeyFlow && settings.warmup > 0) report('passkey: whole flow, warm-up', await drive(t, passkeyFlow, settings.concurrency, settings.warmup));
    if (scenarios.passkeySignIn && settings.warmup > 0) report('passkey: sign-in, warm-up', await drive(t, passkeySignIn, settings.concurrency, settings.warmup));
    for (let round = 0; round < settings.rounds; round++) {
      // Alternate the order each round, so a drift of the machine hits both alike.
      const order = round % 2 ? (['passkeySignIn', 'passkeyFlow'] as const) : (['passkeyFlow', 'passkeySignIn'] as const);
      for (const name of order) {
        if (!scenarios[name]) continue;
        const run = await drive(t, name === 'passkeyFlow' ? passkeyFlow : passkeySignIn, settings.concurrency, settings.duration);
        runs[name].push(run);
        report(name === 'passkeyFlow' ? 'passkey: whole flow' : 'passkey: options + verify', run);
      }
    }
    if (scenarios.password && settings.warmup > 0) report('password + TOTP, warm-up', await drive(t, passwordSignIn, settings.passwordConcurrency, settings.warmup));
    // The argon2id floor is measured just before each round (Warta idle), so both see the same machine: other
    // people's jobs on the shared cores move the rate of both, and the ratio is taken round by round.
    const argon2Rounds: Argon2Floor[] = [];
    for (let round = 0; scenarios.password && round < settings.rounds; round++) {
      const floor = await argon2Floor(t.ready.argon2, t.ready.hashConcurrency, t.ready.password, Math.max(2, settings.duration));
      const run = await drive(t, passwordSignIn, settings.passwordConcurrency, settings.duration);
      argon2Rounds.push({ ...floor, ratio: run.perSecond / floor.verifiesPerSecond });
      runs.password.push(run);
      report('password + TOTP', run);
      log(`    argon2id floor just before: ${floor.verifiesPerSecond.toFixed(1)}/s, ${floor.cpuMsPerVerify.toFixed(2)} ms CPU each; sign-ins / floor ${(run.perSecond / floor.verifiesPerSecond).toFixed(2)}×`);
    }

    // The references, measured while Warta is idle.
    const crypto = cryptoFloor();
    const argon2 = argon2Rounds.length > 0 ? medianFloor(argon2Rounds) : await argon2Floor(t.ready.argon2, t.ready.hashConcurrency, t.ready.password, Math.max(2, settings.duration));
    log(`  reference: P-256 verify ${crypto.p256VerifyMs.toFixed(3)} ms, ES256 sign ${crypto.es256SignMs.toFixed(3)} ms (one core); argon2id verify ${argon2.verifiesPerSecond.toFixed(1)}/s, ${argon2.cores} at once, ${argon2.cpuMsPerVerify.toFixed(2)} ms CPU each`);
    // The flow verifies the assertion and the DPoP proof, and signs the ID token and the (JWT) access token.
    const flowMs = 2 * crypto.p256VerifyMs + 2 * crypto.es256SignMs;
    return {
      description: t.ready.description,
      settings,
      loadAverage: { start: loadAtStart, end: os.loadavg()[0]! },
      passkeyFlow: medianRun(runs.passkeyFlow),
      passkeySignIn: medianRun(runs.passkeySignIn),
      password: medianRun(runs.password),
      floor: { ...crypto, flowMs, signInMs: crypto.p256VerifyMs, flowOperations: '2 P-256 verifications (assertion, DPoP proof) + 2 ES256 signatures (ID token, access token)', argon2: { ...argon2, params: t.ready.argon2 } },
    };
  } finally {
    if (target) await stopTarget(target);
    agent.destroy();
    await database?.drop();
  }
}

// ---- reporting ----

const ms = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
/** PostgreSQL's CPU per flow with the kernel's part of it. */
const pgCpu = (run: FlowRun) => (run.pgSystemMs === undefined ? ms(run.pgCpuMs) : `${ms(run.pgCpuMs)}, kernel ${ms(run.pgSystemMs)}`);
const met = (ok: boolean) => (ok ? 'met' : '**not met**');

/** Sign-ins / the argon2id floor: the median of the rounds' own ratios (each round against the floor just before it). */
const passwordRatio = (password: FlowRun, floor: Argon2Floor) => floor.ratio ?? password.perSecond / floor.verifiesPerSecond;

/** The bars bench/chart.ts draws for these results. */
export function flowChartBars(results: FlowResults): { label: string; value: number; target: number; note: string }[] {
  const { passkeySignIn, passkeyFlow, password, floor } = results;
  const bars = [
    { label: 'passkey sign-in: 2 ms / Warta CPU', value: 2 / passkeySignIn.wartaCpuMs, target: 1, note: `${ms(passkeySignIn.wartaCpuMs)} ms Warta CPU per sign-in` },
    { label: 'passkey flow: flows/s / 600', value: passkeyFlow.perSecond / 600, target: 1, note: `${passkeyFlow.perSecond.toFixed(0)} flows/s` },
    { label: 'passkey flow: crypto floor / Warta CPU', value: floor.flowMs / passkeyFlow.wartaCpuMs, target: 0, note: `${ms(floor.flowMs, 3)} of ${ms(passkeyFlow.wartaCpuMs)} ms` },
    { label: 'password + TOTP / argon2id floor', value: passwordRatio(password, floor.argon2), target: 0.8, note: `${password.perSecond.toFixed(1)} of ${floor.argon2.verifiesPerSecond.toFixed(1)} /s` },
  ];
  if (passkeySignIn.pgCpuMs !== undefined) bars.splice(1, 0, { label: 'passkey sign-in: 1 ms / PostgreSQL CPU', value: 1 / passkeySignIn.pgCpuMs, target: 1, note: `${ms(passkeySignIn.pgCpuMs)} ms PostgreSQL CPU per sign-in` });
  return bars;
}

/** The section bench/RESULTS.md gets. */
export function flowsMarkdown(results: FlowResults): string {
  const { passkeyFlow: flow, passkeySignIn: signIn, password, floor, settings } = results;
  const errors = [flow, signIn, password].some((r) => r.errors) ? `\nErrors (those runs are not valid): passkey flow ${flow.errors}, sign-in ${signIn.errors}, password ${password.errors}; first: ${[flow, signIn, password].find((r) => r.firstError)?.firstError}\n` : '';
  const a = floor.argon2;
  return `## Sign-in flows

\`tsx bench/flows.ts\` (also part of \`npm run bench\`): ${results.description}; ${settings.concurrency} concurrent passkey clients over ${settings.passkeyUsers} users, ${settings.passwordConcurrency} concurrent password clients; ${settings.rounds} rounds of ${settings.duration} s after ${settings.warmup} s warm-up, median shown. Each virtual client is one address (\`X-Forwarded-For\`, Warta trusting 127.0.0.1 as its proxy), and \`WARTA_ANONYMOUS_REQUESTS_PER_MINUTE=1000000\` lifts the per-address limit of /authorize and the options endpoints. CPU per sign-in from the processes' counters (Warta's \`process.cpuUsage()\`; the PostgreSQL backends of the bench database plus its WAL writer, background writer and checkpointer, with the part of it spent in the kernel: loopback TCP, WAL flushes, waking processes; Warta's audit sealer runs as under \`npm start\`, and the counters are read once it has linked the round's entries); SQL statements as Warta's query metric counts them (BEGIN and COMMIT included); latency is the server time of the flow's requests (the software authenticator's and the DPoP signatures excluded). 1-minute load average ${results.loadAverage.start.toFixed(1)} at the start, ${results.loadAverage.end.toFixed(1)} at the end.

| flow | per second | p50 / p99 (ms) | Warta CPU per sign-in (ms) | PostgreSQL CPU per sign-in (ms) | SQL statements per sign-in | reference | ratio |
|---|---:|---:|---:|---:|---:|---|---:|
| messenger passkey sign-in: /authorize → options → verify → code → /token (DPoP) | ${flow.perSecond.toFixed(0)} (stretch ≥ 600: ${met(flow.perSecond >= 600)}) | ${ms(flow.p50, 1)} / ${ms(flow.p99, 1)} | ${ms(flow.wartaCpuMs)} | ${pgCpu(flow)} | ${ms(flow.queries, 1)} | crypto floor ${ms(floor.flowMs, 3)} ms: ${floor.flowOperations}, one core | floor / Warta CPU **${(floor.flowMs / flow.wartaCpuMs).toFixed(2)}** |
| passkey sign-in alone: options + verify | ${signIn.perSecond.toFixed(0)} | ${ms(signIn.p50, 1)} / ${ms(signIn.p99, 1)} | ${ms(signIn.wartaCpuMs)} (≤ 2: ${met(signIn.wartaCpuMs <= 2)}) | ${pgCpu(signIn)}${signIn.pgCpuMs === undefined ? '' : ` (≤ 1: ${met(signIn.pgCpuMs <= 1)})`} | ${ms(signIn.queries, 1)} | crypto floor ${ms(floor.signInMs, 3)} ms: one P-256 verification | floor / Warta CPU **${(floor.signInMs / signIn.wartaCpuMs).toFixed(2)}** |
| password + TOTP sign-in (POST /api/signin/password) | ${password.perSecond.toFixed(1)} | ${ms(password.p50, 1)} / ${ms(password.p99, 1)} | ${ms(password.wartaCpuMs)} | ${pgCpu(password)} | ${ms(password.queries, 1)} | argon2id verify alone (m=${a.params.memoryKiB} KiB, t=${a.params.timeCost}, p=${a.params.parallelism}), ${a.cores} at once as Warta's hashing gate allows: ${a.verifiesPerSecond.toFixed(1)}/s, ${ms(a.cpuMsPerVerify)} ms CPU each (Warta's CPU beyond it: ${ms(password.wartaCpuMs - a.cpuMsPerVerify)} ms; its main thread's ${ms(password.wartaMainThreadMs)} ms; the load generator's: ${ms(password.loadGeneratorCpuMs)} ms) | sign-ins / floor **${passwordRatio(password, a).toFixed(2)}×** (≥ 0.8: ${met(passwordRatio(password, a) >= 0.8)}; CPU only, argon2id / (Warta + PostgreSQL): ${(a.cpuMsPerVerify / (password.wartaCpuMs + (password.pgCpuMs ?? 0))).toFixed(2)}×) |
${errors}
Reference crypto on one core: P-256 verification ${ms(floor.p256VerifyMs, 3)} ms, ES256 signature ${ms(floor.es256SignMs, 3)} ms (node:crypto). Targets (issue #18): ≤ 2 ms of Warta CPU and ≤ 1 ms of PostgreSQL CPU per passkey sign-in (options + verify), ≥ 600 whole flows/s (stretch), password + TOTP ≥ 0.8× the argon2id floor. The load generator, its authenticator and PostgreSQL share the two cores with Warta, so flows/s is bounded by all three; the CPU figures are Warta's and PostgreSQL's own.
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await runFlowBenchmarks(flowSettingsFromEnv());
  process.stdout.write(`\n${flowsMarkdown(results)}`);
}
