/** The CLI prints links to the server that runs on its database, never to its own default address. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config.js';
import { generateMasterKeyBase64 } from '../../src/crypto/master-key.js';
import { recordIssuer } from '../../src/instance/issuer.js';
import { openRuntime } from '../../src/runtime.js';
import { cleanUpLater, createScratchDatabase, usingPostgres } from '../support/runtime.js';

const dir = mkdtempSync(path.join(tmpdir(), 'warta-cli-issuer-'));
const env: Record<string, string> = { NODE_ENV: 'test', WARTA_DATA_DIR: path.join(dir, 'data'), WARTA_MASTER_KEY: generateMasterKeyBase64(), WARTA_LOG_LEVEL: 'silent' };
if (usingPostgres) {
  const scratch = await createScratchDatabase();
  env.DATABASE_URL = scratch.url;
  cleanUpLater(scratch.drop);
}
const cli = async (extraEnv: Record<string, string>, ...argv: string[]) => {
  const result = await runCli([...argv, '--json'], { ...env, ...extraEnv }, () => undefined);
  return { ...result, json: () => JSON.parse(result.stdout) };
};

/** What `npm start` does at start-up: record the issuer it serves. */
async function serverStartsWith(issuer: string) {
  const runtime = await openRuntime(loadConfig({ ...env, WARTA_ISSUER: issuer }));
  try {
    await recordIssuer(runtime, issuer);
  } finally {
    await runtime.close();
  }
}

// Each CLI call opens the embedded database as the real command does, which is slow on a busy machine.
describe('the issuer in links the CLI prints', () => {
  it('uses the issuer the server recorded when WARTA_ISSUER is not set, and refuses a different one', async () => {
    await serverStartsWith('https://id.example.gov');
    const bootstrap = await cli({}, 'bootstrap', '--org', 'Ministry of Digital Affairs', '--admin', 'Ala Admin', '--email', 'ala@example.gov');
    expect(bootstrap.exitCode).toBe(0);
    expect(bootstrap.json().link).toMatch(/^https:\/\/id\.example\.gov\/enroll#invitation=/);

    const elsewhere = await cli({ WARTA_ISSUER: 'http://localhost:3000' }, 'invite', '--org', 'Ministry of Digital Affairs', '--display-name', 'Jan', '--email', 'jan@example.gov');
    expect(elsewhere.exitCode).toBe(78);
    expect(elsewhere.json().error_description).toContain('the server on this database serves https://id.example.gov');
    const same = await cli({ WARTA_ISSUER: 'https://id.example.gov' }, 'invite', '--org', 'Ministry of Digital Affairs', '--display-name', 'Jan', '--email', 'jan@example.gov');
    expect(same.exitCode).toBe(0);
    expect(same.json().link).toMatch(/^https:\/\/id\.example\.gov\/enroll#invitation=/);
  }, 120_000);

  it('refuses to print a link when someone rewrote the recorded issuer in the database', async () => {
    const runtime = await openRuntime(loadConfig({ ...env, WARTA_ISSUER: 'https://id.example.gov' }));
    try {
      await runtime.db.updateTable('instance_settings').set({ value: JSON.stringify({ issuer: 'https://phish.example', mac: 'forged' }) }).where('name', '=', 'issuer').execute();
    } finally {
      await runtime.close();
    }
    const invited = await cli({}, 'invite', '--org', 'Ministry of Digital Affairs', '--display-name', 'Ewa', '--email', 'ewa@example.gov');
    expect(invited.exitCode).toBe(78);
    expect(invited.json().error_description).toContain('not one the server wrote');
    expect(invited.stdout).not.toContain('phish.example/enroll');
  }, 120_000);

  it('follows the server when it moves to another address', async () => {
    await serverStartsWith('https://login.example.gov');
    const invited = await cli({}, 'invite', '--org', 'Ministry of Digital Affairs', '--display-name', 'Ola', '--email', 'ola@example.gov');
    expect(invited.json().link).toMatch(/^https:\/\/login\.example\.gov\/enroll#invitation=/);
  }, 120_000);
});
