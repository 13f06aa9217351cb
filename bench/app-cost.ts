/**
 * `tsx bench/app-cost.ts [checkout]`: Warta's CPU per request inside the app (hono and
 * Warta's code, no socket, no HTTP parser), through `app.fetch`, for the token-endpoint
 * scenarios of bench/run.ts; default request log on, to a file. Embedded PGlite unless
 * BENCH_DATABASE_URL is set (results on stderr; stdout is the log). Min and median of five rounds, so other work on the machine
 * matters less than in an HTTP run. With a checkout path, that checkout's src/ is
 * measured (e.g. the previous commit, for a before/after).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createScratchDatabase } from '../test/support/scratch-database.js';

const tree = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'));
const load = async <T>(module: string) => (await import(pathToFileURL(path.join(tree, 'src', module)).href)) as T;
const { createApp } = await load<typeof import('../src/app.js')>('app.ts');
const { OPERATOR, registerClient } = await load<typeof import('../src/clients/service.js')>('clients/service.ts');
const { loadConfig } = await load<typeof import('../src/config.js')>('config.ts');
const { openRuntime } = await load<typeof import('../src/runtime.js')>('runtime.ts');

const database = process.env.BENCH_DATABASE_URL ? await createScratchDatabase(process.env.BENCH_DATABASE_URL, 'warta_bench') : undefined;
const issuer = 'http://127.0.0.1:3000';
const config = loadConfig({ NODE_ENV: 'production', WARTA_ISSUER: issuer, WARTA_MASTER_KEY: randomBytes(32).toString('base64'), WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000', ...(database ? { DATABASE_URL: database.url } : {}) });
const runtime = await openRuntime(config, { pgliteDir: 'memory://' });
const app = createApp(runtime);
const client = await registerClient(runtime, { actor: 'bench' }, { client_name: 'Bench client', grant_types: ['client_credentials'], scope: 'api:read' }, { authority: OPERATOR });
const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
const form = { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' };
const issued = (await (await app.request(`${issuer}/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials&scope=api%3Aread' })).json()) as { access_token: string };

const scenarios: Record<string, () => Request> = {
  client_credentials: () => new Request(`${issuer}/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials&scope=api%3Aread' }),
  introspection: () => new Request(`${issuer}/introspect`, { method: 'POST', headers: form, body: `token=${issued.access_token}` }),
  jwks: () => new Request(`${issuer}/.well-known/jwks.json`),
  discovery: () => new Request(`${issuer}/.well-known/openid-configuration`),
};
const N = Number(process.env.BENCH_REQUESTS ?? 2000);
for (const [name, request] of Object.entries(scenarios)) {
  const rounds: number[] = [];
  for (let round = 0; round < 6; round++) {
    const requests = Array.from({ length: N }, request);
    const started = process.cpuUsage();
    for (let i = 0; i < N; i += 16) {
      const responses = await Promise.all(requests.slice(i, i + 16).map((r) => app.fetch(r)));
      for (const response of responses) {
        if (response.status !== 200) throw new Error(`${name}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    }
    const used = process.cpuUsage(started);
    if (round > 0) rounds.push((used.user + used.system) / N);
  }
  rounds.sort((a, b) => a - b);
  process.stderr.write(`${name.padEnd(20)} min ${rounds[0]!.toFixed(0).padStart(4)} µs/req, median ${rounds[2]!.toFixed(0).padStart(4)} µs/req\n`);
}
await runtime.close();
await database?.drop();
process.exit(0);
