import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { generateMasterKeyBase64 } from '../../src/crypto/master-key.js';
import { createScratchDatabase, usingPostgres, cleanUpLater } from '../support/runtime.js';

/** Each CLI call opens its own runtime, as the real command does: on a scratch PostgreSQL database, or a PGlite folder. */
async function cliEnvironment() {
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-cli-'));
  const env: Record<string, string> = { NODE_ENV: 'test', WARTA_DATA_DIR: path.join(dir, 'data'), WARTA_MASTER_KEY: generateMasterKeyBase64(), WARTA_LOG_LEVEL: 'silent', PATH: process.env.PATH ?? '' };
  if (usingPostgres) {
    const scratch = await createScratchDatabase();
    env.DATABASE_URL = scratch.url;
    cleanUpLater(scratch.drop);
  }
  return { dir, env };
}

const { dir, env } = await cliEnvironment();
const cli = async (...argv: string[]) => {
  const lines: string[] = [];
  const result = await runCli(argv, env, (text) => lines.push(text));
  return { ...result, streamed: lines.join(''), json: () => JSON.parse(result.stdout) };
};

describe('warta CLI', () => {
  it('bootstraps the first organisation and prints the admin invitation as JSON', async () => {
    const result = await cli('bootstrap', '--org', 'Ministry of Digital Affairs', '--admin', 'Ala Admin', '--email', 'ala@example.gov', '--json');
    expect(result.exitCode).toBe(0);
    expect(result.json()).toEqual({
      organisation: { id: expect.any(String), name: 'Ministry of Digital Affairs', email_domains: ['example.gov'] },
      invitation: { id: expect.any(String), role: 'admin', expires_at: expect.any(String) },
      link: expect.stringMatching(/^http:\/\/localhost:3000\/enroll#invitation=[\w-]{43}$/),
    });
  });

  it('refuses to bootstrap twice, changing nothing, and points to the command that creates another organisation', async () => {
    const result = await cli('bootstrap', '--org', 'Ministry of Finance', '--admin', 'Bob', '--email', 'bob@example.gov', '--json');
    expect(result.exitCode).toBe(1);
    expect(result.json()).toEqual({ error: 'already_bootstrapped', error_description: expect.stringContaining('warta org create --name NAME') });
    expect((await cli('org', 'show', '--org', 'Ministry of Finance')).exitCode).toBe(1);
  });

  it('creates another organisation on purpose, and refuses one with a name already taken', async () => {
    const created = await cli('org', 'create', '--name', 'Ministry of Finance', '--domains', 'mf.example.gov', '--json');
    expect(created.exitCode).toBe(0);
    expect(created.json()).toEqual({ organisation: { id: expect.any(String), name: 'Ministry of Finance', email_domains: ['mf.example.gov'] } });
    const again = await cli('org', 'create', '--name', 'Ministry of Finance', '--json');
    expect(again.exitCode).toBe(1);
    expect(again.json()).toEqual({ error: 'organisation_exists', error_description: expect.any(String) });
  });

  it('invites into an organisation by name', async () => {
    const result = await cli('invite', '--org', 'Ministry of Digital Affairs', '--display-name', 'Jan Kowalski', '--employee-id', 'E-42', '--role', 'recovery_officer', '--ttl-hours', '24', '--json');
    expect(result.exitCode).toBe(0);
    const body = result.json();
    expect(body.invitation).toMatchObject({ organisation: 'Ministry of Digital Affairs', display_name: 'Jan Kowalski', role: 'recovery_officer' });
    expect(body.link).toMatch(/#invitation=/);
    const human = await cli('invite', '--org', 'Nope', '--display-name', 'X', '--email', 'x@example.gov');
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toBe('warta: no organisation named "Nope"\n');
  });

  it('rotates and lists signing keys', async () => {
    const rotated = await cli('keys', 'rotate', '--publish-ahead-seconds', '0', '--json');
    expect(rotated.exitCode).toBe(0);
    const body = rotated.json();
    expect(body).toMatchObject({ kid: expect.any(String), retiring: [{ kid: expect.any(String), unpublished_at: expect.any(String) }] });
    const listed = (await cli('keys', 'list', '--json')).json();
    expect(listed.keys.map((k: { state: string }) => k.state).sort()).toEqual(['retiring', 'signing']);
  });

  it('verifies the audit chain, after sealing', async () => {
    const result = await cli('audit', 'verify', '--seal', '--json');
    expect(result.exitCode).toBe(0);
    expect(result.json()).toMatchObject({ ok: true, unsealed: 0, sealed: expect.any(Number) });
    expect(result.json().sealed).toBeGreaterThanOrEqual(4);
  });

  it('exports the audit log as JSON lines', async () => {
    const result = await cli('audit', 'export', '--since', '2000-01-01', '--json');
    expect(result.exitCode).toBe(0);
    const lines = result.streamed.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.action)).toEqual(expect.arrayContaining(['organisation.created', 'invitation.created', 'signing_key.rotated']));
    expect(result.json()).toEqual({ exported: lines.length, since: '2000-01-01T00:00:00.000Z' });
    expect(result.streamed).not.toMatch(/invitation=/);
  });

  it('rotates the master key into a new 0600 key file; the old key then no longer opens the data', async () => {
    const keyFile = path.join(dir, 'next-master.key');
    const result = await cli('keys', 'rotate-master', '--new-key-file', keyFile, '--json');
    expect(result.exitCode).toBe(0);
    expect(result.json()).toMatchObject({ data_keys_rewrapped: 1, generated: true, new_key_file: keyFile });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const withOldKey = await cli('keys', 'list', '--json');
    expect(withOldKey.exitCode).toBe(1);
    expect(withOldKey.json().error_description).toMatch(/master key/);
    env.WARTA_MASTER_KEY = readFileSync(keyFile, 'utf8').trim();
    expect((await cli('keys', 'list', '--json')).exitCode).toBe(0);
  });

  it('answers bad usage with exit 2 and a clear message, and bad configuration with 78', async () => {
    expect(await cli('frobnicate')).toMatchObject({ exitCode: 2, stderr: 'warta: unknown command "frobnicate" (see warta --help)\n' });
    expect((await cli('invite', '--org', 'X', '--json')).json()).toEqual({ error: 'invalid_usage', error_description: '--display-name is required (see warta --help)' });
    expect((await cli('invite', '--org', 'X', '--display-name', 'Y', '--colour', 'red')).stderr).toMatch(/unknown flag --colour/);
    expect((await cli('audit', 'export', '--since', 'yesterday')).exitCode).toBe(2);
    const badConfig = await runCli(['keys', 'list'], { ...env, PORT: 'x' });
    expect(badConfig).toMatchObject({ exitCode: 78, stderr: expect.stringContaining('PORT: expected a whole number') });
    expect((await cli('--help')).stdout).toMatch(/keys rotate-master/);
  });

  it('takes the incident-response commands from the command line: emergency key rotation, ending an organisation\'s sessions, suspending a client', async () => {
    expect((await cli('keys', 'rotate', '--emergency', '--json')).json()).toEqual({ error: 'invalid_usage', error_description: '--emergency needs --reason (see warta --help)' });
    const before = (await cli('keys', 'list', '--json')).json().keys.filter((k: { state: string }) => k.state !== 'retired').map((k: { kid: string }) => k.kid);
    const rotated = await cli('keys', 'rotate', '--emergency', '--reason', 'key in a leaked backup', '--json');
    expect(rotated.exitCode).toBe(0);
    expect(rotated.json()).toMatchObject({ emergency: true, kid: expect.any(String), withdrawn: expect.arrayContaining(before) });
    const states = (await cli('keys', 'list', '--json')).json().keys.map((k: { state: string }) => k.state);
    expect(states.filter((state: string) => state === 'signing')).toHaveLength(1);
    expect(states).toContain('withdrawn');
    const ended = await cli('org', 'end-sessions', '--org', 'Ministry of Digital Affairs', '--reason', 'help desk breach', '--json');
    expect(ended.exitCode).toBe(0);
    expect(ended.json()).toMatchObject({ organisation: 'Ministry of Digital Affairs', sessions: 0, grants: 0 });
    expect((await cli('client', 'suspend', '--client-id', 'no-such-client', '--reason', 'x', '--json')).json()).toMatchObject({ error: 'client_not_found' });
    expect((await cli('client', 'suspend', '--client-id', 'x', '--json')).exitCode).toBe(2);
  });

  it("makes an organisation's client an admin client, and takes its admin scopes away, from the command line", async () => {
    const created = (await cli('client', 'create', '--org', 'Ministry of Digital Affairs', '--name', 'Directory sync', '--grant-types', 'client_credentials', '--scope', 'directory:read', '--json')).json();
    const set = await cli('client', 'set-admin-scopes', '--client-id', created.client_id, '--scopes', 'people,warta:admin:invitations', '--json');
    expect(set.exitCode, set.stderr).toBe(0);
    expect(set.json()).toEqual({ client_id: created.client_id, admin_scopes: ['warta:admin:people', 'warta:admin:invitations'] });
    expect((await cli('client', 'set-admin-scopes', '--client-id', created.client_id, '--scopes', 'warta:admin:everything', '--json')).json()).toMatchObject({ error: 'invalid_request' });
    expect((await cli('client', 'set-admin-scopes', '--client-id', created.client_id, '--json')).exitCode).toBe(2);
    expect((await cli('client', 'set-admin-scopes', '--client-id', created.client_id, '--none', '--json')).json()).toEqual({ client_id: created.client_id, admin_scopes: [] });
  });

  it("lets an organisation's client provision through SCIM, and stops it, from the command line", async () => {
    const created = (await cli('client', 'create', '--org', 'Ministry of Digital Affairs', '--name', 'Entra ID provisioning', '--grant-types', 'client_credentials', '--scope', 'directory:read', '--json')).json();
    const on = await cli('client', 'set-scim', '--client-id', created.client_id, '--on', '--json');
    expect(on.exitCode, on.stderr).toBe(0);
    expect(on.json()).toEqual({ client_id: created.client_id, scim: true });
    expect((await cli('client', 'set-scim', '--client-id', created.client_id, '--json')).exitCode).toBe(2);
    expect((await cli('client', 'set-scim', '--client-id', 'no-such-client', '--on', '--json')).json()).toMatchObject({ error: 'client_not_found' });
    expect((await cli('client', 'set-scim', '--client-id', created.client_id, '--off', '--json')).json()).toEqual({ client_id: created.client_id, scim: false });
  });
});

