/**
 * Role changes for people already here, over real HTTP: a privileged grant or
 * a privileged re-enable waits for a second admin, who is neither the one who
 * asked nor the person; taking a role away is one admin's, announced to the
 * others, and never leaves an organisation without an active admin.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { approveRoleRequestCommand, listRoleRequestsCommand, setRoleCommand } from '../../src/cli/commands/roles.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { expireRoleRequests } from '../../src/people/role-requests.js';
import { userRoles } from '../../src/users/service.js';
import { auditOf, cli, peopleServer, userRow } from './support.js';

const { runtime, enroll, organisation, admin, secondAdmin, officer, otherAdmin } = await peopleServer();
const thirdAdmin = await enroll(organisation.id, 'admin');
type Person = typeof admin;

const grant = (who: Person, personId: string, role: string, reason = 'runs the recovery desk now') => who.client.post(`/api/admin/people/${personId}/roles`, { role, reason });
const revoke = (who: Person, personId: string, role: string, reason = 'moved to another team') => who.client.call('DELETE', `/api/admin/people/${personId}/roles/${role}`, { reason });
const approve = (who: Person, requestId: string) => who.client.post(`/api/admin/role-requests/${requestId}/approve`);
const rolesOf = (person: Person) => userRoles(runtime.db, person.user.id);
const requestRow = (id: string) => runtime.db.selectFrom('role_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** A member, and an admin's pending request to make them a recovery officer. */
async function pendingGrant(asker: Person = admin, role = 'recovery_officer') {
  const member = await enroll(organisation.id, 'member');
  const asked = await grant(asker, member.user.id, role);
  expect(asked.status, JSON.stringify(asked.body)).toBe(202);
  return { member, requestId: asked.body.request.id as string };
}

