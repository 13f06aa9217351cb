import { describe, expect, it } from 'vitest';
import { sealAuditLog, verifyAuditChain } from '../../src/audit/audit.js';
import { createTestRuntime } from '../support/runtime.js';
import { browser, type Reply, signIn, TEST_ENV } from '../webauthn/ceremony.js';
import { approvedCase, auditRows, caseAuditActions, DESKS, enrollPerson, enrollWithGrant, openedCase, recoveryDesk, redeem } from './support.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

/** An organisation with a completed case (A opened, B approved), then a day later a pending one opened by C, and its admin. */
async function history() {
  const desk = await recoveryDesk(runtime);
  const admin = await enrollPerson(runtime, desk.organisation.id, 'admin');
  const second = await enrollPerson(runtime, desk.organisation.id);
  const completed = await approvedCase(desk);
  const client = browser(runtime);
  const grant = (await redeem(client, desk.member.user.username, completed.code)).body.grant as string;
  expect((await enrollWithGrant(runtime, client, grant)).reply.status).toBe(201);
  const dayOne = runtime.clock.now();
  runtime.clock.advance(86400);
  for (const person of [admin, desk.officerC]) expect((await signIn(runtime, person.client, person.authenticator)).status).toBe(200);
  const pending = await openedCase(desk.officerC, second.user.id);
  return { desk, admin, second, completedId: completed.caseId, pendingId: pending, dayOne };
}

const ids = (reply: Reply): string[] => reply.body.cases.map((c: { id: string }) => c.id);

describe('recovery case reports for admins', () => {
  it('lists the organisation’s cases, newest first, with every step and no secret', async () => {
    const { admin, desk, completedId, pendingId } = await history();
    const reply = await admin.client.get('/api/admin/recovery-cases');
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(ids(reply)).toEqual([pendingId, completedId]);
    expect(reply.body.cases[1]).toMatchObject({
      status: 'completed',
      user: { id: desk.member.user.id },
      opened: { by: { id: desk.officerA.user.id }, desk: DESKS[0] },
      approved: { by: { id: desk.officerB.user.id }, desk: DESKS[1] },
      closed: { by: { id: desk.member.user.id }, reason: 'recovered' },
      identity_check: { document_type: 'national_id', document_last4: '4KX9' },
    });
    expect(reply.body.cases[1].redeemed_at).toEqual(expect.any(String));
    const text = JSON.stringify(reply.body);
    expect(text).not.toContain('argon2');
    expect(text).not.toContain('grant_hash');
  });

  it('filters by status, date range, officer and user', async () => {
    const { admin, desk, second, completedId, pendingId, dayOne } = await history();
    const list = (query: string) => admin.client.get(`/api/admin/recovery-cases?${query}`);
    expect(ids(await list('status=completed'))).toEqual([completedId]);
    expect(ids(await list('status=pending,approved'))).toEqual([pendingId]);
    expect(ids(await list(`from=${encodeURIComponent(new Date(dayOne.getTime() + 1000).toISOString())}`))).toEqual([pendingId]);
    expect(ids(await list(`to=${encodeURIComponent(new Date(dayOne.getTime() + 1000).toISOString())}`))).toEqual([completedId]);
    expect(ids(await list(`officer=${desk.officerB.user.id}`))).toEqual([completedId]);
    expect(ids(await list(`officer=${encodeURIComponent(desk.officerC.user.username)}`))).toEqual([pendingId]);
    expect(ids(await list(`user=${encodeURIComponent(second.user.username)}`))).toEqual([pendingId]);
    expect(ids(await list('limit=1'))).toEqual([pendingId]);
  });

  it('refuses bad filters with a 400 and an unknown person with a 404', async () => {
    const { admin } = await history();
    expect((await admin.client.get('/api/admin/recovery-cases?status=done')).body.error).toBe('invalid_request');
    expect((await admin.client.get('/api/admin/recovery-cases?from=yesterday')).body.error).toBe('invalid_request');
    expect((await admin.client.get('/api/admin/recovery-cases?limit=0')).body.error).toBe('invalid_request');
    expect((await admin.client.get('/api/admin/recovery-cases?officer=nobody@example.gov')).status).toBe(404);
  });

  it('shows only the admin’s own organisation, and only to admins', async () => {
    const { admin, completedId } = await history();
    const elsewhere = await history();
    expect((await signIn(runtime, admin.client, admin.authenticator)).status).toBe(200);
    expect(ids(await admin.client.get('/api/admin/recovery-cases'))).not.toContain(elsewhere.completedId);
    expect(ids(await elsewhere.admin.client.get('/api/admin/recovery-cases'))).not.toContain(completedId);
    const officer = await elsewhere.desk.officerC.client.get('/api/admin/recovery-cases');
    expect(officer.status).toBe(403);
    expect((await browser(runtime).get('/api/admin/recovery-cases')).status).toBe(401);
  });

  it('exports the matching cases as a JSON attachment and audits the export', async () => {
    const { admin, completedId, desk } = await history();
    const reply = await admin.client.get('/api/admin/recovery-cases/export?status=completed');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-disposition')).toBe('attachment; filename="recovery-cases.json"');
    expect(reply.body).toMatchObject({ organisation_id: desk.organisation.id, cases: [expect.objectContaining({ id: completedId })] });
    expect((await auditRows(runtime, 'recovery.cases_exported')).at(-1)).toMatchObject({ actor: `user:${admin.user.id}`, subject: `org:${desk.organisation.id}`, details: { count: 1, filters: { status: ['completed'] } } });
  });

  it('covers every step of a case in the audit log', async () => {
    const { completedId } = await history();
    expect(await caseAuditActions(runtime, completedId)).toEqual(['recovery.opened', 'recovery.approved', 'recovery.code_redeemed', 'recovery.completed']);
    while ((await sealAuditLog(runtime.db, runtime)) > 0);
    expect(await verifyAuditChain(runtime.db, runtime)).toMatchObject({ ok: true, unsealed: 0 });
  });
});

