import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/runtime.js';
import { cleanUpLater, createMigratedScratchDatabase, migratedPgliteSnapshot, TEST_MASTER_KEY, usingPostgres } from '../support/runtime.js';
import { browser } from '../webauthn/ceremony.js';
import { approvedCase, enrollWithGrant, openedCase, recoveryDesk, redeem } from './support.js';

/** One database the test seeds through the API and the CLI then reads, as an operator's shell would. */
async function sharedEnvironment(): Promise<Record<string, string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'warta-recovery-cli-'));
  const env: Record<string, string> = { NODE_ENV: 'test', WARTA_DATA_DIR: path.join(dir, 'data'), WARTA_MASTER_KEY: TEST_MASTER_KEY, WARTA_LOG_LEVEL: 'silent', WARTA_TRUST_PROXY: 'true', WARTA_OFFICER_COOLDOWN_HOURS: '0' };
  if (usingPostgres) {
    const scratch = await createMigratedScratchDatabase();
    env.DATABASE_URL = scratch.url;
    cleanUpLater(scratch.drop);
  }
  return env;
}

const env = await sharedEnvironment();

async function seed() {
  const runtime = await openRuntime(loadConfig(env), { clock: new ManualClock(), pgliteSnapshot: await migratedPgliteSnapshot() });
  try {
    const desk = await recoveryDesk(runtime);
    const { caseId: completedId, code } = await approvedCase(desk);
    const client = browser(runtime);
    const grant = (await redeem(client, desk.member.user.username, code)).body.grant as string;
    expect((await enrollWithGrant(runtime, client, grant)).reply.status).toBe(201);
    const pendingId = await openedCase(desk.officerA, desk.officerC.user.id);
    return { organisation: desk.organisation.name, completedId, pendingId, officerB: desk.officerB.user.username };
  } finally {
    // The embedded database takes one process at a time: the CLI opens it next.
    await runtime.close();
  }
}

const seeded = await seed();

const cli = async (...argv: string[]) => {
  const lines: string[] = [];
  const result = await runCli(argv, env, (text) => lines.push(text));
  return { ...result, streamed: lines.join('') };
};

describe('warta recovery', () => {
  it('lists an organisation’s cases as JSON, with filters', async () => {
    const all = await cli('recovery', 'list', '--org', seeded.organisation, '--json');
    expect(all.exitCode, all.stdout + all.stderr).toBe(0);
    expect(JSON.parse(all.stdout).cases.map((c: { id: string }) => c.id).sort()).toEqual([seeded.completedId, seeded.pendingId].sort());

    const byOfficer = JSON.parse((await cli('recovery', 'list', '--org', seeded.organisation, '--officer', seeded.officerB, '--status', 'completed', '--json')).stdout);
    expect(byOfficer.cases.map((c: { id: string }) => c.id)).toEqual([seeded.completedId]);
    expect(byOfficer.cases[0]).toMatchObject({ status: 'completed', approved: { by: { username: seeded.officerB } } });
  });

  it('prints one line per case without --json', async () => {
    const text = await cli('recovery', 'list', '--org', seeded.organisation, '--status', 'pending');
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(seeded.pendingId);
    expect(text.stdout).toContain('pending');
    expect(text.stdout).not.toContain(seeded.completedId);
  });

  it('exports cases as JSON lines and audits the export', async () => {
    const exported = await cli('recovery', 'export', '--org', seeded.organisation, '--json');
    expect(exported.exitCode, exported.stdout + exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ exported: 2, organisation: seeded.organisation });
    const lines = exported.streamed.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((c) => c.id).sort()).toEqual([seeded.completedId, seeded.pendingId].sort());
    const audit = await cli('audit', 'export', '--since', '2000-01-01');
    expect(audit.streamed).toContain('"action":"recovery.cases_exported"');
    expect(audit.streamed).toContain('"actor":"cli"');
  });

  it('refuses a bad filter and an unknown organisation', async () => {
    const bad = await cli('recovery', 'list', '--org', seeded.organisation, '--status', 'finished', '--json');
    expect(bad.exitCode).toBe(1);
    expect(JSON.parse(bad.stdout).error).toBe('invalid_request');
    const unknown = await cli('recovery', 'export', '--org', 'No Such Ministry', '--json');
    expect(unknown.exitCode).toBe(1);
    expect(JSON.parse(unknown.stdout).error).toBe('organisation_not_found');
  });
});