describe('granting a privileged role', () => {
  it('opens a request that changes nothing until a different admin approves it; then the grant is announced', async () => {
    const { member, requestId } = await pendingGrant();
    expect(await rolesOf(member)).toEqual(['member']);
    const listed = await secondAdmin.client.get('/api/admin/role-requests');
    expect(listed.body.role_requests).toContainEqual(expect.objectContaining({ id: requestId, kind: 'grant', role: 'recovery_officer', person_id: member.user.id, requested_by: admin.user.id, status: 'pending' }));

    const approved = await approve(secondAdmin, requestId);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.person.roles).toEqual(['member', 'recovery_officer']);
    expect(await rolesOf(member)).toEqual(['member', 'recovery_officer']);
    expect(await requestRow(requestId)).toMatchObject({ status: 'approved', decided_by: secondAdmin.user.id });

    const events = await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', member.user.id).where('type', '=', 'role_granted').execute();
    expect(events.map((e) => e.details)).toEqual([expect.objectContaining({ role: 'recovery_officer', grantedBy: `user:${admin.user.id}`, approvedBy: `user:${secondAdmin.user.id}` })]);
    expect(await auditOf(runtime, 'role.granted', `user:${member.user.id}`)).toEqual([
      expect.objectContaining({ outcome: 'success', details: expect.objectContaining({ role: 'recovery_officer', granted_by: `user:${admin.user.id}`, approved_by: `user:${secondAdmin.user.id}` }) }),
    ]);
    expect((await auditOf(runtime, 'role_request.opened', `user:${member.user.id}`))[0]).toMatchObject({ actor: `user:${admin.user.id}`, details: { request_id: requestId, reason: 'runs the recovery desk now' } });
    expect((await secondAdmin.client.get('/api/admin/role-requests')).body.role_requests.map((r: { id: string }) => r.id)).not.toContain(requestId);
  });

  it('refuses the admin who asked to approve their own request, and audits the refusal', async () => {
    const { member, requestId } = await pendingGrant();
    const refused = await approve(admin, requestId);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('role_request_self_approval');
    expect(await rolesOf(member)).toEqual(['member']);
    expect(await requestRow(requestId)).toMatchObject({ status: 'pending', decided_by: null });
    expect(await auditOf(runtime, 'role_request.approval_refused', `role_request:${requestId}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}`, outcome: 'failure', details: { reason: 'role_request_self_approval' } })]);
  });

  it('refuses the person the request is about to approve it', async () => {
    // An admin asks to make another admin a recovery officer as well: that admin may not approve it.
    const asked = await grant(admin, thirdAdmin.user.id, 'recovery_officer');
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const refused = await approve(thirdAdmin, asked.body.request.id);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('role_request_about_self');
    expect(await rolesOf(thirdAdmin)).toEqual(['admin']);
  });

  it("answers another organisation's admin 404, for the request and for the person", async () => {
    const { member, requestId } = await pendingGrant();
    const foreign = await approve(otherAdmin, requestId);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toBe('role_request_not_found');
    expect((await grant(otherAdmin, member.user.id, 'admin')).status).toBe(404);
    expect((await revoke(otherAdmin, officer.user.id, 'recovery_officer')).status).toBe(404);
    expect((await otherAdmin.client.get('/api/admin/role-requests')).body.role_requests.map((r: { id: string }) => r.id)).not.toContain(requestId);
    expect(await requestRow(requestId)).toMatchObject({ status: 'pending' });
  });

  it('refuses a request whose time ran out, and the sweep closes it', async () => {
    const { member, requestId } = await pendingGrant();
    await runtime.db.updateTable('role_requests').set({ expires_at: new Date(runtime.clock.now().getTime() - 1000) }).where('id', '=', requestId).execute();
    expect((await secondAdmin.client.get('/api/admin/role-requests')).body.role_requests.map((r: { id: string }) => r.id)).not.toContain(requestId);
    const refused = await approve(secondAdmin, requestId);
    expect(refused.status).toBe(410);
    expect(refused.body.error).toBe('role_request_expired');
    expect(await rolesOf(member)).toEqual(['member']);
    expect(await expireRoleRequests(runtime)).toBeGreaterThanOrEqual(1);
    expect(await requestRow(requestId)).toMatchObject({ status: 'expired' });
    expect(await auditOf(runtime, 'role_request.expired', `user:${member.user.id}`)).toEqual([expect.objectContaining({ actor: 'system', details: expect.objectContaining({ request_id: requestId }) })]);
    // An expired ask does not block a fresh one.
    expect((await grant(admin, member.user.id, 'recovery_officer')).status).toBe(202);
  });

  it('of two approvals at once, exactly one wins and the role is granted once', async () => {
    const { member, requestId } = await pendingGrant();
    const replies = await Promise.all([approve(secondAdmin, requestId), approve(thirdAdmin, requestId)]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(replies.find((r) => r.status === 409)!.body.error).toBe('role_request_not_pending');
    expect(await rolesOf(member)).toEqual(['member', 'recovery_officer']);
    expect((await auditOf(runtime, 'role.granted', `user:${member.user.id}`)).filter((e) => e.outcome === 'success')).toHaveLength(1);
  });

  it('refuses a second ask for the same change while the first waits', async () => {
    const { member } = await pendingGrant();
    const again = await grant(secondAdmin, member.user.id, 'recovery_officer');
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('role_request_pending');
  });

  it('a request dies with its asker’s admin role', async () => {
    const asker = await enroll(organisation.id, 'admin');
    const { member, requestId } = await pendingGrant(asker);
    expect((await revoke(secondAdmin, asker.user.id, 'admin')).status).toBe(200);
    const refused = await approve(thirdAdmin, requestId);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('role_request_requester_not_admin');
    expect(await rolesOf(member)).toEqual(['member']);
  });

  it('refuses operator (the instance’s role) and member (everyone’s), and an admin asking for themselves', async () => {
    const member = await enroll(organisation.id, 'member');
    const operator = await grant(admin, member.user.id, 'operator');
    expect([operator.status, operator.body.error]).toEqual([403, 'operator_required']);
    const everyone = await grant(admin, member.user.id, 'member');
    expect([everyone.status, everyone.body.error]).toEqual([400, 'invalid_role']);
    const self = await grant(admin, admin.user.id, 'recovery_officer');
    expect([self.status, self.body.error]).toEqual([403, 'cannot_act_on_self']);
    expect(await runtime.db.selectFrom('role_requests').select('id').where('user_id', 'in', [member.user.id, admin.user.id]).execute()).toEqual([]);
    expect((await auditOf(runtime, 'role.granted', `user:${member.user.id}`)).map((e) => e.details)).toEqual([expect.objectContaining({ reason: 'operator_required' }), expect.objectContaining({ reason: 'invalid_role' })]);
  });
});

