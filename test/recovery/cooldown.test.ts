import { describe, expect, it } from 'vitest';
import { setEmailDomains } from '../../src/authority/email-domains.js';
import { createTestRuntime } from '../support/runtime.js';
import { browser, signIn, TEST_ENV } from '../webauthn/ceremony.js';
import { adminCoApproves, approve, auditRows, caseRow, DESKS, enrollPerson, enrollWithGrant, openedCase, type Person, recoveryDesk, redeem } from './support.js';

const runtime = await createTestRuntime({ env: TEST_ENV });
const DAY = 24 * 3600;

/** Officers A and B recover `person` (an admin or officer: an admin co-approves too); returns the person's new client and passkey. */
async function recover(desk: Awaited<ReturnType<typeof recoveryDesk>>, person: Person) {
  const caseId = await openedCase(desk.officerA, person.user.id);
  await adminCoApproves(runtime, desk.organisation.id, caseId);
  const code = (await approve(desk.officerB, caseId)).body.code as string;
  const client = browser(runtime);
  const grant = (await redeem(client, person.user.username, code)).body.grant as string;
  const { reply, authenticator } = await enrollWithGrant(runtime, client, grant);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return { client, authenticator };
}

const invitation = (email: string) => ({ display_name: 'Ewa Lis', email, role: 'member' });

describe('privileged actions after a recovery', () => {
  it('refuses admin actions during the cooldown (403, audited, nothing changed) and allows them after it', async () => {
    const desk = await recoveryDesk(runtime);
    const admin = await enrollPerson(runtime, desk.organisation.id, 'admin');
    const { client, authenticator } = await recover(desk, admin);

    const listed = await client.get('/api/admin/invitations');
    expect(listed.status).toBe(403);
    expect(listed.body.error).toBe('recovery_cooldown');
    const invited = await client.post('/api/admin/invitations', invitation('ewa.lis@example.gov'));
    expect(invited.status).toBe(403);
    expect(invited.body.error).toBe('recovery_cooldown');
    expect(await runtime.db.selectFrom('invitations').select('id').where('email', '=', 'ewa.lis@example.gov').execute()).toEqual([]);
    const client_ = await client.post('/api/admin/clients', { client_name: 'Planted', redirect_uris: ['https://planted.example.gov/cb'] });
    expect(client_.body.error).toBe('recovery_cooldown');
    expect((await auditRows(runtime, 'recovery.privilege_refused')).at(-1)).toMatchObject({ actor: `user:${admin.user.id}`, subject: `user:${admin.user.id}`, outcome: 'failure', details: { path: '/api/admin/clients' } });

    await setEmailDomains(runtime, { actor: 'test' }, { organisationId: desk.organisation.id, domains: ['example.gov'] });
    runtime.clock.advance(DAY - 60);
    expect((await signIn(runtime, client, authenticator)).status).toBe(200);
    expect((await client.get('/api/admin/invitations')).body.error).toBe('recovery_cooldown');
    runtime.clock.advance(60);
    expect((await client.get('/api/admin/invitations')).status).toBe(200);
    const afterwards = await client.post('/api/admin/invitations', invitation('ewa.lis@example.gov'));
    expect(afterwards.status, JSON.stringify(afterwards.body)).toBe(201);
  });

  it('refuses officer case actions during the cooldown and allows them after it', async () => {
    const desk = await recoveryDesk(runtime);
    const { client, authenticator } = await recover(desk, desk.officerC);
    const other = await enrollPerson(runtime, desk.organisation.id);
    const caseId = await openedCase(desk.officerA, other.user.id);

    const approval = await client.post(`/api/recovery/cases/${caseId}/approve`, { desk: DESKS[1] });
    expect(approval.status).toBe(403);
    expect(approval.body.error).toBe('recovery_cooldown');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
    expect((await client.get('/api/recovery/cases')).body.error).toBe('recovery_cooldown');
    expect((await client.get('/recovery')).status).toBe(403);
    expect((await auditRows(runtime, 'recovery.privilege_refused')).at(-1)).toMatchObject({ subject: `user:${desk.officerC.user.id}`, details: { path: '/recovery' } });

    runtime.clock.advance(DAY);
    expect((await signIn(runtime, client, authenticator)).status).toBe(200);
    expect((await signIn(runtime, desk.officerA.client, desk.officerA.authenticator)).status).toBe(200);
    const later = await openedCase(desk.officerA, (await enrollPerson(runtime, desk.organisation.id)).user.id);
    const approved = await client.post(`/api/recovery/cases/${later}/approve`, { desk: DESKS[1] });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  });

  it('holds nobody who was not recovered', async () => {
    const desk = await recoveryDesk(runtime);
    expect((await desk.officerA.client.get('/api/recovery/cases')).status).toBe(200);
  });
});
