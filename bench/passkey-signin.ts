/**
 * Time of one full passkey sign-in (options + verify) over real HTTP, on
 * embedded PGlite or on PostgreSQL.
 *
 *   npx tsx bench/passkey-signin.ts                                   # PGlite (in memory)
 *   WARTA_TEST_DB=pg TEST_DATABASE_URL=postgres://warta:warta@127.0.0.1:5432/warta_test npx tsx bench/passkey-signin.ts
 *
 * On PostgreSQL it creates a scratch database, as the tests do, and drops it afterwards. The software authenticator's
 * own work (P-256 signing) is measured separately and excluded from the server time.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from '../src/app.js';
import { createInvitation } from '../src/invitations/service.js';
import { createOrganisation } from '../src/orgs/service.js';
import { openRuntime } from '../src/runtime.js';
import { createScratchDatabase, testConfig, usingPostgres } from '../test/support/runtime.js';
import { SoftAuthenticator } from '../test/support/soft-authenticator.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 300);
const WARM_UP = 30;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const scratch = usingPostgres ? await createScratchDatabase() : undefined;
  const config = testConfig(scratch ? { DATABASE_URL: scratch.url } : {});
  const runtime = await openRuntime(config, { pgliteDir: 'memory://' });
  const app = createApp(runtime);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<any>;
  };

  try {
    const org = await createOrganisation(runtime, { actor: 'bench' }, { name: 'Bench' });
    const { token } = await createInvitation(runtime, { actor: 'bench' }, { organisationId: org.id, displayName: 'Bench User', email: 'bench@example.gov', role: 'member' });
    const authenticator = new SoftAuthenticator();
    const creation = await post('/api/webauthn/enrollment/options', { invitation: token });
    await post('/api/webauthn/enrollment/verify', { invitation: token, credential: authenticator.createCredential(creation, { origin: config.origin }) });

    const server_ms: number[] = [];
    const client_ms: number[] = [];
    for (let i = 0; i < WARM_UP + ITERATIONS; i++) {
      const t0 = performance.now();
      const options = await post('/api/webauthn/authentication/options', {});
      const t1 = performance.now();
      const credential = authenticator.getAssertion(options, { origin: config.origin });
      const t2 = performance.now();
      await post('/api/webauthn/authentication/verify', { credential });
      const t3 = performance.now();
      if (i >= WARM_UP) {
        server_ms.push(t1 - t0 + (t3 - t2));
        client_ms.push(t2 - t1);
      }
    }
    server_ms.sort((a, b) => a - b);
    const mean = server_ms.reduce((sum, n) => sum + n, 0) / server_ms.length;
    const fmt = (n: number) => n.toFixed(2);
    console.log(
      JSON.stringify({
        database: runtime.dbKind,
        iterations: ITERATIONS,
        signin_ms: { median: fmt(quantile(server_ms, 0.5)), p95: fmt(quantile(server_ms, 0.95)), mean: fmt(mean), min: fmt(server_ms[0]!), max: fmt(server_ms[server_ms.length - 1]!) },
        soft_authenticator_ms_median: fmt(client_ms.sort((a, b) => a - b)[Math.floor(client_ms.length / 2)]!),
        node: process.version,
      }),
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await runtime.close();
    await scratch?.drop();
  }
}

await main();