describe('taking a role away', () => {
  it('is one admin’s act, takes effect on the next request, is sent as role_revoked and told to the other admins', async () => {
    const demoted = await enroll(organisation.id, 'admin');
    expect((await demoted.client.get('/api/admin/people')).status).toBe(200);
    const revoked = await revoke(admin, demoted.user.id, 'admin');
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body).toMatchObject({ role: 'admin', status: 'revoked', roles: ['member'] });
    expect(await rolesOf(demoted)).toEqual(['member']);
    // The same session, the very next request: the role is read afresh.
    const after = await demoted.client.get('/api/admin/people');
    expect([after.status, after.body.error]).toEqual([403, 'forbidden']);

    const own = await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', demoted.user.id).where('type', '=', 'role_revoked').execute();
    expect(own.map((e) => e.details)).toEqual([{ role: 'admin', revokedBy: `user:${admin.user.id}`, displayName: demoted.user.display_name }]);
    const told = await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', secondAdmin.user.id).where('type', '=', 'organisation_changed').execute();
    expect(told.map((e) => e.details)).toContainEqual({ change: 'role_revoked', personName: demoted.user.display_name, role: 'admin', changedBy: admin.user.display_name });
    expect(await auditOf(runtime, 'role.revoked', `user:${demoted.user.id}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}`, outcome: 'success', details: expect.objectContaining({ role: 'admin', reason: 'moved to another team' }) })]);
  });

  it('refuses an admin taking away their own admin role', async () => {
    const refused = await revoke(admin, admin.user.id, 'admin');
    expect([refused.status, refused.body.error]).toEqual([403, 'cannot_act_on_self']);
    expect(await rolesOf(admin)).toEqual(['admin']);
  });

  it("refuses to take away an organisation's last active admin, even from the CLI", async () => {
    const lonely = await createOrganisation(runtime, { actor: 'test' }, { name: `Lonely ${randomBytes(3).toString('hex')}` });
    const first = await enroll(lonely.id, 'admin');
    const second = await enroll(lonely.id, 'admin');
    expect((await revoke(second, first.user.id, 'admin')).status).toBe(200);
    await expect(setRoleCommand.run({ username: second.user.username, role: 'admin', remove: true, reason: 'x' }, cli(runtime))).rejects.toMatchObject({ code: 'last_admin' });
    expect(await rolesOf(second)).toEqual(['admin']);
    expect((await auditOf(runtime, 'role.revoked', `user:${second.user.id}`)).at(-1)).toMatchObject({ actor: 'cli', outcome: 'failure', details: { reason: 'last_admin' } });
  });

  it('refuses a role the person does not hold, and the operator role to an admin', async () => {
    const member = await enroll(organisation.id, 'member');
    const missing = await revoke(admin, member.user.id, 'recovery_officer');
    expect([missing.status, missing.body.error]).toEqual([409, 'role_not_held']);
    await runtime.db.insertInto('user_roles').values({ user_id: member.user.id, role: 'operator', granted_at: runtime.clock.now() }).execute();
    const operator = await revoke(admin, member.user.id, 'operator');
    expect([operator.status, operator.body.error]).toEqual([403, 'operator_required']);
    expect(await rolesOf(member)).toEqual(['member', 'operator']);
  });
});

