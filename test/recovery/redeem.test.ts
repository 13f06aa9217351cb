import { describe, expect, it } from 'vitest';
import { RECOVERY_IP_POLICY } from '../../src/recovery/redeem.js';
import { anonymousFailureCount } from '../support/anonymous-failures.js';
import { createTestRuntime, testClient } from '../support/runtime.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { browser, origin, signIn, TEST_ENV } from '../webauthn/ceremony.js';
import { codeAt, GOOD_PASSWORD, givePasswordAndTotp, secretFromDisplay } from '../passwords/support.js';
import { adminCoApproves, approve, approvedCase, auditRows, caseRow, DESKS, type Desk, enrollWithGrant, eventTypes, giveRefreshToken, openedCase, recoveryDesk, redeem, wrongCodes } from './support.js';

const runtime = await createTestRuntime({ env: TEST_ENV });
const { app } = testClient(runtime);

const refresh = (refreshToken: string, basic: string) =>
  app.request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString() });

/** A redeemed code: the grant, and the client that holds it. */
async function redeemed(desk: Desk) {
  const { caseId, code } = await approvedCase(desk);
  const client = browser(runtime);
  const reply = await redeem(client, desk.member.user.username, code);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return { caseId, code, client, grant: reply.body.grant as string };
}

describe('redeeming a recovery code and enrolling a new passkey', () => {
  it('shows the desk and time, then replaces every old way in with the new passkey and signs the user in', async () => {
    const desk = await recoveryDesk(runtime);
    const { member } = desk;
    await givePasswordAndTotp(runtime, member.user);
    const oidc = await giveRefreshToken(runtime, member.user);
    const rotated = await refresh(oidc.refreshToken, oidc.basic);
    expect(rotated.status).toBe(200);
    const { refresh_token: liveRefreshToken } = (await rotated.json()) as { refresh_token: string };

    const { caseId, code } = await approvedCase(desk);
    const approvedAt = (await caseRow(runtime, caseId)).approved_at!;
    const client = browser(runtime);
    const reply = await redeem(client, member.user.username, code);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({
      user: { username: member.user.username, display_name: member.user.display_name },
      desk: DESKS[1],
      issued_at: approvedAt.toISOString(),
      methods: ['passkey', 'password_totp'],
      revokes_old_credentials: true,
    });
    expect(reply.body.grant).toMatch(/^[\w-]{43}$/);
    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'redeemed', redeemed_at: runtime.clock.now() });

    const { reply: enrolled, authenticator } = await enrollWithGrant(runtime, client, reply.body.grant);
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
    expect(enrolled.body).toMatchObject({ user: { id: member.user.id }, passkey: { name: 'New laptop' }, acr: 'urn:warta:acr:hardware', redirect_to: '/account' });

    // Signed in with the new passkey; the old one, the password + TOTP, the old session and the refresh token are gone.
    expect((await client.get('/api/account/passkeys')).body.passkeys.map((p: { name: string }) => p.name)).toEqual(['New laptop']);
    expect((await member.client.get('/api/account/passkeys')).status).toBe(401);
    expect((await signIn(runtime, browser(runtime), member.authenticator)).body.error).toBe('credential_revoked');
    expect((await signIn(runtime, browser(runtime), authenticator)).status).toBe(200);
    expect(await runtime.db.selectFrom('password_credentials').select('user_id').where('user_id', '=', member.user.id).execute()).toEqual([]);
    expect(await runtime.db.selectFrom('totp_credentials').select('id').where('user_id', '=', member.user.id).execute()).toEqual([]);
    expect(await runtime.db.selectFrom('oauth_grants').select(['revoked_reason']).where('id', '=', oidc.grant.id).executeTakeFirstOrThrow()).toEqual({ revoked_reason: 'account_recovered' });
    const afterwards = await refresh(liveRefreshToken, oidc.basic);
    expect(afterwards.status).toBe(400);
    expect(((await afterwards.json()) as { error: string }).error).toBe('invalid_grant');
    expect(await runtime.db.selectFrom('backchannel_logouts').select('client_id').where('user_id', '=', member.user.id).execute()).toEqual([{ client_id: oidc.client.client_id }]);

    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'completed', closed_by: member.user.id, close_reason: 'recovered' });
    expect(await eventTypes(runtime, member.user.id)).toEqual(['account_recovered', 'credential_change', 'recovery_approved', 'recovery_opened', 'sessions_revoked']);
    const [completed] = (await auditRows(runtime, 'recovery.completed')).filter((row) => row.details.case_id === caseId);
    expect(completed).toMatchObject({ actor: `user:${member.user.id}`, details: { method: 'passkey', revoked: { passkeys: 1, totp: 1, password: 1, grants: 1, sessions: 1, backchannel_logouts: 1 } } });

    // The grant was single-use.
    const again = await client.post('/api/recovery/passkey/options', { grant: reply.body.grant });
    expect(again.body.error).toBe('recovery_grant_invalid');
  });

  it('reads the code as typed from paper: lower case, spaces, l for 1, o for 0', async () => {
    const desk = await recoveryDesk(runtime);
    const { code } = await approvedCase(desk);
    const typed = code.toLowerCase().replaceAll('-', ' ').replaceAll('1', 'l').replaceAll('0', 'o');
    expect((await redeem(browser(runtime), `  ${desk.member.user.username.toUpperCase()} `, typed)).status).toBe(200);
  });

  it('answers "no such user", "no code issued" and "wrong code" identically', async () => {
    const desk = await recoveryDesk(runtime);
    const { code } = await approvedCase(desk);
    const [wrong] = wrongCodes(code, 1);
    const unknownBefore = await anonymousFailureCount(runtime, 'recovery.code_failed', 'recovery:unknown_account');
    const replies = await Promise.all([
      redeem(browser(runtime), 'nobody@example.gov', code),
      redeem(browser(runtime), desk.officerC.user.username, code),
      redeem(browser(runtime), desk.member.user.username, wrong!),
      redeem(browser(runtime), desk.member.user.username, 'not even a code'),
    ]);
    for (const reply of replies) expect({ status: reply.status, body: reply.body }).toEqual({ status: 400, body: { error: 'invalid_recovery_code', error_description: replies[0]!.body.error_description } });
    const failures = (await auditRows(runtime, 'recovery.code_failed')).slice(-3);
    expect(failures.map((row) => row.details.reason).sort()).toEqual(['no_code_issued', 'wrong_code', 'wrong_code']);
    // A name that matches nobody is counted into the audit window, not audited alone (src/audit/anonymous-failures.ts).
    expect(await anonymousFailureCount(runtime, 'recovery.code_failed', 'recovery:unknown_account')).toBe(unknownBefore + 1);
    // What was typed as a username is kept only as a keyed hash (it might have been a code).
    expect(JSON.stringify(failures)).not.toContain('nobody@example.gov');
  });

  it('counts wrong codes and locks the case at the limit, so even the right code then fails', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    const wrong = wrongCodes(code, 5);
    for (const guess of wrong.slice(0, 4)) expect((await redeem(browser(runtime), desk.member.user.username, guess)).body.error).toBe('invalid_recovery_code');
    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'approved', code_attempts: 4 });
    expect((await redeem(browser(runtime), desk.member.user.username, wrong[4]!)).body.error).toBe('invalid_recovery_code');
    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'locked', code_attempts: 5, close_reason: 'too_many_wrong_codes' });
    expect((await auditRows(runtime, 'recovery.locked')).at(-1)).toMatchObject({ subject: `user:${desk.member.user.id}`, details: { case_id: caseId, attempts: 5 } });

    const right = await redeem(browser(runtime), desk.member.user.username, code);
    expect(right.status).toBe(403);
    expect(right.body.error).toBe('recovery_case_locked');
    expect((await caseRow(runtime, caseId)).grant_hash).toBeNull();
  });

  it('locks the case under concurrent guessing without counting past the limit', async () => {
    const desk = await recoveryDesk(runtime, { recoveryCodeMaxAttempts: 3 });
    const { caseId, code } = await approvedCase(desk);
    const guesses = await Promise.all(wrongCodes(code, 8).map((guess) => redeem(browser(runtime), desk.member.user.username, guess)));
    expect(guesses.every((reply) => reply.body.error === 'invalid_recovery_code')).toBe(true);
    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'locked', code_attempts: 3 });
    expect((await redeem(browser(runtime), desk.member.user.username, code)).body.error).toBe('recovery_case_locked');
  });

  it('counts wrong codes per address in the rate limiter, then refuses that address for a while', async () => {
    const attacker = browser(runtime);
    for (let i = 0; i <= RECOVERY_IP_POLICY.freeAttempts; i++) expect((await redeem(attacker, `guess${i}@example.gov`, 'AAAA-AAAA-AAAA-AAAA-AAAA')).status).toBe(400);
    const limited = await redeem(attacker, 'guess@example.gov', 'AAAA-AAAA-AAAA-AAAA-AAAA');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('too_many_attempts');
    expect((await runtime.db.selectFrom('rate_limits').select('failures').where('key', '=', `recovery:ip:${attacker.ip}`).executeTakeFirstOrThrow()).failures).toBe(RECOVERY_IP_POLICY.freeAttempts + 1);
    expect((await redeem(browser(runtime), 'guess@example.gov', 'AAAA-AAAA-AAAA-AAAA-AAAA')).status).toBe(400);
    runtime.clock.advance(2);
    expect((await redeem(attacker, 'guess@example.gov', 'AAAA-AAAA-AAAA-AAAA-AAAA')).status).toBe(400);
  });

  it('refuses an expired code and leaves the case alone', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    runtime.clock.advance(30 * 60);
    const reply = await redeem(browser(runtime), desk.member.user.username, code);
    expect(reply.status).toBe(410);
    expect(reply.body.error).toBe('recovery_code_expired');
    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'approved', grant_hash: null, code_attempts: 0 });
    expect((await auditRows(runtime, 'recovery.code_refused')).at(-1)).toMatchObject({ details: { case_id: caseId, reason: 'recovery_code_expired' } });
  });

  it('refuses a used code', async () => {
    const desk = await recoveryDesk(runtime);
    const { code, caseId } = await redeemed(desk);
    const grantHash = (await caseRow(runtime, caseId)).grant_hash;
    const reply = await redeem(browser(runtime), desk.member.user.username, code);
    expect(reply.status).toBe(409);
    expect(reply.body.error).toBe('recovery_code_used');
    expect((await caseRow(runtime, caseId)).grant_hash).toBe(grantHash);
  });

  it('lets exactly one of two concurrent redemptions through', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    const replies = await Promise.all([redeem(browser(runtime), desk.member.user.username, code), redeem(browser(runtime), desk.member.user.username, code)]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(replies.find((r) => r.status === 409)!.body.error).toBe('recovery_code_used');
    expect((await auditRows(runtime, 'recovery.code_redeemed')).filter((row) => row.details.case_id === caseId)).toHaveLength(1);
  });

  it('lets exactly one of two concurrent enrollments with one grant through', async () => {
    const desk = await recoveryDesk(runtime);
    const { grant, caseId } = await redeemed(desk);
    const [first, second] = [browser(runtime), browser(runtime)];
    const options = await Promise.all([first.post('/api/recovery/passkey/options', { grant }), second.post('/api/recovery/passkey/options', { grant })]);
    const [a, b] = [new SoftAuthenticator(), new SoftAuthenticator()];
    const replies = await Promise.all([
      first.post('/api/recovery/passkey/verify', { grant, credential: a.createCredential(options[0]!.body as never, { origin: origin(runtime) }) }),
      second.post('/api/recovery/passkey/verify', { grant, credential: b.createCredential(options[1]!.body as never, { origin: origin(runtime) }) }),
    ]);
    expect(replies.map((r) => r.status).sort()).toEqual([201, 400]);
    expect(replies.find((r) => r.status === 400)!.body.error).toBe('recovery_grant_invalid');
    expect(await runtime.db.selectFrom('webauthn_credentials').select('id').where('user_id', '=', desk.member.user.id).where('revoked_at', 'is', null).execute()).toHaveLength(1);
    expect((await auditRows(runtime, 'recovery.completed')).filter((row) => row.details.case_id === caseId)).toHaveLength(1);
  });

  it('keeps the grant usable when the new passkey fails verification', async () => {
    const desk = await recoveryDesk(runtime);
    const { grant, client, caseId } = await redeemed(desk);
    const options = await client.post('/api/recovery/passkey/options', { grant });
    const phished = new SoftAuthenticator().createCredential(options.body as never, { origin: 'https://warta.example.evil' });
    const refused = await client.post('/api/recovery/passkey/verify', { grant, credential: phished });
    expect(refused.status).toBe(400);
    expect((await caseRow(runtime, caseId)).status).toBe('redeemed');
    expect((await auditRows(runtime, 'passkey.registration_failed')).at(-1)).toMatchObject({ subject: `user:${desk.member.user.id}` });
    expect((await enrollWithGrant(runtime, client, grant)).reply.status).toBe(201);
  });

  it('refuses a grant that took too long, and a made-up one', async () => {
    const desk = await recoveryDesk(runtime);
    const { grant, client, caseId } = await redeemed(desk);
    runtime.clock.advance(15 * 60);
    const late = await client.post('/api/recovery/passkey/options', { grant });
    expect(late.status).toBe(410);
    expect(late.body.error).toBe('recovery_grant_expired');
    expect((await client.post('/api/recovery/passkey/options', { grant: 'x'.repeat(43) })).body.error).toBe('recovery_grant_invalid');
    expect((await caseRow(runtime, caseId)).status).toBe('redeemed');
    expect((await signIn(runtime, browser(runtime), desk.member.authenticator)).status).toBe(200);
  });

  it('keeps the old credentials (not the old sessions) when the organisation’s policy says so', async () => {
    const desk = await recoveryDesk(runtime, { recoveryRevokesOldCredentials: false });
    const { grant, client } = await redeemed(desk);
    expect((await enrollWithGrant(runtime, client, grant)).reply.status).toBe(201);
    expect((await client.get('/api/account/passkeys')).body.passkeys).toHaveLength(2);
    expect((await desk.member.client.get('/api/account/passkeys')).status).toBe(401);
    expect((await signIn(runtime, browser(runtime), desk.member.authenticator)).status).toBe(200);
  });

  it('refuses a disabled account’s code: account_disabled only for the right code, a wrong one like any wrong one', async () => {
    const desk = await recoveryDesk(runtime);
    const { code } = await approvedCase(desk);
    await runtime.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', desk.member.user.id).execute();
    expect((await redeem(browser(runtime), desk.member.user.username, wrongCodes(code, 1)[0]!)).body.error).toBe('invalid_recovery_code');
    expect((await redeem(browser(runtime), desk.member.user.username, code)).body.error).toBe('account_disabled');
  });

  it('stops working when an officer rejects the case after approval', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    expect((await desk.officerC.client.post(`/api/recovery/cases/${caseId}/reject`, { desk: DESKS[0], reason: 'Person left before the code was handed over.' })).status).toBe(200);
    const reply = await redeem(browser(runtime), desk.member.user.username, code);
    expect(reply.status).toBe(410);
    expect(reply.body.error).toBe('recovery_case_closed');
  });
});

