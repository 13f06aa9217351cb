import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { expireRecoveryCases } from '../../src/recovery/expire.js';
import { createTestRuntime } from '../support/runtime.js';
import { browser, TEST_ENV } from '../webauthn/ceremony.js';
import { approvedCase, auditRows, caseRow, enrollPerson, openedCase, recoveryDesk, redeem } from './support.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

const expiredEvents = async (caseId: string) =>
  runtime.db.selectFrom('security_events').selectAll().where('type', '=', 'recovery_expired').where(sql<boolean>`details @> ${JSON.stringify({ caseId })}::jsonb`).execute();

describe('expiring recovery cases', () => {
  it('closes pending cases, unredeemed codes and unfinished enrollments once their time is up, and tells each user', async () => {
    // Sweep whatever earlier tests in this file left, so the counts below are this test's.
    while ((await expireRecoveryCases(runtime)) > 0);
    const desk = await recoveryDesk(runtime, { recoveryCaseTtlHours: 1, recoveryCodeTtlMinutes: 20 });
    const extra = await enrollPerson(runtime, desk.organisation.id);
    const late = await enrollPerson(runtime, desk.organisation.id);

    const pending = await openedCase(desk.officerA, desk.member.user.id);
    const approved = (await approvedCase(desk, extra)).caseId;
    const redeemedCase = await approvedCase(desk, late);
    const client = browser(runtime);
    expect((await redeem(client, late.user.username, redeemedCase.code)).status).toBe(200);

    runtime.clock.advance(15 * 60);
    expect(await expireRecoveryCases(runtime)).toBe(1); // the grant (15 minutes) ran out first
    expect((await caseRow(runtime, redeemedCase.caseId)).status).toBe('expired');
    expect((await caseRow(runtime, approved)).status).toBe('approved');

    runtime.clock.advance(5 * 60);
    expect(await expireRecoveryCases(runtime)).toBe(1);
    expect(await caseRow(runtime, approved)).toMatchObject({ status: 'expired', close_reason: 'code_not_redeemed_in_time' });
    expect((await caseRow(runtime, pending)).status).toBe('pending');

    runtime.clock.advance(40 * 60);
    expect(await expireRecoveryCases(runtime)).toBe(1);
    expect(await caseRow(runtime, pending)).toMatchObject({ status: 'expired', close_reason: 'not_approved_in_time' });
    expect(await expireRecoveryCases(runtime)).toBe(0);

    for (const caseId of [pending, approved, redeemedCase.caseId]) {
      expect(await expiredEvents(caseId)).toHaveLength(1);
      expect((await auditRows(runtime, 'recovery.expired')).filter((row) => row.details.case_id === caseId)).toEqual([expect.objectContaining({ actor: 'system' })]);
    }
    expect((await caseRow(runtime, redeemedCase.caseId)).close_reason).toBe('enrollment_not_finished_in_time');
    expect((await client.post('/api/recovery/passkey/options', { grant: 'whatever' })).status).toBe(400);
  });

  it('expires each case once when several instances sweep at the same moment', async () => {
    while ((await expireRecoveryCases(runtime)) > 0);
    const desk = await recoveryDesk(runtime, { recoveryCaseTtlHours: 1 });
    const others = await Promise.all([enrollPerson(runtime, desk.organisation.id), enrollPerson(runtime, desk.organisation.id)]);
    const cases = [await openedCase(desk.officerA, desk.member.user.id), ...(await Promise.all(others.map((person) => openedCase(desk.officerA, person.user.id))))];
    runtime.clock.advance(3600);
    const swept = await Promise.all([expireRecoveryCases(runtime), expireRecoveryCases(runtime), expireRecoveryCases(runtime)]);
    expect(swept.reduce((sum, n) => sum + n, 0)).toBe(3);
    for (const caseId of cases) expect(await expiredEvents(caseId)).toHaveLength(1);
  });

  it('leaves cases alone while they still have time', async () => {
    while ((await expireRecoveryCases(runtime)) > 0);
    const desk = await recoveryDesk(runtime);
    const { caseId } = await approvedCase(desk);
    runtime.clock.advance(29 * 60);
    expect(await expireRecoveryCases(runtime)).toBe(0);
    expect((await caseRow(runtime, caseId)).status).toBe('approved');
  });
});
