import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMasterKeyBase64 } from '../src/crypto/master-key.js';
import { createScratchDatabase, usingPostgres, cleanUpLater } from './support/runtime.js';
import { startWartaProcess as startWarta } from './support/warta-process.js';

const root = path.resolve(import.meta.dirname, '..');
const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));


async function environment() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warta-main-'));
  const env: Record<string, string> = { WARTA_DATA_DIR: dataDir };
  if (usingPostgres) {
    const scratch = await createScratchDatabase();
    cleanUpLater(scratch.drop);
    env.DATABASE_URL = scratch.url;
  }
  return env;
}

// Each start is a real process opening and migrating a fresh embedded database: tens of seconds on a busy 2-core machine.
describe('npm start', { timeout: 90_000 }, () => {
  it('serves /readyz and a JWKS on a fresh data folder, stops on SIGTERM, and keeps keys and data across a restart', async () => {
    const env = await environment();
    const first = await startWarta(env);
    const ready = await fetch(`http://127.0.0.1:${first.port}/readyz`);
    expect(ready.status).toBe(200);
    const jwks = (await (await fetch(`http://127.0.0.1:${first.port}/.well-known/jwks.json`)).json()) as { keys: { kid: string; kty: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]!.kty).toBe('EC');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // No master key configured: the generated one is announced loudly, not only in the log.
    expect(first.stderr()).toMatch(/WARNING: Warta is using a development master key[\s\S]*master\.key[\s\S]*TOTP secret, signing key and instance secret[\s\S]*WARTA_MASTER_KEY_FILE/);

    const second = await startWarta(env);
    const again = (await (await fetch(`http://127.0.0.1:${second.port}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(again.keys.map((k) => k.kid)).toEqual(jwks.keys.map((k) => k.kid));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('stops with a clear message when the master key does not fit the data', async () => {
    const env = await environment();
    const first = await startWarta(env);
    first.child.kill('SIGTERM');
    await first.exited;
    const error = await startWarta({ ...env, WARTA_MASTER_KEY: generateMasterKeyBase64() }).catch((e: Error) => e);
    expect(String(error)).toMatch(/exited with 1: warta: cannot start: data key .* is wrapped with master key \w+, but the configured master key is \w+: wrong WARTA_MASTER_KEY\?/);
  });

  it('stops with one line naming a bad setting', async () => {
    const error = await startWarta({ ...(await environment()), WARTA_SESSION_IDLE_MINUTES: 'forever' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/exited with 78: warta: configuration error: WARTA_SESSION_IDLE_MINUTES: expected a whole number/);
  });

  it('stops with exit 78 on a malformed app signing-certificate fingerprint', async () => {
    const error = await startWarta({ ...(await environment()), WARTA_ANDROID_APPS: 'gov.example.messenger=AB:CD' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/exited with 78: warta: configuration error: WARTA_ANDROID_APPS: gov\.example\.messenger: "AB:CD" is not a SHA-256 certificate fingerprint/);
  });
});

describe('the management port', { timeout: 90_000 }, () => {
  it('serves /metrics and the detailed /readyz on loopback, apart from the public port', async () => {
    const env = await environment();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, ...env, NODE_ENV: 'development', PORT: '0', WARTA_METRICS_PORT: '0', WARTA_LOG_LEVEL: 'info' } });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ports = await new Promise<{ public: number; management: number }>((resolve, reject) => {
      const found: { public?: number; management?: number } = {};
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg: string; port?: number; host?: string };
        if (entry.msg === 'warta listening') found.public = entry.port;
        if (entry.msg.startsWith('management port listening')) {
          expect(entry.host).toBe('127.0.0.1');
          found.management = entry.port;
        }
        if (found.public !== undefined && found.management !== undefined) resolve(found as { public: number; management: number });
      });
      void exited.then((code) => reject(new Error(`warta exited with ${code}`)));
    });
    const metrics = await fetch(`http://127.0.0.1:${ports.management}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^warta_database_up 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(await (await fetch(`http://127.0.0.1:${ports.management}/readyz`)).json()).toEqual({ status: 'ok', checks: { database: 'ok', migrations: 'ok' } });
    expect((await fetch(`http://127.0.0.1:${ports.public}/metrics`)).status).toBe(404);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses to start with the metrics port on a public address unless told to', async () => {
    const error = await startWarta({ ...(await environment()), WARTA_METRICS_PORT: '9464', WARTA_METRICS_HOST: '0.0.0.0' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/exited with 78: warta: configuration error: WARTA_METRICS_HOST: "0\.0\.0\.0" is not a loopback address/);
  });
});

describe('the bundled build `npm start` runs', { timeout: 120_000 }, () => {
  it('starts, finds every file its modules read beside themselves, and stops cleanly', async () => {
    // Inside the checkout: the packages left outside the bundle (argon2, PGlite) resolve from its node_modules.
    mkdirSync(path.join(root, 'node_modules', '.cache'), { recursive: true });
    const outdir = mkdtempSync(path.join(root, 'node_modules', '.cache', 'warta-bundle-'));
    cleanUpLater(() => rmSync(outdir, { recursive: true, force: true }));
    execFileSync(process.execPath, ['scripts/bundle.mjs', outdir, root], { cwd: root, stdio: 'pipe' });

    // The blocklist, page assets and the snapshot are looked up at start: a lost path stops it here.
    const server = await startWarta(await environment(), { command: [process.execPath, path.join(outdir, 'main.js')] });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    for (const asset of ['warta.css', 'vendor/simplewebauthn-browser.js']) expect((await fetch(`${server.url}/static/${asset}`)).status).toBe(200);
    expect((await fetch(`${server.url}/.well-known/openid-configuration`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
