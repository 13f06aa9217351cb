import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { Kysely, type LogEvent, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { type DatabaseObserver, observedDialect } from './observe.js';
import { preparingPool, StatementNames } from './prepared.js';
import { extractDataDir, loadPglite, pgliteStartParams } from './pglite.js';
import type { Database } from './schema.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: 'pg' | 'pglite';
  /** Connections by state, for the metrics: the pool's total, idle and waiting clients on PostgreSQL; the one connection of the embedded database. */
  connectionUse(): Record<string, number>;
  /**
   * The embedded database's data directory as a gzipped tar (`warta backup`), taken
   * between transactions; absent on PostgreSQL, which has pg_dump.
   */
  dumpEmbedded?(): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** postgres://… for a server; undefined for embedded PGlite. */
  databaseUrl: string | undefined;
  /** PGlite data folder; `memory://` for a throwaway in-memory database. */
  pgliteDir: string;
  /**
   * A saved PGlite data directory (`dumpDataDir()`, e.g. already migrated) that a new
   * embedded database starts from instead of running initdb: used only when the
   * folder holds no database yet (`memory://` never does). Ignored on PostgreSQL.
   */
  pgliteSnapshot?: Blob;
  poolSize: number;
  attempts: number;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /** Called after every query with its duration (the metrics' query latency). */
  onQuery?: (seconds: number, failed: boolean) => void;
  /** Sees every statement and transaction (bench/db-cost.ts); absent in a server. */
  observer?: DatabaseObserver;
  /** PostgreSQL: run the hot set of statements as prepared statements (src/db/prepared.ts); default on. */
  preparedStatements?: boolean;
}

function queryObserver(onQuery: ConnectOptions['onQuery']) {
  if (!onQuery) return undefined;
  return (event: LogEvent) => onQuery(event.queryDurationMillis / 1000, event.level === 'error');
}

// int8 (bigserial ids, counts) as strings would leak into every caller; Warta's
// bigints (audit ids, seqs) stay far below 2^53.
pg.types.setTypeParser(20, (value) => Number(value));

export async function connectDatabase(options: ConnectOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl === undefined) return openPglite(options.pgliteDir, options.pgliteSnapshot, options.onQuery, options.observer);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize, connectionTimeoutMillis: 5000 });
  // An idle client losing its server must not crash the process; the next query fails and maps to 503.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: observedDialect(new PostgresDialect({ pool: options.preparedStatements === false ? pool : preparingPool(pool, new StatementNames()) }), options.observer), log: queryObserver(options.onQuery), plugins: options.observer ? [options.observer.plugin] : [] });
  await withRetry(options, async () => {
    const client = await pool.connect();
    client.release();
  });
  return {
    db,
    kind: 'pg',
    connectionUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => db.destroy(),
  };
}

async function openPglite(dir: string, snapshot: Blob | undefined, onQuery: ConnectOptions['onQuery'], observer: DatabaseObserver | undefined): Promise<DatabaseHandle> {
  const inMemory = dir === 'memory://';
  let unlock = () => {};
  if (!inMemory) {
    mkdirSync(path.resolve(dir), { recursive: true, mode: 0o700 });
    unlock = lockDataDir(path.resolve(dir));
  }
  try {
    const dataDir = inMemory ? undefined : path.resolve(dir);
    // A snapshot is only ever a new database's start: PGlite refuses to load one over an existing database.
    const fresh = dataDir === undefined || readdirSync(dataDir).length === 0;
    if (snapshot && fresh && dataDir) await extractDataDir(snapshot, dataDir);
    const PGlite = await loadPglite();
    useBaselineWasmCompiler();
    const pglite = await PGlite.create({ dataDir, loadDataDir: snapshot && fresh && !dataDir ? snapshot : undefined, startParams: pgliteStartParams(PGlite) });
    const db = new Kysely<Database>({ dialect: observedDialect(new PGliteDialect({ pglite }), observer), log: queryObserver(onQuery), plugins: observer ? [observer.plugin] : [] });
    return {
      db,
      kind: 'pglite',
      // One in-process connection that queries take turns on; it has no pool to be idle in or wait for.
      connectionUse: () => ({ total: pglite.closed ? 0 : 1 }),
      dumpEmbedded: async () => {
        // Flushed first, so a restored copy has little WAL to replay when it starts.
        await pglite.exec('checkpoint');
        // dumpDataDir waits only for the statement in progress; a kysely transaction spans
        // several, so the dump also waits its turn behind transactions and cannot copy one half done.
        const tar = await pglite._runExclusiveTransaction(() => pglite.dumpDataDir('gzip'));
        return new Uint8Array(await tar.arrayBuffer());
      },
      close: async () => {
        await db.destroy();
        if (!pglite.closed) await pglite.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

/**
 * PGlite is PostgreSQL compiled to a 9 MB WebAssembly module. V8 compiles it fast
 * (Liftoff), then again in the background with its optimising compiler: seconds of CPU
 * at every start and about 60 MB more memory, for queries a little faster on a database
 * that serves one organisation's laptop-sized install. Production runs on PostgreSQL.
 * Set before PGlite compiles its module; only WebAssembly compilation reads these flags.
 */
function useBaselineWasmCompiler(): void {
  v8.setFlagsFromString('--liftoff-only');
}

/**
 * PGlite is one process's database: a second process opening the same folder
 * would corrupt it. A pid file refuses that with a clear message (a stale one,
 * left by a process that died, is taken over).
 */
export function lockDataDir(dir: string): () => void {
  const lockFile = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockFile, 'utf8').trim());
      if (holder && holder !== process.pid && processAlive(holder))
        throw new EmbeddedDatabaseInUseError(`the embedded database in ${dir} is in use by process ${holder}: stop that Warta process first, or run Warta on PostgreSQL (DATABASE_URL)`);
      rmSync(lockFile, { force: true });
    }
  }
  throw new EmbeddedDatabaseInUseError(`cannot lock the embedded database in ${dir}`);
}

/** The live process holding the embedded database in `dir` (a pid in its lock file), if any; this process counts too. */
export function embeddedDatabaseHolder(dir: string): number | undefined {
  let holder: number;
  try {
    holder = Number(readFileSync(`${dir}.lock`, 'utf8').trim());
  } catch {
    return undefined;
  }
  return holder && processAlive(holder) ? holder : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class EmbeddedDatabaseInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedDatabaseInUseError';
  }
}

async function withRetry(options: ConnectOptions, attempt: () => Promise<void>): Promise<void> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= options.attempts) throw new DatabaseUnavailableError(options.attempts, error);
      const delayMs = Math.min(250 * 2 ** (n - 1), 5000);
      options.onRetry?.(n, delayMs, error);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

export class DatabaseUnavailableError extends Error {
  constructor(attempts: number, cause: unknown) {
    super(`cannot reach the database after ${attempts} attempts: ${describeError(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

function describeError(e: unknown): string {
  if (e instanceof AggregateError) return e.errors.map(describeError).join('; ');
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ? `${(e as NodeJS.ErrnoException).code} ${e.message}` : e.message;
  return String(e);
}

/** True when an error means the database cannot be reached (as opposed to a query error). */
export function isDatabaseUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH'].includes(code)) return true;
  // SQLSTATE class 08 (connection exception), 57P01-03 (admin shutdown, crash, cannot connect now), 53300 (too many connections).
  if (/^08/.test(code) || /^57P0[123]$/.test(code) || code === '53300') return true;
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|driver has already been destroyed|PGlite is closed/i.test(e.message)) return true;
  return e instanceof AggregateError && e.errors.some(isDatabaseUnavailable);
}
