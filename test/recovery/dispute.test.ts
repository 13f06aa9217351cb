import { describe, expect, it } from 'vitest';
import { addReceiver } from '../../src/events/receivers.js';
import { createTestRuntime, testClient } from '../support/runtime.js';
import { browser, signIn, TEST_ENV } from '../webauthn/ceremony.js';
import { approvedCase, auditRows, caseAuditActions, caseRow, DESKS, type Desk, enrollWithGrant, eventTypes, giveRefreshToken, openedCase, recoveryDesk, redeem } from './support.js';

const runtime = await createTestRuntime({ env: TEST_ENV });
const { app } = testClient(runtime);

const refresh = (refreshToken: string, basic: string) =>
  app.request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString() });

/** The owner, at a new device, redeems the code from the slip. */
async function redeemedByOwner(desk: Desk) {
  const { caseId, code } = await approvedCase(desk);
  const owner = browser(runtime);
  const reply = await redeem(owner, desk.member.user.username, code);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return { caseId, code, owner, grant: reply.body.grant as string };
}

const cancel = (desk: Desk, caseId: string) => desk.member.client.post(`/api/account/recovery/${caseId}/cancel`, {});
const resolve = (officer: Desk['officerA'], caseId: string, body: Record<string, unknown>) => officer.client.post(`/api/recovery/cases/${caseId}/resolve`, { desk: DESKS[0], reason: 'Saw the person again with their ID card; they did not cancel.', ...body });

describe('a hijacked session trying to veto a recovery (issue 11, attack 5)', () => {
  it('refuses a cancel from an old session once the code was redeemed, and the owner finishes and stays in', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, owner, grant } = await redeemedByOwner(desk);
    const before = await caseRow(runtime, caseId);

    // The attacker holds the member's old session (desk.member.client).
    const vetoed = await cancel(desk, caseId);
    expect(vetoed.status).toBe(409);
    expect(vetoed.body.error).toBe('recovery_code_redeemed');
    expect(await caseRow(runtime, caseId)).toEqual(before);
    expect((await auditRows(runtime, 'recovery.refused')).at(-1)).toMatchObject({ actor: `user:${desk.member.user.id}`, outcome: 'failure', details: { attempted: 'cancel', reason: 'recovery_code_redeemed', case_id: caseId } });

    const { reply } = await enrollWithGrant(runtime, owner, grant);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect((await owner.get('/api/account/passkeys')).status).toBe(200);
    // And after completion the old session counts for nothing at all.
    expect((await cancel(desk, caseId)).status).toBe(401);
    expect((await owner.post(`/api/account/recovery/${caseId}/cancel`, {})).body.error).toBe('recovery_code_redeemed');
    expect((await caseRow(runtime, caseId)).status).toBe('completed');
  });

  it('ends every old session, grant and refresh token even when the organisation keeps old passkeys, and tells the clients', async () => {
    const desk = await recoveryDesk(runtime, { recoveryRevokesOldCredentials: false });
    const oidc = await giveRefreshToken(runtime, desk.member.user);
    const { caseId, owner, grant } = await redeemedByOwner(desk);
    expect((await enrollWithGrant(runtime, owner, grant)).reply.status).toBe(201);

    expect((await desk.member.client.get('/api/account/passkeys')).status).toBe(401);
    const refreshed = await refresh(oidc.refreshToken, oidc.basic);
    expect(refreshed.status).toBe(400);
    expect(((await refreshed.json()) as { error: string }).error).toBe('invalid_grant');
    expect(await runtime.db.selectFrom('oauth_grants').select('revoked_reason').where('id', '=', oidc.grant.id).executeTakeFirstOrThrow()).toEqual({ revoked_reason: 'account_recovered' });
    expect(await runtime.db.selectFrom('backchannel_logouts').select('client_id').where('user_id', '=', desk.member.user.id).execute()).toEqual([{ client_id: oidc.client.client_id }]);
    expect(await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', desk.member.user.id).where('revoked_at', 'is', null).execute()).toHaveLength(1);
    expect(await eventTypes(runtime, desk.member.user.id)).toContain('sessions_revoked');
    const [completed] = (await auditRows(runtime, 'recovery.completed')).filter((row) => row.details.case_id === caseId);
    expect(completed!.details.revoked).toMatchObject({ passkeys: 0, sessions: 1, grants: 1, backchannel_logouts: 1 });

    // The policy kept the old passkey: a fresh sign-in with it works, the old session does not come back.
    expect((await signIn(runtime, browser(runtime), desk.member.authenticator)).status).toBe(200);
  });
});

