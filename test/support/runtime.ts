import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { afterAll, inject, onTestFinished } from 'vitest';
import { createApp } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { connectDatabase } from '../../src/db/connect.js';
import type { Role, User } from '../../src/db/schema.js';
import { createInvitation, redeemInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { OrganisationPolicy } from '../../src/orgs/policy.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { sessionCookieName } from '../../src/http/session-cookie.js';
import { startSession } from '../../src/sessions/service.js';
import { createScratchDatabase as createScratchDatabaseOn, testDatabaseServerUrl, usingPostgres } from './scratch-database.js';

export { testDatabaseServerUrl, usingPostgres };

/** A fresh, empty PostgreSQL database on the test server; dropped by the returned function. */
export const createScratchDatabase = () => createScratchDatabaseOn(testDatabaseServerUrl());

/**
 * A PostgreSQL database on the test server, copied from the run's migrated template
 * (test/support/migrated-database.ts); empty when the run made none. Dropped by the
 * returned function.
 */
export const createMigratedScratchDatabase = () => createScratchDatabaseOn(testDatabaseServerUrl(), 'warta_test', inject('migratedTemplateDatabase'));

/**
 * What an in-memory PGlite runtime starts from: the run's migrated snapshot
 * (test/support/migrated-database.ts), or undefined for a fresh database when the
 * run made none (the browser tests' config).
 */
export async function migratedPgliteSnapshot(): Promise<Blob | undefined> {
  const file = inject('migratedPgliteSnapshot');
  return file ? openAsBlob(file) : undefined;
}

/**
 * Starts the embedded database of the Warta data folder `dataDir` from the run's
 * migrated snapshot, for tests of commands that open the folder themselves as
 * `warta` does but are not about migrating it.
 */
export async function seedDataDirWithMigratedSnapshot(dataDir: string): Promise<void> {
  const handle = await connectDatabase({ databaseUrl: undefined, pgliteDir: path.join(dataDir, 'pglite'), pgliteSnapshot: await migratedPgliteSnapshot(), poolSize: 1, attempts: 1 });
  await handle.close();
}

/**
 * Runs `cleanUp` when the current test ends, or after the file when called outside a
 * test (an afterAll registered inside a running test would be silently lost).
 */
export function cleanUpLater(cleanUp: () => void | Promise<void>): void {
  // onTestFinished refuses outside a running test; expect's state cannot tell, as it
  // outlives the previous file when test files share a worker.
  try {
    onTestFinished(cleanUp);
  } catch {
    afterAll(cleanUp);
  }
}

export const TEST_MASTER_KEY = randomBytes(32).toString('base64');

/**
 * Test files make hundreds of requests from one address within one (manual) minute, so the per-address
 * limit on anonymous endpoints is raised here; test/throttle/request-limit.test.ts sets its own.
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  // Officers act at once in tests that are not about the new-officer cooldown; test/authority/ sets it.
  return loadConfig({ NODE_ENV: 'test', WARTA_MASTER_KEY: TEST_MASTER_KEY, WARTA_ISSUER: 'http://localhost:3000', WARTA_LOG_LEVEL: 'silent', WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000', WARTA_OFFICER_COOLDOWN_HOURS: '0', ...overrides });
}

export interface TestRuntime extends Runtime {
  clock: ManualClock;
  /** The database URL (PostgreSQL runs) so a second runtime can share it; undefined on PGlite. */
  databaseUrl: string | undefined;
}

/**
 * A migrated runtime on a throwaway database, closed after the test file.
 * Time is a ManualClock the test moves.
 */
export async function createTestRuntime(options: { env?: Record<string, string>; clock?: ManualClock; databaseUrl?: string } = {}): Promise<TestRuntime> {
  const clock = options.clock ?? new ManualClock(new Date());
  let databaseUrl = options.databaseUrl;
  let drop: (() => Promise<void>) | undefined;
  if (usingPostgres && !databaseUrl) {
    const scratch = await createMigratedScratchDatabase();
    databaseUrl = scratch.url;
    drop = scratch.drop;
  }
  const config = testConfig({ ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...options.env });
  const runtime = await openRuntime(config, { clock, pgliteDir: 'memory://', pgliteSnapshot: databaseUrl ? undefined : await migratedPgliteSnapshot() });
  const cleanUp = async () => {
    await runtime.close();
    await drop?.();
  };
  cleanUpLater(cleanUp);
  return Object.assign(runtime, { clock, databaseUrl });
}

let counter = 0;

/** An organisation, then a user in it created through a redeemed invitation (as enrollment does). */
export async function createTestUser(
  runtime: Runtime,
  options: { role?: Role; organisationId?: string; policy?: Partial<OrganisationPolicy>; username?: string } = {},
): Promise<User> {
  counter += 1;
  const organisationId =
    options.organisationId ??
    (await createOrganisation(runtime, { actor: 'test' }, { name: `Org ${counter} ${randomBytes(3).toString('hex')}`, ...(options.policy ? { policy: options.policy } : {}) })).id;
  const issued = await createInvitation(runtime, { actor: 'test' }, {
    organisationId,
    displayName: `Test User ${counter}`,
    email: options.username ?? `user${counter}-${randomBytes(3).toString('hex')}@example.gov`,
    role: options.role ?? 'member',
  });
  return runtime.db.transaction().execute(async (trx) => (await redeemInvitation(trx, runtime, { actor: 'test' }, issued.token)).user);
}

/** A Cookie header for a session of `user`, as a passkey sign-in would create. */
export async function sessionCookie(runtime: Runtime, user: User, amr: string[] = ['hwk', 'user']): Promise<string> {
  const { token } = await startSession(runtime.db, runtime, { userId: user.id, amr, ip: '127.0.0.1', userAgent: 'vitest' });
  return `${sessionCookieName(runtime.config.secureCookies)}=${token}`;
}

/** The app over the runtime, called in-process (no socket) with JSON helpers. */
export function testClient(runtime: Runtime) {
  const app = createApp(runtime);
  const request = (path: string, init: RequestInit & { json?: unknown; cookie?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.json !== undefined) headers.set('content-type', 'application/json');
    if (init.cookie) headers.set('cookie', init.cookie);
    return app.request(path, { ...init, headers, ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}) });
  };
  return { app, request };
}
