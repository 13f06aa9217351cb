/**
 * Soak: bounded mixed traffic (pushed authorization requests, client-credentials tokens,
 * failed password sign-ins) against Warta on a private PostgreSQL cluster, as
 * `npm start` runs it. What must hold: no 5xx and no error-level log line,
 * resident memory within 10% of what it was after warm-up, and no table growing
 * that nothing sweeps. Fixed request counts, not a duration, so a run reproduces.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { databaseOf, dataFolder, LOAD_REDIRECT_URI, mixedLoad, privateCluster, startWarta, warta } from './support.js';

const WARM_UP_REQUESTS = Number(process.env.WARTA_SOAK_WARM_UP ?? 1500);
const SOAK_REQUESTS = Number(process.env.WARTA_SOAK_REQUESTS ?? 2500);

/** Tables traffic may grow, and what keeps each bounded. */
const SWEPT: Record<string, string> = {
  oauth_authorization_requests: 'the OIDC housekeeping job deletes expired requests',
  rate_limits: 'the rate-limit housekeeping job',
  anonymous_failure_counts: 'the job that audits each closed window and deletes its counter',
  audit_log: 'anonymous failures aggregated per window; `warta audit archive` for retention',
};

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const total = (statuses: Map<number, number>) => [...statuses.values()].reduce((a, b) => a + b, 0);
const summary = (statuses: Map<number, number>) => [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');

describe('soak on PostgreSQL', () => {
  it('serves mixed traffic with no error, flat memory and no unswept table growth', async () => {
    const cluster = privateCluster();
    const env = { DATABASE_URL: cluster.url, WARTA_DATA_DIR: dataFolder() };
    warta(env, 'migrate');
    const created = warta(env, 'client', 'create', '--name', 'Soak', '--grant-types', 'client_credentials,authorization_code', '--redirect-uri', LOAD_REDIRECT_URI, '--scope', 'directory:read');
    const client = { id: String(created.client_id), secret: String(created.client_secret) };
    const server = await startWarta(env);
    const db = databaseOf(cluster.url);
    const tables = (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'kysely_%'`.execute(db)).rows.map((r) => r.name);
    const counts = async () => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(t)}`.execute(db)).rows[0]!.n)] as const)));

    const warmUp = await mixedLoad(() => server.url, client, (r) => total(r.statuses) >= WARM_UP_REQUESTS);
    const rssAfterWarmUp = rssKiB(server.child.pid!);
    const before = await counts();
    const soak = await mixedLoad(() => server.url, client, (r) => total(r.statuses) >= SOAK_REQUESTS);
    const rssAfterSoak = rssKiB(server.child.pid!);
    const after = await counts();

    const serverErrors = [...soak.statuses.keys(), ...warmUp.statuses.keys()].filter((status) => status >= 500 || status === 0);
    const errorLines = server.logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    const grown = tables.filter((t) => after[t]! > before[t]!);
    console.log(
      `soak: ${total(warmUp.statuses)} warm-up and ${total(soak.statuses)} measured requests (${summary(soak.statuses)}); ` +
        `RSS ${Math.round(rssAfterWarmUp / 1024)} MiB after warm-up, ${Math.round(rssAfterSoak / 1024)} MiB after (${(((rssAfterSoak - rssAfterWarmUp) / rssAfterWarmUp) * 100).toFixed(1)}%); ` +
        `grew: ${grown.map((t) => `${t} +${after[t]! - before[t]!}`).join(', ') || 'nothing'}`,
    );
    expect(serverErrors).toEqual([]);
    expect(errorLines).toEqual([]);
    expect(rssAfterSoak).toBeLessThan(rssAfterWarmUp * 1.1);
    expect(grown.filter((t) => !(t in SWEPT))).toEqual([]);
    // Failed sign-ins for made-up names are counted, not one audit row each.
    expect(after.audit_log! - before.audit_log!).toBeLessThan(total(soak.statuses) / 100);
  });
});
