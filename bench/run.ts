/**
 * `npm run bench`: Warta against panva/oidc-provider, the same load on both.
 *
 * Each server runs in its own process (so the load generator never shares its event
 * loop); they take turns under the same autocannon settings, scenario by scenario:
 * client_credentials, refresh_token (every request rotates a chain: the response's
 * refresh token goes back into the pool for the next request), introspection, JWKS
 * and discovery. Prints requests/s, p50/p99 and the ratio Warta/peer, and writes
 * bench/RESULTS.md.
 *
 * Settings (environment):
 *   BENCH_DATABASE_URL   PostgreSQL server for both (a scratch database is created and
 *                        dropped when the role may; else the database is used as is).
 *                        Unset: Warta on embedded PGlite, the peer in memory.
 *   BENCH_DURATION       seconds per measured run (default 4)
 *   BENCH_ROUNDS         rounds; each scenario's median run is reported (default 2)
 *   BENCH_FIRST_WARMUP   seconds of warm-up the first time a server runs a scenario
 *                        (default 6): until its JIT-compiled code and heap have settled.
 *                        With 1 s, the first measured run of a scenario was the slowest
 *                        in most runs (Warta's refresh at 553–806/s against 1,229–1,334/s
 *                        in its second run), so the median mixed warm-up into the figure.
 *   BENCH_WARMUP         seconds of warm-up before each later run (default 1)
 *   BENCH_CONNECTIONS    concurrent connections (default 32)
 *   BENCH_PEER_ADAPTER   postgres | memory (default postgres with a database URL)
 *   BENCH_DB_POOL        connection pool size of each server (default twice this machine's
 *                        cores, as for a database server of its size: bench/pool-size.ts)
 *   BENCH_STARTUP_RUNS   runs of each start-up measurement (default 3; 0 skips them)
 *   BENCH_LOG_AB         1: also run a third server, Warta with its request log off
 *                        (WARTA_LOG_LEVEL=warn), to show what the default log costs
 *   BENCH_WARTA_BASELINE another checkout of Warta (e.g. a worktree of the previous
 *                        commit, with this bench/ folder): its Warta runs as one more
 *                        target, for a before/after in one run
 * Warta runs with its default request log (level info, one JSON line per request),
 * written to a file as a deployment's stdout would be; the peer (oidc-provider) logs
 * nothing by default (it only has `debug` output behind DEBUG=oidc-provider:*).
 * CPU per request is read from the kernel's counters of each server process and of
 * the PostgreSQL processes serving the bench database (bench/cpu.ts PostgresCpu: the
 * same set for Warta and the peer, other databases left out), around each measured
 * run: on a shared machine it is a steadier figure than requests/s.
 *   BENCH_DB_COST_REPETITIONS  repetitions of each flow in the database cost table (default 200)
 * Defaults keep the token endpoints' part under about three minutes.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { PostgresCpu, processCpuMs } from './cpu.js';
import type { ServerOptions, ServerReady } from './protocol.js';
import { measureStartup, startupTable } from './startup.js';
import { writeChart } from './chart.js';
import { flowChartBars, flowSettingsFromEnv, flowsMarkdown, runFlowBenchmarks } from './flows.js';
import { measureDatabaseCost } from './db-cost.js';
import { benchPoolSize } from './pool-size.js';
import { analyzeDatabase } from './statistics.js';

const env = process.env;
const seconds = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
const settings = {
  duration: seconds('BENCH_DURATION', 4),
  rounds: seconds('BENCH_ROUNDS', 2),
  firstWarmup: seconds('BENCH_FIRST_WARMUP', 6),
  warmup: seconds('BENCH_WARMUP', 1),
  connections: seconds('BENCH_CONNECTIONS', 32),
  dbPool: benchPoolSize(env),
  databaseUrl: env.BENCH_DATABASE_URL || undefined,
  logAB: env.BENCH_LOG_AB === '1',
  baseline: env.BENCH_WARTA_BASELINE || undefined,
};
const peerAdapter = (env.BENCH_PEER_ADAPTER as 'postgres' | 'memory' | undefined) ?? (settings.databaseUrl ? 'postgres' : 'memory');

interface Scenario {
  name: string;
  /** Builds the autocannon options against a ready server (paths come from its discovery document). */
  options(server: ServerReady, metadata: Record<string, string>): Partial<autocannon.Options>;
}

