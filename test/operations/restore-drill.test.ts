/**
 * The restore drill: a person enrolled with a passkey, TOTP and a password; a backup;
 * the database destroyed; the backup restored; the person signs in again over real
 * HTTP, which needs every secret to decrypt under the master key. On the embedded
 * database with `warta backup` / `warta restore`, on PostgreSQL with pg_dump and
 * pg_restore (docs/operations.md). Then the ways a restore must refuse.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeBackup, readBackupManifest } from '../../src/backup/format.js';
import { startCommandChannel } from '../../src/cli/channel.js';
import { runCli, runForwardedCli } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { generateMasterKeyBase64, masterKeyFromBase64 } from '../../src/crypto/master-key.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { codeAt, GOOD_PASSWORD, givePasswordAndTotp } from '../passwords/support.js';
import { startWartaServer } from '../support/browser.js';
import { cleanUpLater, createScratchDatabase, createTestRuntime, seedDataDirWithMigratedSnapshot, TEST_MASTER_KEY, type TestRuntime, usingPostgres } from '../support/runtime.js';
import { browser, enroll, signIn } from '../webauthn/ceremony.js';

const run = promisify(execFile);

/** The environment `warta` and `npm start` would run with on the data folder `dataDir`. */
function wartaEnv(dataDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    WARTA_DATA_DIR: dataDir,
    WARTA_MASTER_KEY: TEST_MASTER_KEY,
    WARTA_ISSUER: 'http://localhost:3000',
    WARTA_LOG_LEVEL: 'silent',
    WARTA_TRUST_PROXY: 'true',
    WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000',
    ...overrides,
  };
}

function scratchFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-drill-'));
  cleanUpLater(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A runtime as `npm start` opens it on `env`'s database; closed after the test unless the test closed it first. */
async function openOn(env: Record<string, string>, clock: ManualClock): Promise<TestRuntime> {
  const runtime = await openRuntime(loadConfig(env), { clock });
  const closeRuntime = runtime.close;
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= closeRuntime());
  cleanUpLater(close);
  return Object.assign(runtime, { close, clock, databaseUrl: env.DATABASE_URL });
}

interface Enrolled {
  userId: string;
  username: string;
  authenticator: Awaited<ReturnType<typeof enroll>>['authenticator'];
  totpSecret: Uint8Array;
  kids: string[];
}