describe('recovering with a password and an authenticator app', () => {
  it('sets both up, revokes the old passkey and signs in with pwd + otp', async () => {
    const desk = await recoveryDesk(runtime);
    const { grant, client, caseId } = await redeemed(desk);
    const setup = await client.post('/api/recovery/password/start', { grant });
    expect(setup.status, JSON.stringify(setup.body)).toBe(200);
    expect(setup.body).toMatchObject({ username: desk.member.user.username, digits: 6, period: 30 });
    const secret = secretFromDisplay(setup.body.secret);

    const wrongCode = await client.post('/api/recovery/password', { grant, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock, 5) });
    expect(wrongCode.body.error).toBe('invalid_code');
    expect((await caseRow(runtime, caseId)).status).toBe('redeemed');

    const done = await client.post('/api/recovery/password', { grant, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect(done.body.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect((await caseRow(runtime, caseId)).status).toBe('completed');
    expect((await signIn(runtime, browser(runtime), desk.member.authenticator)).body.error).toBe('credential_revoked');

    runtime.clock.advance(30);
    const signedIn = await browser(runtime).post('/api/signin/password', { username: desk.member.user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect((await auditRows(runtime, 'recovery.completed')).at(-1)).toMatchObject({ details: { case_id: caseId, method: 'password_totp', revoked: { passkeys: 1 } } });
  });

  it('is refused to roles that must use a passkey, and offered only where the organisation allows passwords', async () => {
    const desk = await recoveryDesk(runtime);
    const aboutOfficer = await openedCase(desk.officerA, desk.officerC.user.id);
    await adminCoApproves(runtime, desk.organisation.id, aboutOfficer);
    const code = (await approve(desk.officerB, aboutOfficer)).body.code as string;
    const client = browser(runtime);
    const reply = await redeem(client, desk.officerC.user.username, code);
    expect(reply.body.methods).toEqual(['passkey']);
    const refused = await client.post('/api/recovery/password/start', { grant: reply.body.grant });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('passkey_required');

    const passkeyOnly = await recoveryDesk(runtime, { allowPasswords: false });
    const { code: memberCode } = await approvedCase(passkeyOnly);
    const member = await redeem(browser(runtime), passkeyOnly.member.user.username, memberCode);
    expect(member.body.methods).toEqual(['passkey']);
    expect((await browser(runtime).post('/api/recovery/password', { grant: member.body.grant, password: GOOD_PASSWORD, code: '123456' })).body.error).toBe('passkey_required');
  });
});