const basic = (s: ServerReady) => `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';
const NOTES_MARKER = '<!-- Notes below this line are kept when bench/run.ts rewrites the file. -->';

const SCENARIOS: Scenario[] = [
  {
    name: 'client_credentials',
    options: (s, m) => ({ url: m.token_endpoint, method: 'POST', headers: { authorization: basic(s), 'content-type': FORM }, body: `grant_type=client_credentials&scope=${encodeURIComponent(s.scope)}` }),
  },
  {
    name: 'refresh_token',
    options: (s, m) => {
      // The current token of every chain. A connection takes one for its request and
      // puts back the rotated successor from the response, so each token is used once
      // and every chain stays valid (autocannon resets per-connection context each cycle).
      const current = [...s.refreshTokens];
      return {
        url: m.token_endpoint,
        requests: [
          {
            method: 'POST',
            headers: { authorization: basic(s), 'content-type': FORM },
            setupRequest: (request) => {
              // Out of chains (should not happen): a request that fails, counted as non-2xx.
              const token = current.shift() ?? 'no-chain-left';
              return { ...request, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}` };
            },
            onResponse: (status, body) => {
              if (status === 200) current.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
            },
          },
        ],
      };
    },
  },
  {
    name: 'introspection',
    options: (s, m) => ({ url: m.introspection_endpoint, method: 'POST', headers: { authorization: basic(s), 'content-type': FORM }, body: `token=${encodeURIComponent(s.introspectionToken)}` }),
  },
  { name: 'jwks', options: (_s, m) => ({ url: m.jwks_uri }) },
  { name: 'discovery', options: (s) => ({ url: `${s.url}/.well-known/openid-configuration` }) },
];

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Server process CPU (user + system) per completed request, µs. */
  cpuUs: number;
  /** CPU of the PostgreSQL processes serving the target's database per completed request, µs (bench/cpu.ts PostgresCpu). */
  pgUs: number;
}

const children = new Set<ChildProcess>();
// Never leave a server behind, whatever ends this process.
process.on('exit', () => children.forEach((child) => child.kill()));

function startServer(script: string, options: ServerOptions, stdout: number | 'inherit'): Promise<{ child: ChildProcess; ready: ServerReady }> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(options)], { execArgv: ['--import', 'tsx', ...(env.BENCH_NODE_ARGS ? env.BENCH_NODE_ARGS.split(' ') : [])], env: { ...env, NODE_ENV: 'production' }, stdio: ['ignore', stdout, 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, ready: message as ServerReady }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.send('stop');
  });
}

interface Target {
  ready: ServerReady;
  child: ChildProcess;
  /** Autocannon options per scenario, built once: runs share state (the refresh chains). */
  options: Map<string, Partial<autocannon.Options>>;
  runs: Map<string, Measurement[]>;
  /** The file the server's stdout (its log) goes to, if any. */
  logFile?: string;
  /** Its name in the progress lines. */
  label: string;
  /** The CPU of the PostgreSQL processes serving its database, if it has one. */
  postgres?: PostgresCpu;
  /** Scenarios it has run, so it has had their first (longer) warm-up. */
  warmed: Set<string>;
}

