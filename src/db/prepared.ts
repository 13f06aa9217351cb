import { createHash } from 'node:crypto';
import type { PostgresPool } from 'kysely';
import type pg from 'pg';

/**
 * Server-side prepared statements for the SQL Warta runs over and over, on PostgreSQL.
 *
 * kysely's pg driver sends every statement unnamed, so PostgreSQL parses, analyses and
 * plans it again at each call. For Warta's one-statement operations that is most of the
 * server's work: the refresh rotation (one statement of four CTEs) cost its backend
 * about 2.3 ms of CPU unnamed and 0.8 ms named, of which 0.4 ms is the commit. A named
 * statement is parsed once per connection, and after five executions PostgreSQL keeps a
 * generic plan when it is no worse than the custom ones (`plan_cache_mode` auto); Warta's
 * hot statements look rows up by unique keys, whose generic plans are the same index scans.
 *
 * Named by a hash of the SQL text, so every connection uses the same name for the same
 * text. Only a hot set is named: a text run `hotAfter` times, and at most `maxNamed`
 * texts per process, whatever else runs (IN lists of varying length, rare admin
 * queries): each connection holds at most that many prepared statements on the server,
 * and the counting itself forgets its candidates when they grow past `maxCandidates`.
 *
 * A statement prepared before a migration (another instance's, in a rolling upgrade)
 * changed the columns of a table it reads with `select *` is refused by PostgreSQL
 * ("cached plan must not change result type", SQLSTATE 0A000) before it runs: outside
 * a transaction it runs again unnamed; inside one the transaction fails as any error
 * would fail it. Either way its connection is closed instead of going back to the
 * pool, so the next checkouts prepare afresh.
 */
export interface PreparedStatementSettings {
  /** Executions of a text before it gets a name. */
  hotAfter: number;
  /** Distinct texts named per process (so prepared per connection, at most). */
  maxNamed: number;
  /** Texts counted towards `hotAfter` before the count starts over. */
  maxCandidates: number;
}

export const DEFAULT_PREPARED_STATEMENTS: PreparedStatementSettings = { hotAfter: 2, maxNamed: 256, maxCandidates: 4096 };

/** Statements PostgreSQL can prepare and plan; transaction control and the like go as they are. */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
const STALE_PREPARED_STATEMENT = '0A000';

/** Which SQL texts run as named statements, shared by the pool's connections. */
export class StatementNames {
  private readonly named = new Map<string, string>();
  private candidates = new Map<string, number>();

  constructor(private readonly settings: PreparedStatementSettings = DEFAULT_PREPARED_STATEMENTS) {}

  /** The name `text` runs under, or undefined to send it unnamed. */
  nameOf(text: string): string | undefined {
    const name = this.named.get(text);
    if (name !== undefined || this.named.size >= this.settings.maxNamed) return name;
    if (!PREPARABLE.test(text)) return undefined;
    const seen = (this.candidates.get(text) ?? 0) + 1;
    if (seen < this.settings.hotAfter) {
      if (this.candidates.size >= this.settings.maxCandidates) this.candidates = new Map();
      this.candidates.set(text, seen);
      return undefined;
    }
    this.candidates.delete(text);
    // 63 bytes is PostgreSQL's limit on a name; 24 base64url characters are 144 bits of SHA-256.
    const hashed = `w_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
    this.named.set(text, hashed);
    return hashed;
  }

  get size(): number {
    return this.named.size;
  }
}

/** Clients whose prepared statements went stale: closed when released. */
interface PreparingClient {
  stale: boolean;
}

/**
 * The pool as kysely's PostgresDialect takes it, whose clients send `names`' hot set as
 * named statements. kysely calls `client.query(text, values)`; other forms (cursors,
 * config objects) pass through.
 */
export function preparingPool(pool: pg.Pool, names: StatementNames): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PreparingClient>();
  const connect = async () => {
    const client = await pool.connect();
    let state = clients.get(client);
    if (!state) {
      state = { stale: false };
      clients.set(client, state);
      usePreparedStatements(client, names, state);
    }
    // The pool gives each checkout its own release function.
    const release = client.release;
    const preparing = state;
    client.release = (destroy?: boolean | Error) => release(destroy || preparing.stale);
    return client;
  };
  // kysely also reads the pool's Client and options (to cancel a query on a connection of its own).
  return { connect, end: () => pool.end(), Client: (pool as pg.Pool & { Client: unknown }).Client, options: pool.options } as PostgresPool;
}

function usePreparedStatements(client: pg.PoolClient, names: StatementNames, state: PreparingClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
    const name = typeof config === 'string' && Array.isArray(values) && callback === undefined ? names.nameOf(config) : undefined;
    if (name === undefined) return query(config, values, callback);
    return (query({ name, text: config, values }) as Promise<pg.QueryResult>).catch((error: unknown) => {
      if (!isStalePlan(error)) throw error;
      state.stale = true;
      // Refused before it ran; outside a transaction nothing else is lost, so it runs again unnamed.
      if (client.getTransactionStatus() === 'I') return query(config, values);
      throw error;
    });
  }) as typeof client.query;
}

function isStalePlan(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === STALE_PREPARED_STATEMENT && /cached plan must not change result type/.test(message ?? '');
}
