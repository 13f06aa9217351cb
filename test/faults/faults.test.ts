/**
 * Faults, against Warta as `npm start` runs it: PostgreSQL stopped under mixed
 * load (sign-ins, tokens, pushed authorization requests), and Warta killed with SIGKILL
 * mid-load on PostgreSQL and on the embedded database. What must hold: only
 * 503s while the database is away (never a 500, never a sign-in), `/readyz`
 * down, recovery without a restart, no acknowledged write lost, the audit chain
 * intact, and the signing keys kept across a crash. `npm run test:faults`.
 */
import { PGliteDialect } from 'kysely';
import { Kysely } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.js';
import { databaseOf, dataFolder, LOAD_REDIRECT_URI, lostRequests, mixedLoad, privateCluster, startWarta, warta } from './support.js';

const summary = (statuses: Map<number, number>) => [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s === 0 ? 'no answer' : s}×${n}`).join(' ');

function registerLoadClient(env: Record<string, string>) {
  const client = warta(env, 'client', 'create', '--name', 'Load', '--grant-types', 'client_credentials,authorization_code', '--redirect-uri', LOAD_REDIRECT_URI, '--scope', 'directory:read');
  return { id: String(client.client_id), secret: String(client.client_secret) };
}

const jwksKids = async (base: string) => ((await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();

describe('PostgreSQL stops under mixed load', () => {
  it('answers only 503 while it is away, reports not ready, recovers without a restart, and loses no acknowledged write', async () => {
    const cluster = privateCluster();
    const env = { DATABASE_URL: cluster.url, WARTA_DATA_DIR: dataFolder() };
    warta(env, 'migrate');
    const client = registerLoadClient(env);
    const server = await startWarta(env);
    const base = () => server.url;

    const before = await mixedLoad(base, client, (r) => r.acknowledgedRequests.length >= 30);
    expect(before.acknowledgedRequests.length).toBeGreaterThanOrEqual(30);
    cluster.stop('immediate');
    const outage = await mixedLoad(base, client, (r) => [...r.statuses.values()].reduce((a, b) => a + b, 0) >= 60);
    const readyDuringOutage = await fetch(`${server.url}/readyz`);
    expect(readyDuringOutage.status).toBe(503);
    expect(outage.acknowledgedRequests).toEqual([]);
    // client_credentials may still be served from the client cache; nothing else succeeds, and nothing is a 500.
    expect([...outage.statuses.keys()].filter((status) => status !== 503 && !(status === 200 && outage.tokens > 0))).toEqual([]);

    cluster.start();
    let readyAfter = 0;
    for (let attempt = 0; attempt < 200 && readyAfter !== 200; attempt++) readyAfter = (await fetch(`${server.url}/readyz`)).status;
    expect(readyAfter).toBe(200);
    const after = await mixedLoad(base, client, (r) => r.acknowledgedRequests.length >= 30);
    expect(after.acknowledgedRequests.length).toBeGreaterThanOrEqual(30);
    expect(after.statuses.get(500)).toBeUndefined();

    const db = databaseOf(cluster.url);
    expect(await lostRequests(db, [...before.acknowledgedRequests, ...after.acknowledgedRequests])).toEqual([]);
    expect(warta(env, 'audit', 'verify', '--seal')).toMatchObject({ ok: true });
    const errorLines = server.logLines.filter((line) => JSON.parse(line).level >= 50);
    console.log(
      `faults, PostgreSQL stop: before ${summary(before.statuses)}; during ${summary(outage.statuses)}; after ${summary(after.statuses)}; ` +
        `${before.acknowledgedRequests.length + after.acknowledgedRequests.length} acknowledged pushed requests all stored; audit chain verifies; ${errorLines.length} error-level log lines`,
    );
  });
});

/**
 * Runs mixed load, kills Warta with SIGKILL once 40 pushed requests were acknowledged
 * (the load goes on into the dead socket), restarts it on the same database and
 * checks it is ready with the same signing keys.
 */
async function killedMidLoadAndRestarted(env: Record<string, string>, client: { id: string; secret: string }) {
  let server = await startWarta(env);
  const kids = await jwksKids(server.url);
  let killed = false;
  const load = await mixedLoad(() => server.url, client, (r) => {
    if (!killed && r.acknowledgedRequests.length >= 40) {
      killed = true;
      server.child.kill('SIGKILL');
    }
    return killed && (r.statuses.get(0) ?? 0) >= 4;
  });
  expect(killed).toBe(true);
  await server.exited;
  server = await startWarta(env);
  expect(await jwksKids(server.url)).toEqual(kids);
  expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  return { load, server };
}

describe('Warta killed with SIGKILL mid-load', () => {
  it('on PostgreSQL: restarts with every acknowledged write and the same signing keys', async () => {
    const cluster = privateCluster();
    const env = { DATABASE_URL: cluster.url, WARTA_DATA_DIR: dataFolder() };
    warta(env, 'migrate');
    const client = registerLoadClient(env);
    const { load, server } = await killedMidLoadAndRestarted(env, client);
    expect(await lostRequests(databaseOf(cluster.url), load.acknowledgedRequests)).toEqual([]);
    expect(warta(env, 'audit', 'verify', '--seal')).toMatchObject({ ok: true });
    console.log(`faults, SIGKILL on PostgreSQL: ${summary(load.statuses)}; ${load.acknowledgedRequests.length} acknowledged pushed requests all stored after restart; same signing keys`);
  });

  it('on the embedded database: reopens cleanly with every acknowledged write and the same signing keys', async () => {
    const env = { WARTA_DATA_DIR: dataFolder() };
    warta(env, 'migrate');
    const client = registerLoadClient(env);
    const { load, server } = await killedMidLoadAndRestarted(env, client);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    // The embedded database is one process's: read it once Warta has stopped.
    const pglite = new PGlite(`${env.WARTA_DATA_DIR}/pglite`);
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
    try {
      expect(await lostRequests(db, load.acknowledgedRequests)).toEqual([]);
    } finally {
      await db.destroy();
    }
    expect(warta(env, 'audit', 'verify', '--seal')).toMatchObject({ ok: true });
    console.log(`faults, SIGKILL on the embedded database: ${summary(load.statuses)}; ${load.acknowledgedRequests.length} acknowledged pushed requests all stored after reopening; same signing keys`);
  });
});
