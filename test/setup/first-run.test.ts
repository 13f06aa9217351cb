/**
 * `npm start` on a fresh data folder: the real server prints the setup link as
 * one plain line on stdout, keeps it out of its structured log, and the link
 * sets Warta up over HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUpLater, createScratchDatabase, seedDataDirWithMigratedSnapshot, usingPostgres } from '../support/runtime.js';

const root = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

interface Started {
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Every stdout line that is not a JSON log entry. */
  plain: string[];
  /** Every JSON log entry, as written. */
  logged: string[];
}

/** Starts `src/main.ts` as `npm start` does; resolves once it listens and has printed its setup link (when it prints one). */
function startWarta(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, NODE_ENV: 'development', PORT: '0', WARTA_LOG_LEVEL: 'info', ...env } });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const plain: string[] = [];
  const logged: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; port?: number } | undefined;
      try {
        entry = JSON.parse(line) as { msg: string; port?: number };
      } catch {
        plain.push(line);
        return;
      }
      logged.push(line);
      if (entry.msg === 'warta listening') resolve({ port: entry.port!, child, exited, plain, logged });
    });
    void exited.then((code) => reject(new Error(`warta exited with ${code}: ${stderr}`)));
  });
}

async function freshDataFolder(): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warta-first-run-'));
  const env: Record<string, string> = { WARTA_DATA_DIR: dataDir };
  if (usingPostgres) {
    const scratch = await createScratchDatabase();
    cleanUpLater(scratch.drop);
    env.DATABASE_URL = scratch.url;
  } else {
    // The run's migrated empty database, so the start does not spend its time on initdb.
    await seedDataDirWithMigratedSnapshot(dataDir);
  }
  return env;
}

describe('npm start on a fresh data folder', { timeout: 90_000 }, () => {
  it('prints the setup link as one plain line, never in the structured log, and the link sets Warta up', async () => {
    const started = await startWarta({ ...(await freshDataFolder()), WARTA_PRINT_SETUP_LINK: '1' });
    const links = started.plain.filter((line) => line.includes('/setup#token='));
    expect(links).toHaveLength(1);
    const token = /\/setup#token=([A-Za-z0-9_-]{43})\b/.exec(links[0]!)![1]!;
    expect(started.logged.length).toBeGreaterThan(0);
    for (const line of started.logged) expect(line).not.toContain(token);

    const setUp = await fetch(`http://127.0.0.1:${started.port}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, organisation_name: 'Ministry of Digital Affairs', display_name: 'Ala Admin', email: 'ala@digital.example.gov' }),
    });
    const body = (await setUp.json()) as { enrollment_url: string };
    expect(setUp.status, JSON.stringify(body)).toBe(201);
    expect(body.enrollment_url).toMatch(/\/enroll#invitation=/);
    const reused = await fetch(`http://127.0.0.1:${started.port}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, organisation_name: 'Second Ministry', display_name: 'Eve', email: 'eve@evil.example' }),
    });
    expect(reused.status).toBe(410);
    for (const line of started.logged) expect(line).not.toContain(token);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('off a terminal and without WARTA_PRINT_SETUP_LINK logs only the hint', async () => {
    const started = await startWarta({ ...(await freshDataFolder()), WARTA_PRINT_SETUP_LINK: '0' });
    expect(started.plain).toEqual([]);
    expect(started.logged.some((line) => line.includes('run `warta setup-link` for the setup link'))).toBe(true);
    expect(started.logged.join('\n')).not.toContain('#token=');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });
});
