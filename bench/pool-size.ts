import os from 'node:os';

/**
 * Each server's PostgreSQL pool in the bench (`BENCH_DB_POOL` overrides it). The bench's
 * PostgreSQL runs on this machine, so the pool follows the usual rule for a database server,
 * about two connections per core of that server: backends beyond that only take turns on the
 * same cores, and each turn costs the database CPU (bench/RESULTS.md, round 6, measures it).
 */
export function benchPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  return env.BENCH_DB_POOL ? Number(env.BENCH_DB_POOL) : 2 * os.availableParallelism();
}
