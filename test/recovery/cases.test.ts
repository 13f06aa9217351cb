import { describe, expect, it } from 'vitest';
import { createOrganisation } from '../../src/orgs/service.js';
import { recoveryCodeMatches } from '../../src/recovery/code.js';
import { createTestRuntime, sessionCookie } from '../support/runtime.js';
import { browser, reauthenticate, signIn, TEST_ENV } from '../webauthn/ceremony.js';
import { adminCoApproves, approve, approvedCase, auditRows, caseBody, caseRow, DESKS, enrollPerson, eventTypes, openCase, openedCase, recoveryDesk } from './support.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

const casesAbout = async (userId: string) => runtime.db.selectFrom('recovery_cases').selectAll().where('user_id', '=', userId).execute();

/** A client signed in as `user` with a password + TOTP session (acr mfa: phishable). */
async function passwordSession(user: { id: string }) {
  const client = browser(runtime);
  client.state.cookie = (await sessionCookie(runtime, user as never, ['pwd', 'otp', 'mfa'])).split('=')[1];
  return client;
}

describe('opening a recovery case', () => {
  it('records the identity check and the reason, and tells the user with a security event', async () => {
    const desk = await recoveryDesk(runtime);
    const reply = await openCase(desk.officerA, desk.member.user.id);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.case).toMatchObject({
      status: 'pending',
      user: { id: desk.member.user.id, username: desk.member.user.username },
      identity_check: { document_type: 'national_id', document_last4: '4KX9', note: 'Photo matches.' },
      reason: 'Phone stolen on 20 November; security key lost.',
      opened: { by: { id: desk.officerA.user.id }, desk: DESKS[0] },
      approved: null,
    });
    const [opened] = await auditRows(runtime, 'recovery.opened');
    expect(opened).toMatchObject({ actor: `user:${desk.officerA.user.id}`, subject: `user:${desk.member.user.id}`, details: { case_id: reply.body.case.id, desk: DESKS[0] } });
    expect(await eventTypes(runtime, desk.member.user.id)).toEqual(['recovery_opened']);
  });

  it.each(['12345', 'AB1', '4KX-9', 'ABC123456', '', 'ŁÓDŹ'])('refuses "%s" as the document digits: only exactly 4 letters or digits, never a whole number', async (digits) => {
    const desk = await recoveryDesk(runtime);
    const reply = await openCase(desk.officerA, desk.member.user.id, { document_last4: digits });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('document_last4_invalid');
    expect(await casesAbout(desk.member.user.id)).toEqual([]);
    const refused = (await auditRows(runtime, 'recovery.refused')).at(-1);
    expect(refused).toMatchObject({ actor: `user:${desk.officerA.user.id}`, outcome: 'failure', details: { attempted: 'open', reason: 'document_last4_invalid' } });
    expect(JSON.stringify(refused)).not.toContain('ABC123456');
  });

  it('refuses an unknown document type, a missing reason and a desk that is not the organisation’s', async () => {
    const desk = await recoveryDesk(runtime);
    expect((await openCase(desk.officerA, desk.member.user.id, { document_type: 'library_card' })).body.error).toBe('invalid_request');
    expect((await openCase(desk.officerA, desk.member.user.id, { reason: '   ' })).body.error).toBe('invalid_request');
    expect((await openCase(desk.officerA, desk.member.user.id, { desk: 'Kraków — Desk 9' })).body.error).toBe('recovery_desk_unknown');
    expect((await openCase(desk.officerA, desk.member.user.id, { desk: undefined })).body.error).toBe('recovery_desk_required');
    expect(await casesAbout(desk.member.user.id)).toEqual([]);
  });

  it('accepts a typed desk name when the organisation lists no desks', async () => {
    const desk = await recoveryDesk(runtime, { recoveryDesks: [] });
    const reply = await openCase(desk.officerA, desk.member.user.id, { desk: '  Room 12,   ground floor ' });
    expect(reply.status).toBe(201);
    expect(reply.body.case.opened.desk).toBe('Room 12, ground floor');
  });

  it('refuses a person from another organisation as if they did not exist', async () => {
    const desk = await recoveryDesk(runtime);
    const other = await createOrganisation(runtime, { actor: 'test' }, { name: `Other Ministry ${Math.random()}` });
    const stranger = await enrollPerson(runtime, other.id);
    const reply = await openCase(desk.officerA, stranger.user.id);
    expect(reply.status).toBe(404);
    expect(reply.body.error).toBe('user_not_found');
    expect(await casesAbout(stranger.user.id)).toEqual([]);
    expect((await openCase(desk.officerA, 'not-a-uuid')).body.error).toBe('user_not_found');
  });

  it('refuses a case about oneself', async () => {
    const desk = await recoveryDesk(runtime);
    const reply = await openCase(desk.officerA, desk.officerA.user.id);
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('recovery_self_case');
    expect(await casesAbout(desk.officerA.user.id)).toEqual([]);
  });

  it('refuses someone without the recovery_officer role, and audits it', async () => {
    const desk = await recoveryDesk(runtime);
    const colleague = await enrollPerson(runtime, desk.organisation.id);
    const reply = await openCase(colleague, desk.member.user.id);
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('forbidden');
    expect(await casesAbout(desk.member.user.id)).toEqual([]);
    expect((await auditRows(runtime, 'recovery.refused')).at(-1)).toMatchObject({ subject: `user:${colleague.user.id}`, details: { attempted: 'console', reason: 'forbidden' } });
  });

  it('refuses an officer whose session is not phishing-resistant (signed in with a password)', async () => {
    const desk = await recoveryDesk(runtime);
    const reply = await openCase({ ...desk.officerA, client: await passwordSession(desk.officerA.user) }, desk.member.user.id);
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('phishing_resistant_required');
    expect(await casesAbout(desk.member.user.id)).toEqual([]);
  });

  it('refuses a disabled account', async () => {
    const desk = await recoveryDesk(runtime);
    await runtime.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', desk.member.user.id).execute();
    expect((await openCase(desk.officerA, desk.member.user.id)).body.error).toBe('account_disabled');
  });

  it('allows one open case per person, also when two officers open at the same moment', async () => {
    const desk = await recoveryDesk(runtime);
    const replies = await Promise.all([openCase(desk.officerA, desk.member.user.id), openCase(desk.officerB, desk.member.user.id)]);
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(replies.find((r) => r.status === 409)!.body.error).toBe('recovery_case_open');
    expect(await casesAbout(desk.member.user.id)).toHaveLength(1);
    expect(await eventTypes(runtime, desk.member.user.id)).toEqual(['recovery_opened']);
  });

  it('finds people by name, e-mail or employee number within the officer’s own organisation only', async () => {
    const desk = await recoveryDesk(runtime);
    await runtime.db.updateTable('users').set({ display_name: 'Jan Kowalski', employee_id: 'EMP-4711' }).where('id', '=', desk.member.user.id).execute();
    const other = await createOrganisation(runtime, { actor: 'test' }, { name: `Other Ministry ${Math.random()}` });
    const stranger = await enrollPerson(runtime, other.id);
    await runtime.db.updateTable('users').set({ display_name: 'Jan Kowalski' }).where('id', '=', stranger.user.id).execute();

    const byName = await desk.officerA.client.get('/api/recovery/people?q=kowalski');
    expect(byName.body.people.map((p: { id: string }) => p.id)).toEqual([desk.member.user.id]);
    expect((await desk.officerA.client.get(`/api/recovery/people?q=${encodeURIComponent(desk.member.user.email!)}`)).body.people).toHaveLength(1);
    expect((await desk.officerA.client.get('/api/recovery/people?q=emp-4711')).body.people).toHaveLength(1);
    expect((await desk.officerA.client.get('/api/recovery/people?q=%25%25')).body.people).toEqual([]);
    expect((await desk.officerA.client.get('/api/recovery/people?q=k')).body.error).toBe('invalid_request');
    expect((await auditRows(runtime, 'recovery.people_searched')).some((row) => row.details.query === 'kowalski')).toBe(true);
  });
});

