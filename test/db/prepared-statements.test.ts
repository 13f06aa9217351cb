/** src/db/prepared.ts: the hot set of statements runs as named prepared statements on PostgreSQL. */
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.js';
import { preparingPool, StatementNames } from '../../src/db/prepared.js';
import { cleanUpLater, createScratchDatabase, usingPostgres } from '../support/runtime.js';

describe('which statements get a name', () => {
  it('names a statement from its second execution on, by a hash of its text, the same for every caller', () => {
    const names = new StatementNames({ hotAfter: 2, maxNamed: 10, maxCandidates: 100 });
    const text = 'select * from users where id = $1';
    expect(names.nameOf(text)).toBeUndefined();
    const name = names.nameOf(text);
    expect(name).toMatch(/^w_[\w-]{24}$/);
    expect(names.nameOf(text)).toBe(name);
    expect(new StatementNames({ hotAfter: 1, maxNamed: 10, maxCandidates: 100 }).nameOf(text)).toBe(name);
    expect(names.nameOf('select * from users where id = $2')).toBeUndefined();
  });

  it('never names transaction control or other statements PostgreSQL does not plan', () => {
    const names = new StatementNames({ hotAfter: 1, maxNamed: 10, maxCandidates: 100 });
    for (const text of ['begin', 'commit', 'rollback', 'set local lock_timeout = 1000', 'explain select 1']) expect(names.nameOf(text)).toBeUndefined();
    expect(names.nameOf('  with x as (select 1) select * from x')).toBeDefined();
  });

  it('names at most maxNamed texts, however often others run: the prepared statements of a connection stay bounded', () => {
    const names = new StatementNames({ hotAfter: 1, maxNamed: 3, maxCandidates: 100 });
    const texts = Array.from({ length: 50 }, (_, i) => `select ${i} where $1::int is not null`);
    for (let round = 0; round < 5; round++) for (const text of texts) names.nameOf(text);
    expect(names.size).toBe(3);
    expect(texts.filter((text) => names.nameOf(text) !== undefined)).toEqual(texts.slice(0, 3));
  });

  it('forgets its candidates when they outgrow maxCandidates, so one-off texts cannot grow its memory without bound', () => {
    const names = new StatementNames({ hotAfter: 2, maxNamed: 10, maxCandidates: 4 });
    names.nameOf('select 1 where $1::int > 0');
    for (let i = 0; i < 4; i++) names.nameOf(`select ${i + 100} where $1::int > 0`);
    // The first candidate's sighting was forgotten when the fifth text arrived: it starts over.
    expect(names.nameOf('select 1 where $1::int > 0')).toBeUndefined();
    expect(names.nameOf('select 1 where $1::int > 0')).toBeDefined();
  });
});

describe.runIf(usingPostgres)('prepared statements on PostgreSQL', () => {
  async function database() {
    const scratch = await createScratchDatabase();
    cleanUpLater(() => scratch.drop());
    return scratch;
  }

  it('prepares a statement run twice on the connection, through connectDatabase', async () => {
    const scratch = await database();
    const handle = await connectDatabase({ databaseUrl: scratch.url, pgliteDir: 'memory://', poolSize: 1, attempts: 1 });
    try {
      const lookup = () => sql`select ${'x'}::text || 'y' as v`.execute(handle.db);
      await lookup();
      expect((await lookup()).rows).toEqual([{ v: 'xy' }]);
      const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(handle.db);
      expect(rows.map((r) => r.statement)).toEqual([`select $1::text || 'y' as v`]);
    } finally {
      await handle.close();
    }
  });

  it('runs as before without prepared statements when turned off', async () => {
    const scratch = await database();
    const handle = await connectDatabase({ databaseUrl: scratch.url, pgliteDir: 'memory://', poolSize: 1, attempts: 1, preparedStatements: false });
    try {
      for (let i = 0; i < 3; i++) await sql`select ${i}::int as v`.execute(handle.db);
      expect((await sql`select count(*)::int as n from pg_prepared_statements`.execute(handle.db)).rows).toEqual([{ n: 0 }]);
    } finally {
      await handle.close();
    }
  });

  it('survives a table changed under a prepared `select *`: runs it again unnamed outside a transaction, fails it inside one, and replaces the connection', async () => {
    const scratch = await database();
    const pool = new pg.Pool({ connectionString: scratch.url, max: 1 });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: preparingPool(pool, new StatementNames({ hotAfter: 1, maxNamed: 10, maxCandidates: 100 })) }) });
    const other = new pg.Client({ connectionString: scratch.url });
    await other.connect();
    try {
      await sql`create table t (a int)`.execute(db);
      await sql`insert into t values (1)`.execute(db);
      const readAll = () => db.executeQuery(CompiledQuery.raw('select * from t where a = $1', [1]));
      const backend = async () => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
      expect((await readAll()).rows).toEqual([{ a: 1 }]);
      const first = await backend();

      await other.query('alter table t add column b int default 2');
      expect((await readAll()).rows).toEqual([{ a: 1, b: 2 }]);
      const second = await backend();
      expect(second).not.toBe(first);

      // Prepared again on the new connection, then changed again, inside a transaction this time.
      expect((await readAll()).rows).toEqual([{ a: 1, b: 2 }]);
      await other.query('alter table t add column c int default 3');
      await expect(db.transaction().execute((trx) => trx.executeQuery(CompiledQuery.raw('select * from t where a = $1', [1])))).rejects.toThrow(/cached plan must not change result type/);
      expect(await backend()).not.toBe(second);
      expect((await readAll()).rows).toEqual([{ a: 1, b: 2, c: 3 }]);
    } finally {
      await other.end();
      await db.destroy();
    }
  });
});