/** Enrols a person over real HTTP (passkey), gives them TOTP and a password, and notes the published signing keys. */
async function enrolPerson(runtime: TestRuntime): Promise<Enrolled> {
  const server = await startWartaServer({ runtime });
  const enrolled = await enroll(runtime, { client: browser(runtime, { baseUrl: server.url }) });
  const user = await runtime.db.selectFrom('users').selectAll().where('id', '=', enrolled.user.id).executeTakeFirstOrThrow();
  const { secret } = await givePasswordAndTotp(runtime, user);
  const kids = ((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
  await server.close();
  return { userId: user.id, username: user.username, authenticator: enrolled.authenticator, totpSecret: secret, kids };
}

/** On the restored database, over real HTTP: the passkey signs in, the password and TOTP sign in, the same signing keys are published. */
async function expectSignInAfterRestore(runtime: TestRuntime, person: Enrolled): Promise<void> {
  const server = await startWartaServer({ runtime });
  const client = browser(runtime, { baseUrl: server.url });
  const passkey = await signIn(runtime, client, person.authenticator);
  expect(passkey.status, JSON.stringify(passkey.body)).toBe(200);
  expect(passkey.body.user.id).toBe(person.userId);

  runtime.clock.advance(60);
  const password = await browser(runtime, { baseUrl: server.url }).post('/api/signin/password', { username: person.username, password: GOOD_PASSWORD, code: codeAt(person.totpSecret, runtime.clock) });
  expect(password.status, JSON.stringify(password.body)).toBe(200);
  expect(password.body.user_id).toBe(person.userId);

  const kids = ((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
  expect(kids).toEqual(person.kids);
  await server.close();
}

const cli = async (argv: string[], env: Record<string, string>) => {
  const result = await runCli([...argv, '--json'], env, () => {});
  return { ...result, body: JSON.parse(result.stdout || '{}') as Record<string, any> };
};

// Real data folders, a real restore and real HTTP: tens of seconds on a busy 2-core machine.
describe('the restore drill', { timeout: 180_000 }, () => {
  it.runIf(!usingPostgres)('embedded database: backed up beside the running server, folder destroyed, restored with warta restore, the person signs in again', async () => {
    const dataDir = path.join(scratchFolder(), 'data');
    const env = wartaEnv(dataDir);
    await seedDataDirWithMigratedSnapshot(dataDir);
    const before = await openOn(env, new ManualClock());
    const person = await enrolPerson(before);

    // The server holds the database; `warta backup` reaches it over the command channel and runs inside it.
    const channel = await startCommandChannel(before as Runtime, dataDir, runForwardedCli, before.log);
    const file = path.join(path.dirname(dataDir), 'warta.backup');
    const made = await cli(['backup', '--out', file], env);
    expect(made.stderr).toBe('');
    expect(made.exitCode, made.stdout).toBe(0);
    expect(made.body).toMatchObject({ file, master_key_id: masterKeyFromBase64(TEST_MASTER_KEY).id });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readBackupManifest(readFileSync(file)).migrations.length).toBeGreaterThan(0);
    expect(await before.db.selectFrom('audit_log').select('actor').where('action', '=', 'database.backed_up').execute()).toEqual([{ actor: 'cli' }]);
    // Never over an existing file.
    expect((await cli(['backup', '--out', file], env)).body.error).toBe('backup_file_unwritable');
    await channel.stop();
    await before.close();

    rmSync(dataDir, { recursive: true, force: true });
    const restored = await cli(['restore', '--from', file], env);
    expect(restored.stderr).toBe('');
    expect(restored.exitCode, restored.stdout).toBe(0);
    expect(restored.body).toMatchObject({ database: path.join(dataDir, 'pglite'), pending_migrations: [] });
    expect(restored.body.replaced).toBeUndefined();

    const after = await openOn(env, new ManualClock(before.clock.now().getTime() + 3600_000));
    await expectSignInAfterRestore(after, person);
  });

  it.runIf(usingPostgres)('PostgreSQL: pg_dump -Fc, a fresh database, pg_restore, the person signs in again', async () => {
    const before = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true' } });
    const person = await enrolPerson(before);
    const file = path.join(scratchFolder(), 'warta.dump');
    await run(await pgTool('pg_dump'), ['--format=custom', `--file=${file}`, `--dbname=${before.databaseUrl}`]);

    const fresh = await createScratchDatabase();
    cleanUpLater(fresh.drop);
    await run(await pgTool('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${fresh.url}`, file]);
    const after = await openOn(wartaEnv(scratchFolder(), { DATABASE_URL: fresh.url }), new ManualClock(before.clock.now().getTime() + 3600_000));
    await expectSignInAfterRestore(after, person);
  });
});

/** pg_dump / pg_restore from PATH, else from the newest PostgreSQL installed under /usr/lib/postgresql. */
async function pgTool(name: string): Promise<string> {
  try {
    await run(name, ['--version']);
    return name;
  } catch {
    const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
    const found = versions.map((version) => `/usr/lib/postgresql/${version}/bin/${name}`).find((file) => existsSync(file));
    if (!found) throw new Error(`${name} is not installed (the PostgreSQL client tools)`);
    return found;
  }
}

describe('warta backup and restore refuse', () => {
  const pgEnv = (dir: string) => wartaEnv(path.join(dir, 'data'), { DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none' });

  it('a backup on PostgreSQL, pointing to pg_dump, without connecting or writing a file', async () => {
    const dir = scratchFolder();
    const file = path.join(dir, 'warta.backup');
    const refused = await cli(['backup', '--out', file], pgEnv(dir));
    expect(refused.exitCode).toBe(1);
    expect(refused.body).toMatchObject({ error: 'backup_not_embedded', error_description: expect.stringContaining('pg_dump') });
    expect(existsSync(file)).toBe(false);
  });

  it('a restore on PostgreSQL, pointing to pg_restore', async () => {
    const dir = scratchFolder();
    writeFileSync(path.join(dir, 'warta.backup'), 'anything');
    const refused = await cli(['restore', '--from', path.join(dir, 'warta.backup')], pgEnv(dir));
    expect(refused.exitCode).toBe(1);
    expect(refused.body).toMatchObject({ error: 'restore_not_embedded', error_description: expect.stringContaining('pg_restore') });
  });
});

describe.skipIf(usingPostgres)('warta restore refuses, writing nothing', { timeout: 120_000 }, () => {
  const dir = scratchFolder();
  const sourceDir = path.join(dir, 'source');
  const env = wartaEnv(sourceDir);
  const file = path.join(dir, 'warta.backup');
  let backup: Buffer;

  // One backup, made with no server running (the command opens the database itself).
  beforeAll(async () => {
    await seedDataDirWithMigratedSnapshot(sourceDir);
    const made = await cli(['backup', '--out', file], env);
    expect(made.exitCode, made.stdout + made.stderr).toBe(0);
    backup = readFileSync(file);
  }, 120_000);
  const listing = (dataDir: string) => (existsSync(dataDir) ? readdirSync(dataDir).sort() : []);

  /** Writes `bytes` as a backup file and restores it into the empty folder `target` (default: a new one). */
  async function restoreBytes(bytes: Uint8Array, options: { env?: Record<string, string>; target?: string } = {}) {
    const from = path.join(scratchFolder(), 'candidate.backup');
    writeFileSync(from, bytes);
    const target = options.target ?? path.join(scratchFolder(), 'data');
    const result = await cli(['restore', '--from', from], { ...wartaEnv(target), ...options.env });
    return { ...result, target };
  }

  it('a backup made under another master key, naming both keys, the data folder unchanged', async () => {
    const otherKey = generateMasterKeyBase64();
    const refused = await restoreBytes(backup, { env: { WARTA_MASTER_KEY: otherKey } });
    expect(refused.exitCode).toBe(1);
    expect(refused.body.error).toBe('backup_master_key_mismatch');
    expect(refused.body.error_description).toBe(
      `this backup was made with master key ${masterKeyFromBase64(TEST_MASTER_KEY).id}; the configured master key is ${masterKeyFromBase64(otherKey).id}: restore needs the master key in use when the backup was made`,
    );
    expect(listing(refused.target)).toEqual([]);

    // Over an existing database, even with --replace: nothing is moved aside.
    const sourceBefore = listing(sourceDir);
    const over = await cli(['restore', '--from', file, '--replace'], { ...env, WARTA_MASTER_KEY: otherKey });
    expect(over.body.error).toBe('backup_master_key_mismatch');
    expect(listing(sourceDir)).toEqual(sourceBefore);
  });

  it('a backup with one byte changed, in its manifest, its data or its MAC', async () => {
    const payloadStart = backup.indexOf(0x0a, backup.indexOf(0x0a) + 1) + 1;
    const manifestByte = backup.indexOf(Buffer.from('"created_at":"')) + 16;
    for (const position of [manifestByte, payloadStart + 10, Math.floor((payloadStart + backup.length) / 2), backup.length - 1]) {
      const tampered = Buffer.from(backup);
      tampered[position] = tampered[position]! ^ 0x01;
      const refused = await restoreBytes(tampered);
      expect(refused.exitCode).toBe(1);
      expect(refused.body.error, `byte ${position}`).toBe('backup_tampered');
      expect(listing(refused.target)).toEqual([]);
    }
  });

  it('a truncated backup', async () => {
    for (const length of [backup.length - 1, backup.length - 32, Math.floor(backup.length / 2), 20]) {
      const refused = await restoreBytes(backup.subarray(0, length));
      expect(refused.exitCode).toBe(1);
      expect(refused.body.error, `${length} bytes`).toMatch(/^backup_(tampered|unreadable)$/);
      expect(listing(refused.target)).toEqual([]);
    }
    expect((await restoreBytes(backup.subarray(0, backup.length - 1))).body.error).toBe('backup_tampered');
    expect((await restoreBytes(Buffer.from('not a backup at all'))).body.error).toBe('backup_unreadable');
  });

  it('a backup made by a newer Warta, holding migrations this code does not know', async () => {
    const manifest = readBackupManifest(backup);
    const payloadStart = backup.indexOf(0x0a, backup.indexOf(0x0a) + 1) + 1;
    const payload = backup.subarray(payloadStart, backup.length - 32);
    const newer = encodeBackup(masterKeyFromBase64(TEST_MASTER_KEY), { warta_version: '9.0.0', created_at: manifest.created_at, database: 'pglite', migrations: [...manifest.migrations, '0999_from_the_future'] }, payload);
    const refused = await restoreBytes(newer);
    expect(refused.exitCode).toBe(1);
    expect(refused.body).toMatchObject({ error: 'backup_from_newer_warta', error_description: expect.stringContaining('0999_from_the_future') });
    expect(listing(refused.target)).toEqual([]);
  });

  it('while a server holds the database ("stop Warta first"), even with --replace', async () => {
    const runtime = await openOn(env, new ManualClock());
    const sourceBefore = listing(sourceDir);
    const refused = await cli(['restore', '--from', file, '--replace'], env);
    expect(refused.exitCode).toBe(1);
    expect(refused.body.error).toBe('database_in_use');
    expect(refused.body.error_description).toContain(`in use by process ${process.pid}: stop Warta first`);
    expect(listing(sourceDir)).toEqual(sourceBefore);
    await runtime.close();
  });

  it('over an existing database without --replace; with it, the old database is moved aside, never deleted', async () => {
    const refused = await cli(['restore', '--from', file], env);
    expect(refused.exitCode).toBe(1);
    expect(refused.body.error).toBe('database_exists');
    expect(listing(sourceDir)).not.toContainEqual(expect.stringMatching(/^pglite\.replaced-/));

    const replaced = await cli(['restore', '--from', file, '--replace'], env);
    expect(replaced.exitCode, replaced.stdout).toBe(0);
    expect(replaced.body.replaced).toMatch(/pglite\.replaced-\d{4}-\d\d-\d\dT/);
    expect(existsSync(path.join(replaced.body.replaced as string, 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(sourceDir, 'pglite', 'PG_VERSION'))).toBe(true);
    expect(listing(sourceDir).filter((name) => name.startsWith('pglite.restoring-'))).toEqual([]);
  });
});
