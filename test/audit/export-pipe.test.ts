import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/audit.js';
import { loadConfig } from '../../src/config.js';
import { generateMasterKeyBase64 } from '../../src/crypto/master-key.js';
import { openRuntime } from '../../src/runtime.js';
import { cleanUpLater, createScratchDatabase, seedDataDirWithMigratedSnapshot, usingPostgres } from '../support/runtime.js';

/** A data folder (or scratch database) holding enough entries that the export outgrows a pipe's buffer. */
async function environmentWithEntries(count: number): Promise<Record<string, string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-export-pipe-'));
  const env: Record<string, string> = { NODE_ENV: 'test', WARTA_DATA_DIR: path.join(dir, 'data'), WARTA_MASTER_KEY: generateMasterKeyBase64(), WARTA_LOG_LEVEL: 'silent', PATH: process.env.PATH ?? '' };
  if (usingPostgres) {
    const scratch = await createScratchDatabase();
    env.DATABASE_URL = scratch.url;
    cleanUpLater(scratch.drop);
  } else {
    await seedDataDirWithMigratedSnapshot(env.WARTA_DATA_DIR!);
  }
  const runtime = await openRuntime(loadConfig(env));
  try {
    await runtime.db.transaction().execute(async (trx) => {
      for (let n = 0; n < count; n += 1) await appendAudit(trx, runtime, { actor: 'cli' }, { action: 'test.filler', details: { n, padding: 'x'.repeat(200) } });
    });
  } finally {
    await runtime.close();
  }
  return env;
}

/** `warta audit export | head -c <first chunk>`: the reader goes away after the first chunk. */
function exportIntoPipeClosedEarly(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; received: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'export'], { env, cwd: path.resolve(import.meta.dirname, '../..') });
    let stderr = '';
    let received = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', (chunk) => {
      received = String(chunk);
      child.stdout.destroy();
    });
    child.on('close', (code, signal) => resolve({ code, signal, stderr, received }));
  });
}

describe('warta audit export into a pipe that closes early', { timeout: 90_000 }, () => {
  it('stops quietly with exit 0 (no stack trace) once the reader has gone', async () => {
    const env = await environmentWithEntries(3000);
    const result = await exportIntoPipeClosedEarly(env);
    expect(result.received).toMatch(/^\{"id":\d+,/);
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
  });
});
