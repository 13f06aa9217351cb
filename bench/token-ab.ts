/**
 * `tsx bench/token-ab.ts main=/path/to/checkout branch=.`: Warta's CPU per request at
 * the token endpoint and the JWKS, two or more checkouts in one process, their turns
 * interleaved, for a before/after on a machine shared with other work. Each checkout's
 * src/ serves its own scratch database through @hono/node-server on loopback (real
 * HTTP: the parser, the adapter, the sockets); a small raw-socket client sends bursts of
 * requests, one in flight per connection, and the process CPU of each burst is read
 * (process.cpuUsage, the client's share included: the same for every checkout, so
 * differences are the servers'). Rounds alternate the order; the last lines give each
 * checkout's median ratio to the first, burst by burst within a round, which the load of
 * the machine moves far less than the absolute figures. The request log goes to stdout.
 *
 * Settings (environment): BENCH_DATABASE_URL (required: a PostgreSQL server where the
 * role may create databases), BENCH_AB_ROUNDS (default 8), BENCH_AB_REQUESTS (requests
 * per client_credentials and JWKS burst, default 1500; refresh bursts a quarter of that),
 * BENCH_CONNECTIONS (default 16), BENCH_AB_SCENARIOS (default
 * client_credentials,refresh_token,jwks).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { benchPoolSize } from './pool-size.js';

const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 8);
const perBurst = Number(process.env.BENCH_AB_REQUESTS ?? 1500);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const scenarios = (process.env.BENCH_AB_SCENARIOS ?? 'client_credentials,refresh_token,jwks').split(',');
const dbUrl = process.env.BENCH_DATABASE_URL;
if (!dbUrl || process.argv.length < 3) {
  process.stderr.write('usage: BENCH_DATABASE_URL=postgres://… tsx bench/token-ab.ts label=checkout [label=checkout …]\n');
  process.exit(2);
}

interface Target { label: string; port: number; basic: string; chains: string[]; close: () => Promise<void> }
const targets: Target[] = [];
for (const arg of process.argv.slice(2)) {
  const [label, tree] = arg.split('=') as [string, string];
  const load = async <T>(m: string) => (await import(pathToFileURL(path.join(path.resolve(tree), 'src', m)).href)) as T;
  const { createApp } = await load<typeof import('../src/app.js')>('app.ts');
  const { OPERATOR, registerClient } = await load<typeof import('../src/clients/service.js')>('clients/service.ts');
  const { loadConfig } = await load<typeof import('../src/config.js')>('config.ts');
  const { openRuntime } = await load<typeof import('../src/runtime.js')>('runtime.ts');
  const { hashToken, newToken } = await load<typeof import('../src/crypto/random.js')>('crypto/random.ts');
  const { createInvitation, redeemInvitation } = await load<typeof import('../src/invitations/service.js')>('invitations/service.ts');
  const { createGrant } = await load<typeof import('../src/grants/service.js')>('grants/service.ts');
  const { createOrganisation } = await load<typeof import('../src/orgs/service.js')>('orgs/service.ts');
  const { startSession } = await load<typeof import('../src/sessions/service.js')>('sessions/service.ts');
  const db = await createScratchDatabase(dbUrl, 'warta_bench');
  let handler: ((r: Request, env: unknown) => Response | Promise<Response>) | undefined;
  const server = serve({ fetch: (r, env) => handler!(r, env), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const config = loadConfig({ NODE_ENV: 'production', WARTA_ISSUER: issuer, WARTA_MASTER_KEY: randomBytes(32).toString('base64'), WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000', WARTA_DB_POOL_SIZE: String(benchPoolSize()), DATABASE_URL: db.url });
  const runtime = await openRuntime(config, {});
  handler = createApp(runtime).fetch;
  const organisation = await createOrganisation(runtime, { actor: 'bench' }, { name: `Bench ${randomBytes(3).toString('hex')}` });
  const invitation = await createInvitation(runtime, { actor: 'bench' }, { organisationId: organisation.id, displayName: 'Bench User', email: `bench-${randomBytes(3).toString('hex')}@example.gov`, role: 'member' });
  const { user } = await runtime.db.transaction().execute((trx) => redeemInvitation(trx, runtime, { actor: 'bench' }, invitation.token));
  const client = await registerClient(runtime, { actor: 'bench' }, { client_name: 'Bench client', grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], redirect_uris: ['https://rp.example/cb'], scope: 'openid offline_access api:read', first_party: true }, { authority: OPERATOR });
  const { session } = await startSession(runtime.db, runtime, { userId: user.id, amr: ['hwk', 'user'], ip: null, userAgent: 'bench' });
  const chains: string[] = [];
  for (let i = 0; i < connections; i++) {
    const grant = await createGrant(runtime.db, runtime.clock, { clientId: client.client_id, session, scope: 'openid offline_access api:read', dpopJkt: null, lifetimeSeconds: config.oidc.refreshTokenTtlSeconds });
    const token = newToken();
    await runtime.db.insertInto('oauth_refresh_tokens').values({ token_hash: hashToken(token), grant_id: grant.id, created_at: runtime.clock.now(), expires_at: grant.expires_at, used_at: null }).execute();
    chains.push(token);
  }
  targets.push({ label, port, basic: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, chains, close: async () => { (server as unknown as { closeAllConnections(): void }).closeAllConnections(); server.close(); await runtime.close(); await db.drop(); } });
}

function requestBytes(t: Target, body: string): Buffer {
  return Buffer.from(`POST /token HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nAuthorization: ${t.basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** `count` requests over `connections` keep-alive sockets, one in flight each; resolves with the number of non-200s. */
