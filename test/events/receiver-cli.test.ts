import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { createTestRuntime, TEST_MASTER_KEY, usingPostgres } from '../support/runtime.js';

// The CLI opens its own runtime per command, as `warta` does: on the test's PostgreSQL database, or a PGlite folder.
const shared = usingPostgres ? await createTestRuntime() : undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'warta-receiver-cli-'));
const env: Record<string, string> = {
  NODE_ENV: 'test',
  WARTA_MASTER_KEY: TEST_MASTER_KEY,
  WARTA_LOG_LEVEL: 'silent',
  // The receivers registered here are never delivered to: the list only has to admit their names.
  WARTA_OUTBOUND_ALLOW: '*.example.gov',
  WARTA_DATA_DIR: path.join(dir, 'data'),
  ...(shared ? { DATABASE_URL: shared.databaseUrl! } : {}),
};
const cli = async (...argv: string[]) => {
  const result = await runCli(argv, env, () => {});
  return { ...result, json: () => JSON.parse(result.stdout) };
};

const ORG = 'Ministry of Receivers';
await cli('bootstrap', '--org', ORG, '--admin', 'Ada Admin', '--email', 'ada@example.gov');

describe('warta receiver', () => {
  it('adds, lists and removes a receiver; the bearer token comes from a file and is never printed', async () => {
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'file-token-xyz\n', { mode: 0o600 });
    const added = await cli('receiver', 'add', '--org', ORG, '--url', 'https://messenger.example.gov/events', '--audience', 'messenger', '--events', 'session_revoked, credential_change', '--bearer-token-file', tokenFile, '--json');
    expect(added.exitCode).toBe(0);
    expect(added.stdout).not.toContain('file-token-xyz');
    const { receiver } = added.json();
    expect(receiver).toMatchObject({ url: 'https://messenger.example.gov/events', audience: 'messenger', events: ['session_revoked', 'credential_change'], has_bearer_token: true, created_by: 'cli' });

    const listed = await cli('receiver', 'list', '--org', ORG);
    expect(listed.stdout).toBe(`${receiver.id}  https://messenger.example.gov/events  aud=messenger  events=session_revoked,credential_change  (bearer token)\n`);
    expect((await cli('receiver', 'list', '--org', ORG, '--json')).json().receivers).toHaveLength(1);

    const removed = await cli('receiver', 'remove', '--org', ORG, '--id', receiver.id);
    expect(removed).toMatchObject({ exitCode: 0, stdout: `Removed event receiver ${receiver.id} (https://messenger.example.gov/events).\n` });
    expect((await cli('receiver', 'list', '--org', ORG)).stdout).toBe('No event receivers.\n');
  });

  it('refuses bad receivers with exit 1 and a stable code, and bad usage with exit 2', async () => {
    expect((await cli('receiver', 'add', '--org', ORG, '--url', 'http://messenger.example.gov/events', '--audience', 'm', '--json')).json()).toEqual({ error: 'invalid_receiver_url', error_description: expect.stringContaining('https') });
    expect((await cli('receiver', 'add', '--org', ORG, '--url', 'https://m.example.gov/', '--audience', 'm', '--events', 'bogus', '--json')).json()).toMatchObject({ error: 'invalid_receiver' });
    expect(await cli('receiver', 'add', '--org', 'No Such Ministry', '--url', 'https://m.example.gov/', '--audience', 'm')).toMatchObject({ exitCode: 1, stderr: 'warta: no organisation named "No Such Ministry"\n' });
    expect(await cli('receiver', 'add', '--org', ORG, '--url', 'https://m.example.gov/')).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('--audience is required') });
    expect(await cli('receiver', 'add', '--org', ORG, '--url', 'https://m.example.gov/', '--audience', 'm', '--bearer-token-file', path.join(dir, 'missing'))).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('ENOENT') });
    expect((await cli('receiver', 'remove', '--org', ORG, '--id', '00000000-0000-4000-8000-000000000000', '--json')).json()).toMatchObject({ error: 'receiver_not_found' });
    expect((await cli('receiver', 'list', '--org', ORG, '--json')).json().receivers).toEqual([]);
  });
});