describe('approving a recovery case', () => {
  it('gives the second officer a one-time code, stores only its argon2id hash, and tells the user', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const reply = await approve(desk.officerB, caseId);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const code = reply.body.code as string;
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    const row = await caseRow(runtime, caseId);
    expect(row).toMatchObject({ status: 'approved', approved_by: desk.officerB.user.id, approved_desk: DESKS[1], code_max_attempts: 5 });
    expect(row.code_expires_at!.getTime() - runtime.clock.now().getTime()).toBe(30 * 60 * 1000);
    expect(row.code_hash).toMatch(/^\$argon2id\$/);
    expect(await recoveryCodeMatches(row.code_hash!, code.replaceAll('-', ''))).toBe(true);
    expect(await eventTypes(runtime, desk.member.user.id)).toEqual(['recovery_approved', 'recovery_opened']);

    // The code is nowhere but in that one answer: not in the audit log, the events, the case, nor a second look at the case.
    const canonical = code.replaceAll('-', '');
    const stored = JSON.stringify([await runtime.db.selectFrom('audit_log').selectAll().execute(), await runtime.db.selectFrom('security_events').selectAll().execute(), row]);
    expect(stored).not.toContain(code);
    expect(stored).not.toContain(canonical);
    const again = await desk.officerB.client.get(`/api/recovery/cases/${caseId}`);
    expect(JSON.stringify(again.body)).not.toContain(canonical);
    expect(again.body.case.code).toEqual({ expires_at: row.code_expires_at!.toISOString(), attempts: 0, max_attempts: 5 });
  });

  it('refuses the officer who opened the case, and audits it', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const reply = await approve(desk.officerA, caseId);
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('recovery_self_approval');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
    expect((await auditRows(runtime, 'recovery.refused')).at(-1)).toMatchObject({ actor: `user:${desk.officerA.user.id}`, details: { attempted: 'approve', reason: 'recovery_self_approval', case_id: caseId } });
  });

  it('refuses an officer approving a case about themselves; a third officer may', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.officerB.user.id);
    const refused = await approve(desk.officerB, caseId);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('recovery_self_case');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
    await adminCoApproves(runtime, desk.organisation.id, caseId);
    expect((await approve(desk.officerC, caseId)).status).toBe(200);
  });

  it('refuses a second approval and keeps the first code', async () => {
    const desk = await recoveryDesk(runtime);
    const { caseId } = await approvedCase(desk);
    const before = await caseRow(runtime, caseId);
    const second = await approve(desk.officerC, caseId);
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('recovery_case_not_pending');
    expect(second.body.code).toBeUndefined();
    expect((await caseRow(runtime, caseId)).code_hash).toBe(before.code_hash);
  });

  it('lets exactly one of two concurrent approvals through', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const replies = await Promise.all([approve(desk.officerB, caseId), approve(desk.officerC, caseId)]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = replies.find((r) => r.status === 200)!;
    expect(await recoveryCodeMatches((await caseRow(runtime, caseId)).code_hash!, winner.body.code.replaceAll('-', ''))).toBe(true);
    expect((await auditRows(runtime, 'recovery.approved')).filter((row) => row.details.case_id === caseId)).toHaveLength(1);
    expect(await eventTypes(runtime, desk.member.user.id)).toEqual(['recovery_approved', 'recovery_opened']);
  });

  it('needs a passkey confirmation from the last five minutes', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    runtime.clock.advance(6 * 60);
    const check = await desk.officerB.client.post(`/api/recovery/cases/${caseId}/approval-check`, { desk: DESKS[1] });
    expect(check.body.error).toBe('reauthentication_required');
    const stale = await approve(desk.officerB, caseId);
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe('reauthentication_required');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
    expect((await auditRows(runtime, 'recovery.refused')).at(-1)).toMatchObject({ details: { attempted: 'approve', reason: 'reauthentication_required' } });

    expect((await reauthenticate(runtime, desk.officerB.client, desk.officerB.authenticator)).status).toBe(200);
    expect((await desk.officerB.client.post(`/api/recovery/cases/${caseId}/approval-check`, { desk: DESKS[1] })).body).toEqual({ ok: true });
    expect((await approve(desk.officerB, caseId)).status).toBe(200);
  });

  it('refuses the opener’s desk when the organisation requires two desks, and only then', async () => {
    const strict = await recoveryDesk(runtime, { recoveryRequireDifferentDesk: true });
    const strictCase = await openedCase(strict.officerA, strict.member.user.id);
    const refused = await approve(strict.officerB, strictCase, DESKS[0]);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('recovery_same_desk');
    expect((await caseRow(runtime, strictCase)).status).toBe('pending');
    expect((await approve(strict.officerB, strictCase, DESKS[1])).status).toBe(200);

    const relaxed = await recoveryDesk(runtime);
    const relaxedCase = await openedCase(relaxed.officerA, relaxed.member.user.id);
    expect((await approve(relaxed.officerB, relaxedCase, DESKS[0])).status).toBe(200);
  });

  it('refuses a case of another organisation as if it did not exist', async () => {
    const desk = await recoveryDesk(runtime);
    const elsewhere = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const reply = await approve(elsewhere.officerB, caseId);
    expect(reply.status).toBe(404);
    expect(reply.body.error).toBe('recovery_case_not_found');
    expect((await elsewhere.officerB.client.get(`/api/recovery/cases/${caseId}`)).status).toBe(404);
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
  });

  it('refuses a case that waited longer than the organisation allows', async () => {
    const desk = await recoveryDesk(runtime, { recoveryCaseTtlHours: 2 });
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    runtime.clock.advance(2 * 3600);
    expect((await signIn(runtime, desk.officerB.client, desk.officerB.authenticator)).status).toBe(200);
    const reply = await approve(desk.officerB, caseId);
    expect(reply.status).toBe(410);
    expect(reply.body.error).toBe('recovery_case_expired');
    expect((await caseRow(runtime, caseId)).code_hash).toBeNull();
  });

  it('refuses someone without the role', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const reply = await desk.member.client.post(`/api/recovery/cases/${caseId}/approve`, { desk: DESKS[1] });
    expect(reply.status).toBe(403);
    expect(reply.body.error).toBe('forbidden');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
  });
});

