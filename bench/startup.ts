/**
 * Start-up and memory: how long `npm start` takes to answer /readyz, and what the process
 * holds at idle, on the embedded database and (with BENCH_DATABASE_URL) on PostgreSQL.
 *
 * - first start: a new data folder (the embedded database starts from the snapshot `npm ci` made);
 * - restart: the same folder again after a clean stop;
 * - after SIGKILL: the same folder after the process was killed mid-flight;
 * - RSS: resident memory of the server process 3 s after it became ready, idle.
 * Each is the median of BENCH_STARTUP_RUNS runs (default 3). The reference is the floor any
 * Node HTTP server pays: a bare `node:http` process answering its first request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMasterKeyBase64 } from '../src/crypto/master-key.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/** What scripts/start.mjs says when the build is older than the sources and it runs those instead. */
const START_FROM_SOURCES = 'running from the TypeScript sources';
const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 3);

export interface StartupRow {
  name: string;
  readyMs: number;
  rssMb: number;
  /** What the issue asks of this row, if anything. */
  target?: { readyMs?: number; rssMb?: number };
}

interface Started {
  child: ChildProcess;
  readyMs: number;
}

/** Spawns a server and resolves once /readyz answers 200 on its port. */
async function start(command: string[], env: Record<string, string | undefined>, port: number, readyPath = '/readyz'): Promise<Started> {
  const began = performance.now();
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env: { ...process.env, NODE_ENV: 'development', WARTA_LOG_LEVEL: 'warn', PORT: String(port), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${command.join(' ')} exited before it was ready: ${stderr}`);
    const ready = await fetch(`http://127.0.0.1:${port}${readyPath}`).then((r) => r.ok, () => false);
    if (ready && stderr.includes(START_FROM_SOURCES)) {
      await stop(child);
      throw new Error('npm start ran the TypeScript sources through tsx, not the build: run `npm run build` first (`npm run bench` does), so the start-up measured is the one a deployment gets');
    }
    if (ready) return { child, readyMs: performance.now() - began };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function idleRss(child: ChildProcess): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 3000));
  return rssMb(child.pid!);
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function series(name: string, target: StartupRow['target'], once: () => Promise<{ readyMs: number; rssMb: number }>): Promise<StartupRow> {
  const samples = [];
  for (let n = 0; n < runs; n++) samples.push(await once());
  const row = { name, readyMs: median(samples.map((s) => s.readyMs)), rssMb: median(samples.map((s) => s.rssMb)), target };
  process.stdout.write(`  ${name.padEnd(44)} ready ${row.readyMs.toFixed(0).padStart(5)} ms   RSS ${row.rssMb.toFixed(0).padStart(4)} MB\n`);
  return row;
}

/** One Warta configuration: first start, restart, restart after SIGKILL. */
async function warta(label: string, command: string[], database: () => Promise<{ env: Record<string, string>; drop(): Promise<void> }>, targets: { first?: number; restart?: number; rss?: number }, port: number): Promise<StartupRow[]> {
  const rows: StartupRow[] = [];
  const folders: (() => Promise<void>)[] = [];
  const fresh = async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'warta-bench-start-'));
    const db = await database();
    folders.push(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });
    return { WARTA_DATA_DIR: dir, WARTA_MASTER_KEY: generateMasterKeyBase64(), ...db.env };
  };
  try {
    const kept: Record<string, string>[] = [];
    rows.push(
      await series(`${label}: first start`, { readyMs: targets.first }, async () => {
        const env = await fresh();
        kept.push(env);
        const s = await start(command, env, port);
        const rss = await idleRss(s.child);
        await stop(s.child);
        return { readyMs: s.readyMs, rssMb: rss };
      }),
    );
    let next = 0;
    rows.push(
      await series(`${label}: restart`, { readyMs: targets.restart, rssMb: targets.rss }, async () => {
        const s = await start(command, kept[next++ % kept.length]!, port);
        const rss = await idleRss(s.child);
        await stop(s.child);
        return { readyMs: s.readyMs, rssMb: rss };
      }),
    );
    rows.push(
      await series(`${label}: restart after SIGKILL`, undefined, async () => {
        const env = kept[next++ % kept.length]!;
        const killed = await start(command, env, port);
        await stop(killed.child, 'SIGKILL');
        const s = await start(command, env, port);
        const rss = await idleRss(s.child);
        await stop(s.child);
        return { readyMs: s.readyMs, rssMb: rss };
      }),
    );
  } finally {
    for (const drop of folders) await drop();
  }
  return rows;
}

export async function measureStartup(options: { databaseUrl?: string; scratchDatabase?: (url: string) => Promise<{ url: string; drop(): Promise<void> }> }): Promise<StartupRow[]> {
  const port = 3900 + Math.floor(Math.random() * 50);
  const npmStart = [process.execPath, 'scripts/start.mjs'];
  process.stdout.write(`Start-up and memory (${runs} runs each, median):\n`);
  const floorServer = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port})`;
  const floor = await series('reference: bare node:http server', undefined, async () => {
    const s = await start([process.execPath, '-e', floorServer], {}, port, '/');
    const rss = await idleRss(s.child);
    await stop(s.child);
    return { readyMs: s.readyMs, rssMb: rss };
  });
  const rows = [floor];
  const embedded = async () => ({ env: {}, drop: async () => {} });
  rows.push(...(await warta('npm start, embedded PGlite', npmStart, embedded, { first: 3000, restart: 1500, rss: 200 }, port)));
  if (options.databaseUrl && options.scratchDatabase) {
    const postgres = async () => {
      const db = await options.scratchDatabase!(options.databaseUrl!);
      return { env: { DATABASE_URL: db.url }, drop: db.drop };
    };
    rows.push(...(await warta('npm start, PostgreSQL', npmStart, postgres, { rss: 120 }, port)));
  }
  return rows;
}

export function startupTable(rows: StartupRow[]): string {
  const floor = rows[0]!;
  const mark = (value: number, target: number | undefined) => (target === undefined ? '' : value <= target ? ` (target ≤ ${target}: met)` : ` (target ≤ ${target}: **not met**)`);
  return [
    '| start | ready (ms) | RSS at idle (MB) | ready / bare Node server |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.readyMs.toFixed(0)}${mark(r.readyMs, r.target?.readyMs)} | ${r.rssMb.toFixed(0)}${mark(r.rssMb, r.target?.rssMb)} | ${(r.readyMs / floor.readyMs).toFixed(1)}× |`),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { createScratchDatabase } = await import('../test/support/scratch-database.js');
  const rows = await measureStartup({ databaseUrl: process.env.BENCH_DATABASE_URL || undefined, scratchDatabase: (url) => createScratchDatabase(url, 'warta_bench_start') });
  process.stdout.write(`\n${startupTable(rows)}\n`);
}