async function prepare(script: string, serverOptions: ServerOptions, logFile?: string, label?: string): Promise<Target> {
  const fd = logFile ? openSync(logFile, 'w') : undefined;
  const { child, ready } = await startServer(script, serverOptions, fd ?? 'inherit').finally(() => fd !== undefined && closeSync(fd));
  const metadata = (await (await fetch(`${ready.url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  const postgres = serverOptions.databaseUrl ? await PostgresCpu.open(serverOptions.databaseUrl) : undefined;
  return { ready, child, logFile, postgres, label: label ?? ready.description.split(' (')[0]!, options: new Map(SCENARIOS.map((s) => [s.name, s.options(ready, metadata)])), runs: new Map(SCENARIOS.map((s) => [s.name, []])), warmed: new Set() };
}

async function measure(target: Target, scenario: Scenario): Promise<void> {
  const run = (duration: number) => autocannon({ connections: settings.connections, duration, ...target.options.get(scenario.name) } as autocannon.Options);
  const warmup = target.warmed.has(scenario.name) ? settings.warmup : settings.firstWarmup;
  target.warmed.add(scenario.name);
  if (warmup > 0) await run(warmup);
  const cpuBefore = processCpuMs(target.child.pid!)!;
  const pgBefore = await target.postgres?.read();
  const result = await run(settings.duration);
  const cpuMs = processCpuMs(target.child.pid!)! - cpuBefore;
  const pgMs = pgBefore ? PostgresCpu.spent(pgBefore, await target.postgres!.read()) : 0;
  const completed = Math.max(1, result.requests.total);
  const r: Measurement = { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, cpuUs: (cpuMs * 1000) / completed, pgUs: (pgMs * 1000) / completed };
  target.runs.get(scenario.name)!.push(r);
  process.stdout.write(`  ${target.label.padEnd(20)} ${scenario.name.padEnd(20)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  CPU ${r.cpuUs.toFixed(0)} µs/req, PostgreSQL ${r.pgUs.toFixed(0)} µs/req  (load ${os.loadavg()[0]!.toFixed(1)})${r.non2xx || r.errors ? `  (${r.non2xx} non-2xx, ${r.errors} errors)` : ''}\n`);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The median run of each scenario; non-2xx and errors summed over runs. */
function summary(target: Target): Record<string, Measurement> {
  return Object.fromEntries(
    [...target.runs].map(([name, runs]) => [
      name,
      {
        rps: median(runs.map((r) => r.rps)),
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
        non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
        errors: runs.reduce((n, r) => n + r.errors, 0),
        cpuUs: median(runs.map((r) => r.cpuUs)),
        pgUs: median(runs.map((r) => r.pgUs)),
      },
    ]),
  );
}

async function scratchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  try {
    return await createScratchDatabase(serverUrl, 'warta_bench');
  } catch (error) {
    process.stdout.write(`(cannot create a scratch database: ${error instanceof Error ? error.message : String(error)}; using ${new URL(serverUrl).pathname.slice(1)} as is)\n`);
    return { url: serverUrl, drop: async () => {} };
  }
}

const loadAtStart = os.loadavg()[0]!;
const database = settings.databaseUrl ? await scratchDatabase(settings.databaseUrl) : undefined;
// Each run ends with up to one request per connection in flight, whose rotated token
// is lost with it; so enough chains for every warm-up and measured run, and spares.
const serverOptions: ServerOptions = { databaseUrl: database?.url, refreshChains: settings.connections * 2 * settings.rounds + 16, peerAdapter, dbPoolSize: settings.dbPool };
process.stdout.write(`Benchmark: ${settings.connections} connections, ${settings.rounds} rounds of ${settings.duration} s per run after ${settings.warmup} s warm-up (${settings.firstWarmup} s the first time a server runs a scenario), ${settings.databaseUrl ? 'PostgreSQL' : 'embedded PGlite / in-memory peer'}\n`);
let warta: { description: string; results: Record<string, Measurement> };
let peer: typeof warta;
/** Warta variants run beside the two (BENCH_LOG_AB, BENCH_WARTA_BASELINE), compared with the default Warta. */
const variants: { label: string; short: string; script: string; options: Partial<ServerOptions> }[] = [
  ...(settings.logAB ? [{ label: 'request log off (WARTA_LOG_LEVEL=warn)', short: 'Warta log off', script: './warta-server.ts', options: { logLevel: 'warn' } }] : []),
  ...(settings.baseline ? [{ label: `baseline: ${settings.baseline}`, short: 'Warta baseline', script: pathToFileURL(path.resolve(settings.baseline, 'bench/warta-server.ts')).href, options: {} }] : []),
];
const variantResults: { label: string; results: Record<string, Measurement> }[] = [];
let requestLog = '';
const variantDatabases: { url: string; drop(): Promise<void> }[] = [];
const logFile = (name: string) => path.join(os.tmpdir(), `warta-bench-${process.pid}-${name}.log`);
try {
  const targets = [await prepare('./warta-server.ts', serverOptions, logFile('warta')), await prepare('./peer-server.ts', serverOptions, logFile('peer'))];
  for (const [i, variant] of variants.entries()) {
    // Its own database: a Warta database belongs to one master key.
    const variantDatabase = settings.databaseUrl ? await scratchDatabase(settings.databaseUrl) : undefined;
    if (variantDatabase) variantDatabases.push(variantDatabase);
    targets.push(await prepare(variant.script, { ...serverOptions, databaseUrl: variantDatabase?.url, ...variant.options }, logFile(`variant-${i}`), variant.short));
  }
  for (const url of [database?.url, ...variantDatabases.map((d) => d.url)]) if (url) await analyzeDatabase(url);
  try {
    // Both servers stay up (the idle one costs nothing) and take turns, scenario by
    // scenario, the order flipping every round: slow drifts of the machine hit both alike.
    for (let round = 0; round < settings.rounds; round++)
      for (const scenario of SCENARIOS) for (const target of round % 2 ? [...targets].reverse() : targets) await measure(target, scenario);
  } finally {
    await Promise.all(targets.map((t) => stopServer(t.child)));
    await Promise.all(targets.map((t) => t.postgres?.close()));
  }
  warta = { description: targets[0]!.ready.description, results: summary(targets[0]!) };
  peer = { description: targets[1]!.ready.description, results: summary(targets[1]!) };
  variants.forEach((variant, i) => variantResults.push({ label: variant.label, results: summary(targets[i + 2]!) }));
  const logged = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  const wartaLog = logged(targets[0]!.logFile!);
  requestLog = `Warta's log: ${wartaLog.split('\n').filter((line) => line.includes('"msg":"request"')).length} request lines (${(statSync(targets[0]!.logFile!).size / 2 ** 20).toFixed(1)} MiB); the peer's: ${logged(targets[1]!.logFile!).split('\n').filter(Boolean).length} lines.`;
  for (const target of targets) rmSync(target.logFile!, { force: true });
} finally {
  await database?.drop();
  for (const variantDatabase of variantDatabases) await variantDatabase.drop();
}

// The sign-in flows: Warta alone, each against its own reference (bench/flows.ts).
const flows = await runFlowBenchmarks(flowSettingsFromEnv());

// Start-up after the load runs, so neither skews the other; it makes its own databases.
// BENCH_STARTUP_RUNS=0 skips it (quick runs while optimising the token endpoints).
const startup = process.env.BENCH_STARTUP_RUNS === '0' ? undefined : await measureStartup({ databaseUrl: settings.databaseUrl, scratchDatabase: (url) => createScratchDatabase(url, 'warta_bench_start') });
// In process, counting rather than timing (bench/db-cost.ts); its own scratch database.
const databaseCost = await measureDatabaseCost({ databaseUrl: settings.databaseUrl, repetitions: seconds('BENCH_DB_COST_REPETITIONS', 200) });

const rows = SCENARIOS.map(({ name }) => {
  const w = warta.results[name]!;
  const p = peer.results[name]!;
  return { name, w, p, ratio: w.rps / p.rps, cpuRatio: p.cpuUs / w.cpuUs };
});
const us = (m: Measurement) => `${m.cpuUs.toFixed(0)} / ${m.pgUs.toFixed(0)}`;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const table = [
  '| scenario | Warta req/s | Warta p50 / p99 (ms) | peer req/s | peer p50 / p99 (ms) | Warta / peer | CPU µs/req Warta / PostgreSQL | CPU µs/req peer / PostgreSQL | peer CPU / Warta CPU |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(({ name, w, p, ratio, cpuRatio }) => `| ${name} | ${w.rps.toFixed(0)} | ${w.p50} / ${w.p99} | ${p.rps.toFixed(0)} | ${p.p50} / ${p.p99} | **${ratio.toFixed(2)}×** | ${us(w)} | ${us(p)} | ${cpuRatio.toFixed(2)}× |`),
].join('\n');
const variantTables = variantResults
  .map(({ label, results }) =>
    [
      '',
      `Warta, ${label}, in the same run (CPU: Warta's process per request):`,
      '',
      '| scenario | default: req/s | variant: req/s | default: CPU µs/req | variant: CPU µs/req | variant CPU / default CPU |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map(({ name, w }) => `| ${name} | ${w.rps.toFixed(0)} | ${results[name]!.rps.toFixed(0)} | ${w.cpuUs.toFixed(0)} | ${results[name]!.cpuUs.toFixed(0)} | ${(results[name]!.cpuUs / w.cpuUs).toFixed(2)}× |`),
    ].join('\n'),
  )
  .join('\n');
const failures = rows.filter(({ w, p }) => w.non2xx || w.errors || p.non2xx || p.errors).map(({ name, w, p }) => `- ${name}: Warta ${w.non2xx} non-2xx / ${w.errors} errors; peer ${p.non2xx} non-2xx / ${p.errors} errors`);

process.stdout.write(`\n${table}\n${variantTables}\n\n${requestLog}\n${failures.length ? `\nNon-2xx responses or errors (these runs are not valid):\n${failures.join('\n')}\n` : ''}`);

const report = `# Benchmark results

Generated by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}.

- **Warta**: ${warta.description}, its default request log on (one JSON line per request, to a file as a deployment's stdout)
- **Peer**: ${peer.description}, which logs nothing by default (its \`debug\` output is off unless DEBUG is set), configured equivalently: client_secret_basic; client_credentials → ES256 JWT access token (RFC 9068 via resource indicators); refresh tokens rotated on every use; ES256 ID tokens on refresh (scope \`openid offline_access ${'api:read'}\`).
- Load: autocannon, ${settings.connections} connections, ${settings.rounds} rounds of ${settings.duration} s per scenario after ${settings.warmup} s warm-up, ${settings.firstWarmup} s the first time a server runs it (median run shown), each server in its own Node ${process.version} process, the two taking turns.
- Machine: ${cpu}, ${os.cpus().length} logical CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB; load generator and PostgreSQL on the same machine; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end (other work on the machine skews both servers).

${table}
${variantTables}

${requestLog}
${failures.length ? `\nNon-2xx responses or errors (runs not valid):\n${failures.join('\n')}\n` : ''}
Notes:
- refresh_token: every request rotates a family (the response's refresh token goes back into the pool for a later request); Warta does the rotation in one SQL statement, the peer in four adapter calls.
- introspection: Warta introspects its JWT access token (the signature, checked once per token and process while its key is published, then one query for revocation, grant and client); oidc-provider cannot introspect JWT access tokens it does not store, so it introspects a stored opaque client_credentials token. Both are asked about the same token on every request, as a resource server asks about the token of each call it serves.
- CPU µs/req: user + system time of the server process per completed request, from /proc around each measured run; PostgreSQL's figure is the CPU of the processes serving the bench database (both servers' connections, autovacuum workers) plus the server's WAL writer, background writer and checkpointer, per process so backends that come and go count only their own share; other databases on the server are left out.
- Pools: each server gets the same PostgreSQL pool, ${settings.dbPool} connections${env.BENCH_DB_POOL ? ' (BENCH_DB_POOL)' : `: twice this machine's cores, the usual size for a database server of ${os.availableParallelism()} cores, since the bench's PostgreSQL runs here`}.
- Target (issue #5): Warta ≥ 1.5× the peer on client_credentials and refresh_token with Warta on PostgreSQL.

![Every ratio of this run against its target](results.svg)

${flowsMarkdown(flows)}
## Start-up and memory

\`npm start\` (\`node scripts/start.mjs\`: the build \`npm ci\` made) until /readyz answers, median of ${process.env.BENCH_STARTUP_RUNS ?? 3} runs; RSS of the server process 3 s after it was ready, idle. The first start on the embedded database loads the snapshot \`npm ci\` made (\`npm run snapshot\`). Targets (issue #15): embedded ready ≤ 1.5 s on a restart and ≤ 3 s on a first start, RSS ≤ 200 MB embedded and ≤ 120 MB on PostgreSQL. \`tsx bench/startup.ts\` runs this part alone.

${startup ? startupTable(startup) : '(not measured in this run: BENCH_STARTUP_RUNS=0)'}

## Database cost per flow

\`tsx bench/db-cost.ts\` runs this part alone.

${databaseCost.markdown}
`;
const TOKEN_TARGETS: Record<string, number> = { client_credentials: 1.5, refresh_token: 1.5, introspection: 1.5, jwks: 1 };
writeChart([...rows.map(({ name, ratio }) => ({ label: `${name}: Warta / peer`, value: ratio, target: TOKEN_TARGETS[name] })), ...flowChartBars(flows)], fileURLToPath(new URL('./results.svg', import.meta.url)));
// Notes written by hand below the marker survive a new run.
const resultsFile = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
const previous = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '';
const notes = previous.includes(NOTES_MARKER) ? previous.slice(previous.indexOf(NOTES_MARKER)) : `${NOTES_MARKER}\n`;
writeFileSync(resultsFile, `${report}\n${notes}`);
process.stdout.write('\nWrote bench/RESULTS.md\n');