describe('rejecting a recovery case', () => {
  it('closes the case with the officer’s reason and tells the user', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const reply = await desk.officerB.client.post(`/api/recovery/cases/${caseId}/reject`, { desk: DESKS[1], reason: 'Document photo does not match.' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.case).toMatchObject({ status: 'rejected', closed: { by: { id: desk.officerB.user.id }, desk: DESKS[1], reason: 'Document photo does not match.' } });
    expect(await eventTypes(runtime, desk.member.user.id)).toEqual(['recovery_opened', 'recovery_rejected']);
    expect((await auditRows(runtime, 'recovery.rejected')).at(-1)).toMatchObject({ details: { case_id: caseId } });
    expect((await approve(desk.officerB, caseId)).body.error).toBe('recovery_case_not_pending');
  });

  it('refuses rejecting a closed case, or a case about oneself', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    expect((await desk.officerB.client.post(`/api/recovery/cases/${caseId}/reject`, { desk: DESKS[1], reason: 'Wrong person.' })).status).toBe(200);
    const again = await desk.officerC.client.post(`/api/recovery/cases/${caseId}/reject`, { desk: DESKS[1], reason: 'Again.' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('recovery_case_closed');

    const aboutB = await openedCase(desk.officerA, desk.officerB.user.id);
    const self = await desk.officerB.client.post(`/api/recovery/cases/${aboutB}/reject`, { desk: DESKS[1], reason: 'I am fine.' });
    expect(self.body.error).toBe('recovery_self_case');
    expect((await caseRow(runtime, aboutB)).status).toBe('pending');
  });

  it('opens again for a person once their earlier case is closed', async () => {
    const desk = await recoveryDesk(runtime);
    const first = await openedCase(desk.officerA, desk.member.user.id, { document_last4: caseBody('').document_last4 });
    await desk.officerB.client.post(`/api/recovery/cases/${first}/reject`, { desk: DESKS[1], reason: 'Came back with a passport.' });
    expect((await openCase(desk.officerA, desk.member.user.id, { document_type: 'passport' })).status).toBe(201);
  });
});
