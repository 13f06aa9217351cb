/**
 * `tsx bench/profile.ts <scenario> [seconds]`: one Warta server (bench/warta-server.ts,
 * default request log to a file) loaded with one scenario of bench/run.ts, profiled
 * (the V8 CPU profiler, as `node --cpu-prof`) during the load alone, then the
 * functions and packages with the most self time. The profile is left in
 * bench/profiles/ for Chrome DevTools. Settings as bench/run.ts (BENCH_DATABASE_URL,
 * BENCH_CONNECTIONS, BENCH_DB_POOL).
 */
import { fork } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { processCpuMs } from './cpu.js';
import { benchPoolSize } from './pool-size.js';
import { analyzeDatabase } from './statistics.js';
import type { ServerOptions, ServerReady } from './protocol.js';

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const [scenario = 'client_credentials', secondsArg = '5'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const profiles = fileURLToPath(new URL('./profiles/', import.meta.url));
mkdirSync(profiles, { recursive: true });
const database = process.env.BENCH_DATABASE_URL ? await createScratchDatabase(process.env.BENCH_DATABASE_URL, 'warta_bench') : undefined;
const options: ServerOptions = { databaseUrl: database?.url, refreshChains: connections * 4 + 16, peerAdapter: 'memory', dbPoolSize: benchPoolSize(), ...(process.env.BENCH_LOG_LEVEL ? { logLevel: process.env.BENCH_LOG_LEVEL } : {}) };
const logFile = path.join(os.tmpdir(), `warta-profile-${process.pid}.log`);
const fd = openSync(logFile, 'w');
const child = fork(fileURLToPath(new URL('./warta-server.ts', import.meta.url)), [JSON.stringify(options)], {
  execArgv: ['--import', 'tsx'],
  env: { ...process.env, NODE_ENV: 'production' },
  stdio: ['ignore', fd, 'inherit', 'ipc'],
});
closeSync(fd);
const ready = await new Promise<ServerReady>((resolve) => child.once('message', (m) => resolve(m as ServerReady)));
// As bench/run.ts does: without statistics gathered before the load, a refresh profile can show the plan mid-run statistics give.
if (database) await analyzeDatabase(database.url);
const metadata = (await (await fetch(`${ready.url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
const basic = `Basic ${Buffer.from(`${encodeURIComponent(ready.clientId)}:${encodeURIComponent(ready.clientSecret)}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';
const current = [...ready.refreshTokens];
const scenarios: Record<string, Partial<autocannon.Options>> = {
  client_credentials: { url: metadata.token_endpoint, method: 'POST', headers: { authorization: basic, 'content-type': FORM }, body: `grant_type=client_credentials&scope=${encodeURIComponent(ready.scope)}` },
  refresh_token: {
    url: metadata.token_endpoint,
    requests: [
      {
        method: 'POST',
        headers: { authorization: basic, 'content-type': FORM },
        setupRequest: (request) => ({ ...request, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(current.shift() ?? 'none')}` }),
        onResponse: (status, body) => void (status === 200 && current.push((JSON.parse(body) as { refresh_token: string }).refresh_token)),
      },
    ],
  },
  introspection: { url: metadata.introspection_endpoint, method: 'POST', headers: { authorization: basic, 'content-type': FORM }, body: `token=${encodeURIComponent(ready.introspectionToken)}` },
  jwks: { url: metadata.jwks_uri },
  discovery: { url: `${ready.url}/.well-known/openid-configuration` },
};
await autocannon({ connections, duration: 1, ...scenarios[scenario] } as autocannon.Options);
const ask = <T>(message: string, answer: (m: unknown) => boolean) =>
  new Promise<T>((resolve) => {
    const listen = (m: unknown) => answer(m) && (child.off('message', listen), resolve(m as T));
    child.on('message', listen);
    child.send(message);
  });
await ask('profile-start', (m) => m === 'profile-started');
const before = processCpuMs(child.pid!)!;
const result = await autocannon({ connections, duration: seconds, ...scenarios[scenario] } as autocannon.Options);
const cpuMs = processCpuMs(child.pid!)! - before;
const { profile } = await ask<{ profile: Profile }>('profile-stop', (m) => (m as { type?: string }).type === 'profile');
process.stdout.write(`${scenario}: ${result.requests.average.toFixed(0)} req/s, ${result.non2xx} non-2xx, CPU ${((cpuMs * 1000) / result.requests.total).toFixed(0)} µs/req, load ${os.loadavg()[0]!.toFixed(1)}\n`);
await new Promise<void>((resolve) => {
  child.once('exit', () => resolve());
  child.send('stop');
});
await database?.drop();
const file = path.join(profiles, `${scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
writeFileSync(file, JSON.stringify(profile));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const byFunction = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const us = self.get(node.id) ?? 0;
  total += us;
  const where = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
  const key = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
process.stdout.write(`${file}\nself time, top 40 (of ${(total / 1000).toFixed(0)} ms):\n`);
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40)) process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}\n`);
const byFile = new Map<string, number>();
for (const node of profile.nodes) {
  const file = node.callFrame.url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/') || node.callFrame.functionName;
  byFile.set(file, (byFile.get(file) ?? 0) + (self.get(node.id) ?? 0));
}
process.stdout.write('self time by package or file, top 25:\n');
for (const [name, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}\n`);
