import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUpLater, createScratchDatabase, usingPostgres } from '../support/runtime.js';

const root = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

async function environment(): Promise<Record<string, string>> {
  const env: Record<string, string> = { WARTA_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'warta-sink-server-')) };
  if (usingPostgres) {
    const scratch = await createScratchDatabase();
    cleanUpLater(scratch.drop);
    env.DATABASE_URL = scratch.url;
  }
  return env;
}

/** `npm start` with the audit log shipped on stdout: resolves with the first audit line once the server also logged (on stderr) that it listens. */
function startShippingOnStdout(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'development', PORT: '0', WARTA_LOG_LEVEL: 'info', WARTA_AUDIT_SINK: 'stdout', WARTA_AUDIT_SINK_INTERVAL_MS: '100', ...env },
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stdoutLines: Record<string, unknown>[] = [];
  const stderrLines: string[] = [];
  const listening = new Promise<void>((resolve) =>
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderrLines.push(line);
      if (line.includes('"warta listening"')) resolve();
    }),
  );
  const firstAuditLine = new Promise<Record<string, unknown>>((resolve) =>
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      stdoutLines.push(parsed);
      resolve(parsed);
    }),
  );
  const failed = exited.then((code) => {
    throw new Error(`warta exited with ${code}: ${stderrLines.join('\n')}`);
  });
  const ready = Promise.race([Promise.all([listening, firstAuditLine]), failed]);
  // A test that expects the exit awaits `exited` instead.
  ready.catch(() => undefined);
  return { child, exited, stdoutLines, stderrLines, ready };
}

describe('npm start with WARTA_AUDIT_SINK', { timeout: 90_000 }, () => {
  it('ships sealed entries on stdout while its own logs go to stderr, and stops cleanly', async () => {
    const server = startShippingOnStdout(await environment());
    const [, first] = await server.ready;
    expect(first).toMatchObject({ seq: 1, action: 'signing_key.created', actor: 'system', entry_id: expect.any(String), hash: expect.any(String) });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stdoutLines.every((line) => typeof line.seq === 'number' && !('level' in line))).toBe(true);
  });

  it('does not start when the collector is not on the outbound allow-list (exit 78, one line)', async () => {
    const server = startShippingOnStdout({ ...(await environment()), WARTA_AUDIT_SINK: 'syslog+tls://siem.example.gov:6514', WARTA_OUTBOUND_ALLOW: 'localhost' });
    expect(await server.exited).toBe(78);
    expect(server.stderrLines.join('\n')).toMatch(/^warta: configuration error: WARTA_AUDIT_SINK: the collector siem\.example\.gov is refused: its host is not on the outbound allow-list/);
  });
});