describe('re-enabling a privileged person', () => {
  it('one admin’s enable opens a request; a second admin’s approval enables them', async () => {
    const privileged = await enroll(organisation.id, 'recovery_officer');
    expect((await admin.client.post(`/api/admin/people/${privileged.user.id}/disable`, { reason: 'investigation' })).status).toBe(200);
    const asked = await admin.client.post(`/api/admin/people/${privileged.user.id}/enable`, { reason: 'cleared' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body).toMatchObject({ status: 'awaiting_approval', request: { kind: 'enable', role: null, reason: 'cleared' } });
    expect((await userRow(runtime, privileged.user.id)).status).toBe('disabled');

    const self = await approve(admin, asked.body.request.id);
    expect([self.status, self.body.error]).toEqual([403, 'role_request_self_approval']);
    expect((await userRow(runtime, privileged.user.id)).status).toBe('disabled');

    const approved = await approve(secondAdmin, asked.body.request.id);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect((await userRow(runtime, privileged.user.id)).status).toBe('active');
    expect((await auditOf(runtime, 'person.enabled', `user:${privileged.user.id}`)).at(-1)).toMatchObject({
      actor: `user:${secondAdmin.user.id}`,
      outcome: 'success',
      details: expect.objectContaining({ reason: 'cleared', requested_by: `user:${admin.user.id}`, approved_by: `user:${secondAdmin.user.id}` }),
    });
  });

  it('a person holding operator is re-enabled only by the operator', async () => {
    const person = await enroll(organisation.id, 'admin');
    await runtime.db.insertInto('user_roles').values({ user_id: person.user.id, role: 'operator', granted_at: runtime.clock.now() }).execute();
    expect((await admin.client.post(`/api/admin/people/${person.user.id}/disable`, { reason: 'investigation' })).status).toBe(200);
    const refused = await admin.client.post(`/api/admin/people/${person.user.id}/enable`, { reason: 'cleared' });
    expect([refused.status, refused.body.error]).toEqual([403, 'operator_required']);
    expect(await runtime.db.selectFrom('role_requests').select('id').where('user_id', '=', person.user.id).execute()).toEqual([]);
  });
});

describe('the warta user role commands', () => {
  it('set-role grants at once (operator included) and takes away; role-requests lists and approve-request applies, all audited as cli', async () => {
    const io = cli(runtime);
    const member = await enroll(organisation.id, 'member');
    const username = member.user.username;
    expect(await setRoleCommand.run({ username, role: 'recovery_officer', reason: 'desk' }, io)).toMatchObject({ status: 'granted', roles: ['member', 'recovery_officer'] });
    expect(await setRoleCommand.run({ username, role: 'operator', reason: 'on call' }, io)).toMatchObject({ status: 'granted' });
    expect(await setRoleCommand.run({ username, role: 'operator', reason: 'off call', remove: true }, io)).toMatchObject({ status: 'revoked', roles: ['member', 'recovery_officer'] });
    expect((await auditOf(runtime, 'role.granted', `user:${member.user.id}`)).map((e) => e.details)).toEqual([
      expect.objectContaining({ role: 'recovery_officer', granted_by: 'cli', approved_by: null }),
      expect.objectContaining({ role: 'operator', granted_by: 'cli' }),
    ]);

    const { member: another, requestId } = await pendingGrant(admin, 'admin');
    const listed = await listRoleRequestsCommand.run({ org: organisation.name }, io);
    expect(listed.role_requests.map((r) => r.id)).toContain(requestId);
    const approved = await approveRoleRequestCommand.run({ id: requestId }, io);
    expect(approved.person.roles).toEqual(['admin', 'member']);
    expect(approveRoleRequestCommand.format(approved)).toContain('now holds admin');
    expect(await requestRow(requestId)).toMatchObject({ status: 'approved', decided_by: null });
    expect((await auditOf(runtime, 'role_request.approved', `user:${another.user.id}`))[0]).toMatchObject({ actor: 'cli', details: expect.objectContaining({ approved_by: 'cli' }) });
  });
});
