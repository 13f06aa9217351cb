/**
 * What the fault suites need: a private PostgreSQL cluster (its own data folder
 * and port, made with initdb, never the machine's shared cluster) that a test
 * may stop, start and kill; Warta and its CLI as child processes, as `npm start`
 * runs them; and a load loop whose acknowledged writes can be checked afterwards.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll } from 'vitest';
import { hashToken } from '../../src/crypto/random.js';
import type { Database } from '../../src/db/schema.js';
import { REQUEST_URI_PREFIX } from '../../src/oidc/endpoints.js';
import { startWartaProcess, type WartaProcess } from '../support/warta-process.js';

const root = path.resolve(import.meta.dirname, '../..');
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0];
  if (!version) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return path.join(base, version, 'bin');
}

/** initdb refuses to run as root, so as root the cluster belongs to the postgres user. */
function runAsOwner(command: string, args: string[]): string {
  const asRoot = process.getuid?.() === 0;
  return execFileSync(asRoot ? 'runuser' : command, asRoot ? ['-u', 'postgres', '--', command, ...args] : args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface PrivateCluster {
  url: string;
  /** `immediate` is a crash as PostgreSQL sees it: no checkpoint, recovery from the WAL at the next start. */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
}

export function privateCluster(): PrivateCluster {
  const bin = postgresBin();
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-faults-pg-'));
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, uid);
  }
  chmodSync(dir, 0o755);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  runAsOwner(path.join(bin, 'initdb'), ['-D', data, '-U', 'warta', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  const pgCtl = (...args: string[]) => runAsOwner(path.join(bin, 'pg_ctl'), ['-D', data, ...args]);
  const start = () => void pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`, '-l', path.join(dir, 'log'), '-w', 'start');
  start();
  runAsOwner(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'warta', 'warta']);
  const cluster: PrivateCluster = {
    url: `postgres://warta:trust@127.0.0.1:${port}/warta`,
    stop: (mode = 'fast') => void pgCtl('-m', mode, '-w', 'stop'),
    start,
  };
  cleanups.push(() => {
    try {
      cluster.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return cluster;
}

export function databaseOf(url: string): Kysely<Database> {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }) });
  cleanups.push(() => db.destroy());
  return db;
}

/** `src/main.ts` as `npm start` runs it, with the anonymous request limit out of the load's way. */
export type { WartaProcess };
export async function startWarta(env: Record<string, string>): Promise<WartaProcess> {
  const started = await startWartaProcess({ WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000', ...env });
  // Before the database it uses goes away.
  cleanups.push(() => void started.child.kill('SIGKILL'));
  return started;
}

/** The `warta` CLI, as `npm run warta` runs it, with --json. */
export function warta(env: Record<string, string>, ...args: string[]): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--json'], { cwd: root, env: { ...process.env, NODE_ENV: 'development', ...env }, encoding: 'utf8' });
  return JSON.parse(out) as Record<string, unknown>;
}

export function dataFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-faults-data-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface LoadReport {
  /** Pushed authorization requests Warta acknowledged (201 with a request_uri): each must be stored. */
  acknowledgedRequests: string[];
  tokens: number;
  statuses: Map<number, number>;
}

/** A run that goes wrong ends here instead of at the test's timeout. */
const MAX_REQUESTS = 3000;

/**
 * Mixed traffic from `workers` concurrent loops until `until()` is true (or
 * MAX_REQUESTS): pushed authorization requests (each a stored row, acknowledged
 * with its request_uri), client-credentials tokens, and failed password sign-ins.
 * A network error (a killed server) is recorded as status 0. Passkey sign-in
 * options are not in the mix: their challenge is sealed, not stored, so they
 * acknowledge no write.
 */
export async function mixedLoad(base: () => string, client: { id: string; secret: string }, until: (report: LoadReport) => boolean, workers = 4): Promise<LoadReport> {
  const report: LoadReport = { acknowledgedRequests: [], tokens: 0, statuses: new Map() };
  const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
  const record = (status: number) => report.statuses.set(status, (report.statuses.get(status) ?? 0) + 1);
  let turn = 0;
  async function loop() {
    while (!until(report) && turn < MAX_REQUESTS) {
      turn += 1;
      try {
        if (turn % 3 === 0) {
          const response = await fetch(`${base()}/par`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: pushedRequest(client.id) });
          record(response.status);
          const body = (await response.json()) as { request_uri?: string };
          if (response.status === 201 && body.request_uri) report.acknowledgedRequests.push(body.request_uri);
        } else if (turn % 3 === 1) {
          const response = await fetch(`${base()}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: 'grant_type=client_credentials' });
          record(response.status);
          await response.arrayBuffer();
          if (response.status === 200) report.tokens += 1;
        } else {
          const response = await fetch(`${base()}/api/signin/password`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `nobody-${turn % 50}@example.gov`, password: 'wrong-password', code: '000000' }) });
          record(response.status);
          await response.arrayBuffer();
        }
      } catch {
        record(0);
      }
    }
  }
  await Promise.all(Array.from({ length: workers }, loop));
  return report;
}

/** The load client's redirect URI (registered with `--redirect-uri`). */
export const LOAD_REDIRECT_URI = 'https://load.example.gov/cb';

const pushedRequest = (clientId: string) =>
  new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: LOAD_REDIRECT_URI, scope: 'directory:read', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();

/** The acknowledged pushed requests (their request_uri) missing from the database. */
export async function lostRequests(db: Kysely<Database>, requestUris: string[]): Promise<string[]> {
  const stored = new Set((await db.selectFrom('oauth_authorization_requests').select('id_hash').execute()).map((row) => row.id_hash));
  return requestUris.filter((uri) => !stored.has(hashToken(uri.slice(REQUEST_URI_PREFIX.length))));
}