async function burst(t: Target, scenario: string, count: number): Promise<number> {
  let started = 0;
  let bad = 0;
  const one = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect(t.port, '127.0.0.1');
      socket.setNoDelay(true);
      let buffer = Buffer.alloc(0);
      const next = () => {
        if (started >= count) return socket.end(), resolve();
        started++;
        socket.write(scenario === 'jwks' ? Buffer.from(`GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\n\r\n`) : scenario === 'client_credentials' ? requestBytes(t, 'grant_type=client_credentials&scope=api%3Aread') : requestBytes(t, `grant_type=refresh_token&refresh_token=${encodeURIComponent(t.chains[index]!)}`));
      };
      socket.on('data', (chunk) => {
        buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const length = Number(/content-length: *(\d+)/i.exec(head)![1]);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
        buffer = buffer.subarray(end + 4 + length);
        if (!head.startsWith('HTTP/1.1 200')) bad++;
        else if (scenario === 'refresh_token') t.chains[index] = (JSON.parse(body) as { refresh_token: string }).refresh_token;
        next();
      });
      socket.on('error', reject);
      socket.on('connect', next);
    });
  await Promise.all(Array.from({ length: connections }, (_, i) => one(i)));
  return bad;
}

const results = new Map<string, number[]>();
for (const scenario of scenarios) for (const t of targets) await burst(t, scenario, 2000);
for (let round = 0; round < rounds; round++) {
  for (const scenario of scenarios) {
    const order = round % 2 ? [...targets].reverse() : targets;
    for (const t of order) {
      const n = scenario === 'refresh_token' ? Math.ceil(perBurst / 4) : perBurst;
      const before = process.cpuUsage();
      const bad = await burst(t, scenario, n);
      const used = process.cpuUsage(before);
      const us = (used.user + used.system) / n;
      const key = `${scenario} ${t.label}`;
      (results.get(key) ?? results.set(key, []).get(key)!).push(us);
      process.stderr.write(`${key.padEnd(32)} ${us.toFixed(0).padStart(5)} us/req${bad ? `  ${bad} non-200` : ''}  load ${os.loadavg()[0]!.toFixed(2)}\n`);
    }
  }
}
const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
for (const [key, v] of results) { const s = sorted(v); process.stderr.write(`${key.padEnd(32)} min ${s[0]!.toFixed(0)}  median ${s[s.length >> 1]!.toFixed(0)}  (${v.map((x) => x.toFixed(0)).join(' ')})\n`); }
// Paired: each target's burst against the first target's in the same round (the load moves less within a round than across rounds).
for (const scenario of scenarios) for (const t of targets.slice(1)) {
  const base = results.get(`${scenario} ${targets[0]!.label}`)!;
  const mine = results.get(`${scenario} ${t.label}`)!;
  const ratios = sorted(mine.map((v, i) => v / base[i]!));
  process.stderr.write(`${scenario} ${t.label}/${targets[0]!.label}: median paired ratio ${ratios[ratios.length >> 1]!.toFixed(3)}  (${ratios.map((r) => r.toFixed(2)).join(' ')})\n`);
}
for (const t of targets) await t.close();
process.exit(0);
