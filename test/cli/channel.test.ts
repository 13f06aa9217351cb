import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { commandSocketPath } from '../../src/cli/channel.js';
import { generateMasterKeyBase64 } from '../../src/crypto/master-key.js';
import { cleanUpLater, createScratchDatabase, usingPostgres } from '../support/runtime.js';
import { startWartaProcess } from '../support/warta-process.js';

const root = path.resolve(import.meta.dirname, '../..');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));


/** `warta …` as a separate process, from `cwd` (relative file flags are relative to it), optionally as another OS user. */
function warta(args: string[], env: Record<string, string>, options: { cwd?: string; uid?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'src/cli/main.ts'), ...args], {
      cwd: options.cwd ?? root,
      env: { ...process.env, NODE_ENV: 'development', WARTA_LOG_LEVEL: 'warn', ...env },
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function environment() {
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-channel-'));
  // Open to others, so only the socket's own mode stands between another user and the server.
  chmodSync(dir, 0o755);
  const env: Record<string, string> = { WARTA_DATA_DIR: path.join(dir, 'data'), WARTA_MASTER_KEY: generateMasterKeyBase64() };
  if (usingPostgres) {
    const scratch = await createScratchDatabase();
    cleanUpLater(scratch.drop);
    env.DATABASE_URL = scratch.url;
  }
  return { dir, env };
}

const runningAsRoot = process.getuid?.() === 0;
const NOBODY = 65534;

// Real server processes on a fresh database: tens of seconds each on a busy 2-core machine.
/** The server as `npm start` runs it, under `umask 000`: the socket must be 0600 whatever the umask. */
const startWarta = (env: Record<string, string>) => startWartaProcess(env, { umask: '000' });

describe('warta commands beside a running server', { timeout: 120_000 }, () => {
  it(usingPostgres ? 'open their own connection on PostgreSQL (no command channel)' : 'are carried out by the embedded server that holds the database, with file flags read from where the command was typed', async () => {
    const { dir, env } = await environment();
    const server = await startWarta(env);

    const setUp = await warta(['bootstrap', '--org', 'Ministry', '--admin', 'Ala Admin', '--email', 'ala@example.gov', '--json'], env);
    expect(setUp.stderr).toBe('');
    expect(setUp.code).toBe(0);
    expect(JSON.parse(setUp.stdout).link).toMatch(/\/enroll#invitation=/);

    // A relative --csv path names a file in the command's folder, not in the server's.
    // Three hundred people: their audit entries are more than a pipe holds, so `| head` below really closes it early.
    const rows = Array.from({ length: 300 }, (_, n) => `Member ${n},member${n}@example.gov,member`);
    writeFileSync(path.join(dir, 'people.csv'), `display_name,email,role\n${rows.join('\n')}\n`);
    const invited = await warta(['invite', '--org', 'Ministry', '--csv', 'people.csv', '--json'], env, { cwd: dir });
    expect(invited.stderr).toBe('');
    expect(invited.code).toBe(0);
    expect(JSON.parse(invited.stdout)).toMatchObject({ applied: true, counts: expect.anything() });
    expect(JSON.parse(invited.stdout).rows).toHaveLength(300);

    // A reader that stops early ends the command quietly, in the server too.
    const firstLine = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('/bin/bash', ['-c', `set -o pipefail; "${process.execPath}" --import ${tsx} "${path.join(root, 'src/cli/main.ts')}" audit export | head -1`], { cwd: root, env: { ...process.env, NODE_ENV: 'development', WARTA_LOG_LEVEL: 'warn', ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(firstLine.stderr).toBe('');
    expect(firstLine.code).toBe(0);
    expect(JSON.parse(firstLine.stdout)).toMatchObject({ seq: 1 });
    const stillServing = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    expect(stillServing.status).toBe(200);

    if (usingPostgres) expect(existsSync(commandSocketPath(env.WARTA_DATA_DIR!))).toBe(false);
    else expect(statSync(commandSocketPath(env.WARTA_DATA_DIR!)).mode & 0o777).toBe(0o600);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(existsSync(commandSocketPath(env.WARTA_DATA_DIR!))).toBe(false);
  });

  it.runIf(!usingPostgres)('refuse another OS user, who changes nothing', async () => {
    const { env } = await environment();
    const server = await startWarta(env);
    const socket = commandSocketPath(env.WARTA_DATA_DIR!);
    // Under umask 000 a socket made without care would be 0777: anyone could send commands.
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    if (runningAsRoot) {
      // The data folder must be walkable for the refusal to come from the socket itself.
      chmodSync(env.WARTA_DATA_DIR!, 0o755);
      const stranger = await warta(['bootstrap', '--org', 'Rogue', '--admin', 'Mallory', '--email', 'm@example.gov', '--json'], env, { uid: NOBODY });
      expect(stranger.code).toBe(1);
      expect(JSON.parse(stranger.stdout)).toMatchObject({ error: 'server_unreachable', error_description: expect.stringMatching(/belongs to another OS user/) });
      const owner = await warta(['bootstrap', '--org', 'Ministry', '--admin', 'Ala Admin', '--email', 'ala@example.gov', '--json'], env);
      expect(owner.code).toBe(0);
      expect(JSON.parse(owner.stdout).organisation.name).toBe('Ministry');
    }
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it.runIf(!usingPostgres)('run on their own after the server was killed, and reach the next server through a fresh socket', async () => {
    const { env } = await environment();
    const first = await startWarta(env);
    first.child.kill('SIGKILL');
    await first.exited;
    // The killed server left its socket and lock behind: the command runs on the database itself.
    expect(existsSync(commandSocketPath(env.WARTA_DATA_DIR!))).toBe(true);
    const alone = await warta(['bootstrap', '--org', 'Ministry', '--admin', 'Ala Admin', '--email', 'ala@example.gov', '--json'], env);
    expect(alone.stderr).toBe('');
    expect(alone.code).toBe(0);

    const second = await startWarta(env);
    const ready = await fetch(`http://127.0.0.1:${second.port}/readyz`);
    expect(ready.status).toBe(200);
    const shown = await warta(['org', 'show', '--org', 'Ministry', '--json'], env);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).name).toBe('Ministry');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
