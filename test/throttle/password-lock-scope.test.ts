import { describe, expect, it } from 'vitest';
import { codeAt, givePasswordAndTotp } from '../passwords/support.js';
import { approvedCase, recoveryDesk, redeem } from '../recovery/support.js';
import { createTestRuntime } from '../support/runtime.js';
import { browser, signIn, TEST_ENV } from '../webauthn/ceremony.js';

/**
 * Attack 6 of issue 11: an attacker who knows a named official's username
 * guesses passwords until the account's password counter locks. That lock
 * must not reach the official's passkey or the recovery desk, or guessing
 * becomes a way to lock a person out.
 */
const LOCK_AFTER = 3;
const runtime = await createTestRuntime({ env: { ...TEST_ENV, WARTA_SIGNIN_FREE_ATTEMPTS: String(LOCK_AFTER), WARTA_SIGNIN_LOCK_AFTER: String(LOCK_AFTER) } });

describe('a locked password', () => {
  it('does not block the account’s passkey sign-in nor the redemption of its recovery code', async () => {
    const desk = await recoveryDesk(runtime);
    const { member } = desk;
    const { secret } = await givePasswordAndTotp(runtime, member.user);
    const attacker = browser(runtime);
    const guess = () => attacker.post('/api/signin/password', { username: member.user.username, password: 'guessed password 2024', code: codeAt(secret, runtime.clock) });
    for (let i = 0; i < LOCK_AFTER; i++) expect((await guess()).status).toBe(401);
    const locked = await guess();
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('too_many_attempts');
    expect(await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'signin.account_locked').where('subject', '=', `user:${member.user.id}`).execute()).toHaveLength(1);

    const passkey = await signIn(runtime, browser(runtime), member.authenticator);
    expect(passkey.status, JSON.stringify(passkey.body)).toBe(200);
    expect(passkey.body).toMatchObject({ user: { id: member.user.id } });

    const { code } = await approvedCase(desk);
    const redeemed = await redeem(browser(runtime), member.user.username, code);
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    expect(redeemed.body.grant).toMatch(/^[\w-]{43}$/);

    // The password itself stays locked for the guesser.
    expect((await guess()).status).toBe(429);
  });
});
