import { describe, expect, it } from 'vitest';
import { createTestRuntime } from '../support/runtime.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { browser, TEST_ENV } from '../webauthn/ceremony.js';
import { approvedCase, auditRows, caseAuditActions, caseRow, DESKS, enrollWithGrant, eventTypes, openedCase, recoveryDesk, redeem } from './support.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

describe('a recovery seen from a device that still works', () => {
  it('is announced on the account page and in the API, with the desk and never the officers or the document', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const page = await desk.member.client.get('/account');
    const html = page.body.text as string;
    expect(html).toContain(`A recovery was opened for your account at desk “${DESKS[0]}”`);
    expect(html).toContain(`data-case-id="${caseId}"`);
    expect(html).toContain('Cancel this recovery');
    expect(html).toContain('<script src="/static/recovery-account.js" defer=""></script>');

    const api = await desk.member.client.get('/api/account/recovery');
    expect(api.body.cases).toEqual([expect.objectContaining({ id: caseId, status: 'pending', opened_desk: DESKS[0], approved_desk: null })]);
    expect(JSON.stringify(api.body)).not.toContain('4KX9');
    expect(JSON.stringify(api.body)).not.toContain(desk.officerA.user.id);

    expect((await desk.officerB.client.get('/account')).body.text).not.toContain('A recovery was opened');
  });

  it('can be stopped by the user from any signed-in session: disputed, audited, raised, and the code is on hold', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    const reply = await desk.member.client.post(`/api/account/recovery/${caseId}/cancel`, {});
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.case).toMatchObject({ id: caseId, status: 'disputed' });
    expect(await caseRow(runtime, caseId)).toMatchObject({ status: 'disputed', disputed_from: 'approved', closed_at: null });
    expect((await auditRows(runtime, 'recovery.disputed')).at(-1)).toMatchObject({ actor: `user:${desk.member.user.id}`, details: { case_id: caseId } });
    const disputed = await runtime.db.selectFrom('security_events').selectAll().where('user_id', '=', desk.member.user.id).where('type', '=', 'recovery_disputed').executeTakeFirstOrThrow();
    expect(disputed).toMatchObject({ initiating_entity: 'user', details: { caseId } });
    expect((await redeem(browser(runtime), desk.member.user.username, code)).body.error).toBe('recovery_case_disputed');
  });

  it('cannot be stopped by someone else, twice, or once the code was used', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const stranger = await desk.officerB.client.post(`/api/account/recovery/${caseId}/cancel`, {});
    expect(stranger.status).toBe(404);
    expect(stranger.body.error).toBe('recovery_case_not_found');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
    expect((await browser(runtime).post(`/api/account/recovery/${caseId}/cancel`, {})).status).toBe(401);
    expect((await desk.member.client.post('/api/account/recovery/nonsense/cancel', {})).status).toBe(404);

    expect((await desk.member.client.post(`/api/account/recovery/${caseId}/cancel`, {})).status).toBe(200);
    expect((await desk.member.client.post(`/api/account/recovery/${caseId}/cancel`, {})).status).toBe(409);
    expect(await eventTypes(runtime, desk.member.user.id)).toEqual(['recovery_disputed', 'recovery_opened']);
  });

  it('is refused once the code was redeemed, so an old session cannot veto the enrollment under way', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId, code } = await approvedCase(desk);
    const client = browser(runtime);
    const grant = (await redeem(client, desk.member.user.username, code)).body.grant as string;
    const options = await client.post('/api/recovery/passkey/options', { grant });
    const credential = new SoftAuthenticator().createCredential(options.body as never, { origin: runtime.config.origin });
    const [cancel, complete] = await Promise.all([desk.member.client.post(`/api/account/recovery/${caseId}/cancel`, {}), client.post('/api/recovery/passkey/verify', { grant, credential })]);
    expect([cancel.status, complete.status]).toEqual([409, 201]);
    expect(cancel.body.error).toBe('recovery_code_redeemed');
    expect((await caseRow(runtime, caseId)).status).toBe('completed');
    expect(await caseAuditActions(runtime, caseId)).not.toContain('recovery.disputed');
  });

  it('is not shown once it is finished', async () => {
    const desk = await recoveryDesk(runtime);
    const { code } = await approvedCase(desk);
    const client = browser(runtime);
    const grant = (await redeem(client, desk.member.user.username, code)).body.grant as string;
    expect((await enrollWithGrant(runtime, client, grant)).reply.status).toBe(201);
    expect((await client.get('/api/account/recovery')).body.cases).toEqual([]);
    expect((await client.get('/account')).body.text).not.toContain('A recovery was opened');
  });
});