describe('the recovery report: counts for a period', () => {
  type Report = { total: number; by_status: Record<string, number>; by_desk: { desk: string; total: number; by_status: Record<string, number> }[]; by_officer: { id: string; opened: number; approved: number; co_approved: number; closed: number }[] };
  const report = async (who: { client: ReturnType<typeof browser> }, query = '') => {
    const reply = await who.client.get(`/api/admin/recovery-cases/report${query}`);
    return { status: reply.status, body: reply.body as unknown as Report & { error?: string } };
  };

  it('counts the organisation’s cases by outcome, desk and officer, naming no one recovered', async () => {
    const { admin, desk, second, dayOne } = await history();
    const reply = await report(admin);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ total: 2, by_status: { completed: 1, pending: 1 } });
    expect(reply.body.by_desk).toEqual([{ desk: DESKS[0], total: 2, by_status: { completed: 1, pending: 1 } }]);
    const officer = (id: string) => reply.body.by_officer.find((o) => o.id === id);
    expect(officer(desk.officerA.user.id)).toMatchObject({ opened: 1, approved: 0, closed: 0 });
    expect(officer(desk.officerB.user.id)).toMatchObject({ opened: 0, approved: 1 });
    expect(officer(desk.officerC.user.id)).toMatchObject({ opened: 1 });
    // The member completed their own case: they are not an officer who closed it.
    expect(reply.body.by_officer.map((o) => o.id).sort()).toEqual([desk.officerA.user.id, desk.officerB.user.id, desk.officerC.user.id].sort());
    for (const person of [desk.member.user, second.user]) expect(JSON.stringify(reply.body)).not.toContain(person.id);

    const dayTwo = await report(admin, `?from=${encodeURIComponent(new Date(dayOne.getTime() + 1000).toISOString())}`);
    expect(dayTwo.body).toMatchObject({ total: 1, by_status: { pending: 1 } });
    expect(dayTwo.body.by_officer.map((o) => o.id)).toEqual([desk.officerC.user.id]);
  });

  it('counts only the admin’s own organisation', async () => {
    const { desk, completedId } = await history();
    const elsewhere = await history();
    const theirs = await report(elsewhere.admin);
    expect(theirs.body.total).toBe(2);
    const text = JSON.stringify(theirs.body);
    for (const id of [desk.officerA.user.id, desk.officerB.user.id, desk.officerC.user.id, desk.organisation.id, completedId]) expect(text).not.toContain(id);
  });

  it('refuses a malformed period with 400, and an officer with 403', async () => {
    const { admin, desk } = await history();
    for (const query of ['?from=yesterday', '?to=2026-13-45', '?from=2026-02-01&to=2026-01-01']) {
      const reply = await report(admin, query);
      expect(reply.status, query).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
    }
    expect((await report(desk.officerC)).status).toBe(403);
  });
});