describe('warta client --profile', () => {
  it('registers a fapi2 client (PAR and DPoP implied), refuses one with a client secret, and moves a private_key_jwt client to fapi2', async () => {
    const jwksFile = path.join(dir, 'fapi2.jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK((await generateKeyPair('ES256')).publicKey)), kid: 'k1', alg: 'ES256' }] }));
    const base = ['--grant-types', 'authorization_code', '--redirect-uri', 'https://tax.example.gov/cb'];
    const created = await cli('client', 'create', '--name', 'Tax Office', ...base, '--profile', 'fapi2', '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile, '--json');
    expect(created.exitCode, created.stdout).toBe(0);
    expect(created.json()).toMatchObject({ security_profile: 'fapi2', require_pushed_authorization_requests: true, dpop_bound_access_tokens: true, token_endpoint_auth_method: 'private_key_jwt' });

    const refused = await cli('client', 'create', '--name', 'Old portal', ...base, '--profile', 'fapi2', '--json');
    expect(refused.json()).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringContaining('client_secret_basic is not allowed under fapi2') });

    const baseline = (await cli('client', 'create', '--name', 'Customs', ...base, '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile, '--json')).json();
    expect(baseline.security_profile).toBe('baseline');
    const raised = await cli('client', 'update', '--client-id', baseline.client_id, '--profile', 'fapi2');
    expect(raised.stdout).toContain('security profile fapi2, pushed authorization requests only, DPoP-bound tokens only');
  });
});

function runMigrateProcess(processEnv: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate', '--json'], { env: { ...process.env, ...processEnv }, cwd: path.resolve(import.meta.dirname, '../..') });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Real processes, each opening and migrating a fresh database: tens of seconds on a busy 2-core machine.
describe('migrations from two processes at once', { timeout: 90_000 }, () => {
  it(usingPostgres ? 'apply each migration exactly once on PostgreSQL (advisory lock)' : 'cannot corrupt the embedded database: the second process is refused while the first holds it', async () => {
    const { env: fresh } = await cliEnvironment();
    const [a, b] = await Promise.all([runMigrateProcess(fresh), runMigrateProcess(fresh)]);
    if (usingPostgres) {
      expect([a.code, b.code]).toEqual([0, 0]);
      const migrations = JSON.parse(a.stdout).migrations as string[];
      expect(JSON.parse(b.stdout).migrations).toEqual(migrations);
      expect(new Set(migrations).size).toBe(migrations.length);
    } else {
      const outcomes = [a, b].map((r) => (r.code === 0 ? 'ok' : JSON.parse(r.stdout).error_description));
      expect(outcomes).toContain('ok');
      for (const outcome of outcomes) expect(outcome === 'ok' || /in use by process/.test(outcome)).toBe(true);
      expect(existsSync(`${fresh.WARTA_DATA_DIR}/pglite.lock`)).toBe(false);
      const again = await runMigrateProcess(fresh);
      expect(again.code).toBe(0);
    }
  });
});