describe('a user disputing a recovery before its code was used', () => {
  it('puts the case in disputed (audited, raised), which freezes the code until an officer sees the person', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    const reply = await cancel(desk, caseId);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.case).toMatchObject({ id: caseId, status: 'disputed' });
    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'disputed', disputed_from: 'approved', disputed_at: runtime.clock.now(), closed_at: null });
    expect((await auditRows(runtime, 'recovery.disputed')).at(-1)).toMatchObject({ actor: `user:${desk.member.user.id}`, details: { case_id: caseId, from: 'approved' } });
    const raised = await runtime.db.selectFrom('security_events').selectAll().where('user_id', '=', desk.member.user.id).where('type', '=', 'recovery_disputed').executeTakeFirstOrThrow();
    expect(raised).toMatchObject({ initiating_entity: 'user', details: { caseId } });

    const frozen = await redeem(browser(runtime), desk.member.user.username, code);
    expect(frozen.status).toBe(409);
    expect(frozen.body.error).toBe('recovery_case_disputed');
    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'disputed', grant_hash: null, code_attempts: 0 });

    const again = await cancel(desk, caseId);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('recovery_case_disputed');
    expect((await desk.member.client.get('/api/account/recovery')).body.cases).toEqual([expect.objectContaining({ id: caseId, status: 'disputed' })]);
    expect((await desk.member.client.get('/account')).body.text).toContain('You disputed this recovery');
    // One open case per person: a disputed one still counts.
    expect((await desk.officerC.client.post('/api/recovery/cases', { user_id: desk.member.user.id, desk: DESKS[0], document_type: 'passport', document_last4: 'AB12', reason: 'Again.' })).body.error).toBe('recovery_case_open');
  });

  it('lets an officer who took no part in the case continue it after seeing the person, back where it was', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    expect((await cancel(desk, caseId)).status).toBe(200);

    for (const involved of [desk.officerA, desk.officerB]) {
      const refused = await resolve(involved, caseId, { resolution: 'continue' });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('recovery_dispute_needs_another_officer');
    }
    expect((await caseRow(runtime, caseId)).status).toBe('disputed');
    expect((await auditRows(runtime, 'recovery.refused')).at(-1)).toMatchObject({ details: { attempted: 'resolve', reason: 'recovery_dispute_needs_another_officer', case_id: caseId } });

    const continued = await resolve(desk.officerC, caseId, { resolution: 'continue' });
    expect(continued.status, JSON.stringify(continued.body)).toBe(200);
    expect(continued.body.case).toMatchObject({ id: caseId, status: 'approved' });
    expect((await auditRows(runtime, 'recovery.dispute_resolved')).at(-1)).toMatchObject({ actor: `user:${desk.officerC.user.id}`, details: { case_id: caseId, resolution: 'continue', status: 'approved', desk: DESKS[0] } });
    expect((await redeem(browser(runtime), desk.member.user.username, code)).status).toBe(200);
    expect(await caseAuditActions(runtime, caseId)).toEqual(expect.arrayContaining(['recovery.disputed', 'recovery.dispute_resolved', 'recovery.code_redeemed']));
  });

  it('asks the continuing officer for a fresh passkey confirmation', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    expect((await cancel(desk, caseId)).status).toBe(200);
    runtime.clock.advance(6 * 60);
    const stale = await resolve(desk.officerC, caseId, { resolution: 'continue' });
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe('reauthentication_required');
    expect((await caseRow(runtime, caseId)).status).toBe('disputed');
  });

  it('lets any officer reject a disputed case, and the code never works again', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    expect((await cancel(desk, caseId)).status).toBe(200);
    const rejected = await resolve(desk.officerA, caseId, { resolution: 'reject', reason: 'The person says they never asked for it.' });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    expect(rejected.body.case).toMatchObject({ status: 'rejected' });
    expect((await redeem(browser(runtime), desk.member.user.username, code)).body.error).toBe('recovery_case_closed');
    const bad = await resolve(desk.officerC, caseId, { resolution: 'maybe' });
    expect(bad.status).toBe(400);
  });

  it('refuses to resolve a case that is not disputed', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const refused = await resolve(desk.officerC, caseId, { resolution: 'continue' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('recovery_case_not_disputed');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
  });
});

describe('the recovery security event', () => {
  it('is queued for every receiver of the organisation, whatever types it subscribed to, in the completion transaction', async () => {
    const desk = await recoveryDesk(runtime);
    const context = { actor: 'test' };
    const all = await addReceiver(runtime, context, { organisationId: desk.organisation.id, url: 'http://127.0.0.1:9/all', audience: 'https://all.example.gov' });
    const narrow = await addReceiver(runtime, context, { organisationId: desk.organisation.id, url: 'http://127.0.0.1:9/narrow', audience: 'https://narrow.example.gov', events: ['device_linked'] });
    const { owner, grant, caseId } = await redeemedByOwner(desk);
    expect((await enrollWithGrant(runtime, owner, grant)).reply.status).toBe(201);

    const recovered = await runtime.db.selectFrom('security_events').selectAll().where('user_id', '=', desk.member.user.id).where('type', '=', 'account_recovered').executeTakeFirstOrThrow();
    expect(recovered.details).toEqual({ caseId });
    const queued = await runtime.db.selectFrom('set_outbox').select(['receiver_id', 'created_at']).where('event_id', '=', recovered.id).orderBy('receiver_id').execute();
    expect(queued.map((row) => row.receiver_id).sort()).toEqual([all.id, narrow.id].sort());
    expect((await caseRow(runtime, caseId)).closed_at).toEqual(recovered.occurred_at);
  });
});
