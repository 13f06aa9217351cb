import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { openRuntime } from '../../src/runtime.js';
import { cleanUpLater, createMigratedScratchDatabase, migratedPgliteSnapshot, testConfig, usingPostgres } from '../support/runtime.js';
import { browser, TEST_ENV } from '../webauthn/ceremony.js';
import { approve, approvedCase, DESKS, enrollWithGrant, recoveryDesk, redeem, wrongCodes } from './support.js';

/** A runtime that logs everything (trace) into `lines`, to look for secrets in. */
async function loggingRuntime() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const scratch = usingPostgres ? await createMigratedScratchDatabase() : undefined;
  const config = testConfig({ ...TEST_ENV, WARTA_LOG_LEVEL: 'trace', ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  const runtime = await openRuntime(config, { clock: new ManualClock(), pgliteDir: 'memory://', pgliteSnapshot: await migratedPgliteSnapshot(), log: createLogger('trace', sink) });
  cleanUpLater(async () => {
    await runtime.close();
    await scratch?.drop();
  });
  return { runtime, lines };
}

const { runtime, lines } = await loggingRuntime();

describe('the recovery code and the enrollment grant', () => {
  it('appear in no log line, audit entry, event, counter key or stored column, through a whole recovery with mistakes', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    expect((await approve(desk.officerC, caseId, DESKS[0])).status).toBe(409);
    const client = browser(runtime);
    for (const wrong of wrongCodes(code, 2)) expect((await redeem(client, desk.member.user.username, wrong)).status).toBe(400);
    // The code typed into the username field by mistake.
    expect((await redeem(client, code, code)).status).toBe(400);
    const redeemed = await redeem(client, desk.member.user.username, code.toLowerCase());
    expect(redeemed.status).toBe(200);
    const grant = redeemed.body.grant as string;
    expect((await enrollWithGrant(runtime, client, grant)).reply.status).toBe(201);
    expect((await redeem(client, desk.member.user.username, code)).status).toBe(409);

    const canonical = code.replaceAll('-', '');
    const stored = JSON.stringify(
      await Promise.all(
        (['audit_log', 'security_events', 'rate_limits', 'recovery_cases', 'webauthn_challenges', 'sessions'] as const).map((table) => runtime.db.selectFrom(table).selectAll().execute()),
      ),
    );
    expect(lines.length).toBeGreaterThan(10);
    for (const secret of [code, canonical, code.toLowerCase(), grant]) {
      expect(lines.join('')).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
  });
});
