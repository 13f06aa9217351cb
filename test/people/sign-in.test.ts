/**
 * A disabled person's other ways in: password + TOTP and a recovery code are
 * refused `account_disabled`, but only once the factors are proven (a wrong
 * guess still gets the one answer every wrong guess gets).
 */
import { describe, expect, it } from 'vitest';
import { disablePerson } from '../../src/people/disable.js';
import { enablePerson } from '../../src/people/enable.js';
import { offboardPerson } from '../../src/people/offboard.js';
import { codeAt, freshIp, GOOD_PASSWORD, givePasswordAndTotp } from '../passwords/support.js';
import { approvedCase, recoveryDesk, redeem } from '../recovery/support.js';
import { createTestRuntime, createTestUser, testClient } from '../support/runtime.js';
import { browser } from '../webauthn/ceremony.js';

const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true' } });
const { request } = testClient(runtime);
const operator = { actor: { kind: 'cli' as const } };
const passwordSignIn = async (json: unknown) => {
  const response = await request('/api/signin/password', { method: 'POST', json, headers: { 'x-forwarded-for': freshIp() } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('a disabled person signing in with password and TOTP', () => {
  it('is refused account_disabled with both factors right, the usual invalid_credentials otherwise, and let in again once enabled', async () => {
    const user = await createTestUser(runtime);
    const { secret } = await givePasswordAndTotp(runtime, user);
    await disablePerson(runtime, { actor: 'cli' }, { ...operator, personId: user.id, reason: 'suspended pending inquiry' });

    const refused = await passwordSignIn({ username: user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) });
    expect(refused).toMatchObject({ status: 403, body: { error: 'account_disabled' } });
    const guessed = await passwordSignIn({ username: user.username, password: 'not the password', code: codeAt(secret, runtime.clock) });
    expect(guessed).toMatchObject({ status: 401, body: { error: 'invalid_credentials' } });
    expect(await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toEqual([]);

    await enablePerson(runtime, { actor: 'cli' }, { ...operator, personId: user.id, reason: 'inquiry closed' });
    runtime.clock.advance(30);
    expect((await passwordSignIn({ username: user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) })).status).toBe(200);
  });

  it('once offboarded, has no password left: the usual invalid_credentials', async () => {
    const user = await createTestUser(runtime);
    const { secret } = await givePasswordAndTotp(runtime, user);
    await offboardPerson(runtime, { actor: 'cli' }, { ...operator, personId: user.id, reason: 'left', confirm: true });
    runtime.clock.advance(30);
    expect(await passwordSignIn({ username: user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) })).toMatchObject({ status: 401, body: { error: 'invalid_credentials' } });
  });
});

describe('a disabled person redeeming a recovery code', () => {
  it('is refused account_disabled with the right code, and the case waits for an enable', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    await disablePerson(runtime, { actor: 'cli' }, { ...operator, personId: desk.member.user.id, reason: 'suspended pending inquiry' });
    const refused = await redeem(browser(runtime), desk.member.user.username, code);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('account_disabled');
    expect((await runtime.db.selectFrom('recovery_cases').select('status').where('id', '=', caseId).executeTakeFirstOrThrow()).status).toBe('approved');

    await enablePerson(runtime, { actor: 'cli' }, { ...operator, personId: desk.member.user.id, reason: 'inquiry closed' });
    expect((await redeem(browser(runtime), desk.member.user.username, code)).status).toBe(200);
  });

  it('offboarding cancels the case: the code no longer works', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    const offboarded = await offboardPerson(runtime, { actor: 'cli' }, { ...operator, personId: desk.member.user.id, reason: 'left', confirm: true });
    expect(offboarded.recovery_cases).toBe(1);
    expect((await runtime.db.selectFrom('recovery_cases').select(['status', 'close_reason']).where('id', '=', caseId).executeTakeFirstOrThrow())).toEqual({ status: 'cancelled', close_reason: 'offboarded' });
    expect((await redeem(browser(runtime), desk.member.user.username, code)).body.error).toBe('invalid_recovery_code');
  });
});
