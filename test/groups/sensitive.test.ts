/**
 * Principle 8 for groups and attributes: no one admin alone gives a person a
 * sensitive attribute value or a sensitive group's membership, clears a flag, or
 * moves a group into or out of a sensitive subtree. Each refusal below is one
 * check in src/change-requests/ or src/groups/, src/attributes/.
 */
import { describe, expect, it } from 'vitest';
import { attributesOf, setAttribute } from '../../src/attributes/service.js';
import { expireChangeRequests } from '../../src/authority/change-requests.js';
import { approveChangeRequestCommand, listChangeRequestsCommand } from '../../src/cli/commands/change-requests.js';
import { addGroupMemberCommand, moveGroupCommand, setAttributeCommand, setGroupSensitiveCommand } from '../../src/cli/commands/groups.js';
import { organisationAdmin, registerClient } from '../../src/clients/service.js';
import { isSensitiveGroup } from '../../src/groups/sensitive.js';
import { addGroupMember, groupPathsOf } from '../../src/groups/service.js';
import { auditOf, cli, peopleServer } from '../people/support.js';

const { runtime, enroll, organisation, other, admin, secondAdmin, otherAdmin } = await peopleServer();
const thirdAdmin = await enroll(organisation.id, 'admin');
type Person = typeof admin;

let counter = 0;
const unique = (name: string) => `${name} ${++counter}`;
const createGroup = async (who: Person, body: Record<string, unknown>) => {
  const reply = await who.client.post('/api/admin/groups', body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body as { id: string; path: string };
};
const addMember = (who: Person, groupId: string, userId: string) => who.client.post(`/api/admin/groups/${groupId}/members`, { user_id: userId, reason: 'joins the desk' });
const removeMember = (who: Person, groupId: string, userId: string) => who.client.call('DELETE', `/api/admin/groups/${groupId}/members/${userId}`);
const patchGroup = (who: Person, groupId: string, body: Record<string, unknown>) => who.client.call('PATCH', `/api/admin/groups/${groupId}`, body);
const setValue = (who: Person, name: string, userId: string, value: unknown) => who.client.call('PUT', `/api/admin/attributes/${name}/values/${userId}`, { value });
const approve = (who: Person, requestId: string) => who.client.post(`/api/admin/change-requests/${requestId}/approve`);
const reject = (who: Person, requestId: string) => who.client.post(`/api/admin/change-requests/${requestId}/reject`);
const requestRow = (id: string) => runtime.db.selectFrom('change_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const groupRow = (id: string) => runtime.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const pathsOfPerson = (person: Person) => groupPathsOf(runtime.db, person.user.id);

/** A top-level group flagged sensitive, with a unit under it. */
async function sensitiveTree() {
  const vault = await createGroup(admin, { name: unique('Vault'), sensitive: true });
  const unit = await createGroup(admin, { name: 'Unit', parent_id: vault.id });
  return { vault, unit };
}

/** An admin's pending request to add a new member to a sensitive group. */
async function pendingMembership(asker: Person = admin) {
  const { vault } = await sensitiveTree();
  const member = await enroll(organisation.id, 'member');
  const asked = await addMember(asker, vault.id, member.user.id);
  expect(asked.status, JSON.stringify(asked.body)).toBe(202);
  return { vault, member, requestId: asked.body.request.id as string };
}

describe('changes that are not sensitive', () => {
  it('still take effect at once: a plain group, a plain attribute, a plain move', async () => {
    const member = await enroll(organisation.id, 'member');
    const team = await createGroup(admin, { name: unique('Team') });
    const added = await addMember(admin, team.id, member.user.id);
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ added: true });
    expect(await admin.client.post('/api/admin/attributes', { name: 'desk_phone', type: 'string' })).toMatchObject({ status: 201, body: { sensitive: false } });
    expect((await setValue(admin, 'desk_phone', member.user.id, '1234')).status).toBe(200);
    const elsewhere = await createGroup(admin, { name: unique('Elsewhere') });
    const moved = await patchGroup(admin, team.id, { parent_id: elsewhere.id });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.path).toBe(`${elsewhere.path}${team.path}`);
    expect(await runtime.db.selectFrom('change_requests').select('id').where('user_id', '=', member.user.id).execute()).toEqual([]);
  });
});

describe('a sensitive attribute', () => {
  it('one admin’s value waits for a second admin; approved, it is set and audited with both', async () => {
    const member = await enroll(organisation.id, 'member');
    expect((await admin.client.post('/api/admin/attributes', { name: 'clearance', type: 'enum', allowed_values: ['restricted', 'secret'] })).status).toBe(201);
    // Flagging raises protection: one admin, at once.
    expect(await admin.client.call('PATCH', '/api/admin/attributes/clearance', { sensitive: true })).toMatchObject({ status: 200, body: { sensitive: true } });
    expect(await auditOf(runtime, 'attribute.flagged_sensitive', `org:${organisation.id}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}` })]);

    const asked = await setValue(admin, 'clearance', member.user.id, 'secret');
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body).toMatchObject({ status: 'awaiting_approval', request: { kind: 'attribute.set', person_id: member.user.id, attribute: 'clearance', change: { value: 'secret' }, status: 'pending' } });
    expect(await attributesOf(runtime.db, member.user.id)).toEqual({});
    expect(await auditOf(runtime, 'change_request.opened', `user:${member.user.id}`)).toHaveLength(1);
    expect((await secondAdmin.client.get('/api/admin/change-requests')).body.change_requests.map((r: { id: string }) => r.id)).toContain(asked.body.request.id);

    const approved = await approve(secondAdmin, asked.body.request.id);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ request: { status: 'approved', decided_by: secondAdmin.user.id }, result: { value: 'secret' } });
    expect(await attributesOf(runtime.db, member.user.id)).toEqual({ clearance: 'secret' });
    expect(await auditOf(runtime, 'attribute.set', `user:${member.user.id}`)).toEqual([
      expect.objectContaining({ actor: `user:${secondAdmin.user.id}`, details: expect.objectContaining({ after: 'secret', requested_by: `user:${admin.user.id}`, approved_by: `user:${secondAdmin.user.id}` }) }),
    ]);
    // Clearing the value is as sensitive as setting it.
    expect((await setValue(admin, 'clearance', member.user.id, null)).status).toBe(202);
    expect(await attributesOf(runtime.db, member.user.id)).toEqual({ clearance: 'secret' });
  });

  it('clearing its flag waits for a second admin', async () => {
    await admin.client.post('/api/admin/attributes', { name: 'vetting', type: 'boolean', sensitive: true });
    const asked = await admin.client.call('PATCH', '/api/admin/attributes/vetting', { sensitive: false, reason: 'no longer vetted' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body.request).toMatchObject({ kind: 'attribute.unflag', attribute: 'vetting' });
    const member = await enroll(organisation.id, 'member');
    expect((await setValue(admin, 'vetting', member.user.id, true)).status).toBe(202);
    expect((await approve(secondAdmin, asked.body.request.id)).status).toBe(200);
    expect((await admin.client.get('/api/admin/attributes')).body.attributes).toContainEqual(expect.objectContaining({ name: 'vetting', sensitive: false, needs_second_admin: false }));
    expect((await setValue(admin, 'vetting', member.user.id, false)).status).toBe(200);
  });

  it('is sensitive, whatever its flag, when a client of the organisation requires it', async () => {
    await admin.client.post('/api/admin/attributes', { name: 'archive_role', type: 'string' });
    const member = await enroll(organisation.id, 'member');
    expect((await setValue(admin, 'archive_role', member.user.id, 'reader')).status).toBe(200);
    await registerClient(runtime, { actor: 'test' }, { client_name: 'Archive', redirect_uris: ['https://archive.example/cb'], required_attributes: { archive_role: ['keeper'] } }, { authority: organisationAdmin(organisation.id) });
    expect((await setValue(admin, 'archive_role', member.user.id, 'keeper')).status).toBe(202);
    expect(await attributesOf(runtime.db, member.user.id)).toMatchObject({ archive_role: 'reader' });
  });

  it('an admin client cannot even ask (person_required, audited)', async () => {
    await admin.client.post('/api/admin/attributes', { name: 'codeword', type: 'string', sensitive: true });
    const member = await enroll(organisation.id, 'member');
    const actor = { kind: 'client' as const, clientId: 'sync-client', organisationId: organisation.id };
    await expect(setAttribute(runtime, { actor: 'client:sync-client' }, { actor, organisationId: organisation.id, userId: member.user.id, name: 'codeword', value: 'x' })).rejects.toMatchObject({ status: 403, code: 'person_required' });
    expect(await auditOf(runtime, 'authority.refused', 'client:sync-client')).toEqual([expect.objectContaining({ outcome: 'failure', details: expect.objectContaining({ reason: 'person_required', act: 'attribute.set' }) })]);
    expect(await runtime.db.selectFrom('change_requests').select('id').where('user_id', '=', member.user.id).execute()).toEqual([]);
  });
});

describe('a sensitive group', () => {
  it('one admin cannot add a person to it, nor to a group under it, nor take them out', async () => {
    const { vault, unit } = await sensitiveTree();
    const member = await enroll(organisation.id, 'member');
    expect(await isSensitiveGroup(runtime.db, organisation.id, unit.id)).toBe(true);
    for (const group of [vault, unit]) {
      const asked = await addMember(admin, group.id, member.user.id);
      expect(asked.status, JSON.stringify(asked.body)).toBe(202);
      expect(asked.body.request).toMatchObject({ kind: 'group.add_member', group_id: group.id, person_id: member.user.id, reason: 'joins the desk' });
    }
    expect(await pathsOfPerson(member)).toEqual([]);
    // The operator adds at once; then leaving waits for a second admin too.
    await addGroupMember(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, organisationId: organisation.id, groupId: unit.id, userId: member.user.id });
    const leave = await removeMember(admin, unit.id, member.user.id);
    expect(leave.status).toBe(202);
    expect(leave.body.request.kind).toBe('group.remove_member');
    expect(await pathsOfPerson(member)).toEqual([vault.path, unit.path]);
  });

  it('is sensitive, whatever its flag, when a client of the organisation requires it or an ancestor', async () => {
    const desk = await createGroup(admin, { name: unique('Desk') });
    const inner = await createGroup(admin, { name: 'Inner', parent_id: desk.id });
    expect(await isSensitiveGroup(runtime.db, organisation.id, inner.id)).toBe(false);
    await registerClient(runtime, { actor: 'test' }, { client_name: 'Desk app', redirect_uris: ['https://desk.example/cb'], required_groups: [desk.path.toUpperCase()] }, { authority: organisationAdmin(organisation.id) });
    expect(await isSensitiveGroup(runtime.db, organisation.id, inner.id)).toBe(true);
    const member = await enroll(organisation.id, 'member');
    expect((await addMember(admin, inner.id, member.user.id)).status).toBe(202);
    const listed = (await admin.client.get('/api/admin/groups')).body.groups;
    expect(listed).toContainEqual(expect.objectContaining({ id: inner.id, sensitive: false, needs_second_admin: true }));
    // Another organisation's client does not make this organisation's group sensitive.
    const foreign = await createGroup(otherAdmin, { name: unique('Desk') });
    expect(await isSensitiveGroup(runtime.db, other.id, foreign.id)).toBe(false);
  });

  it('clearing its flag waits for a second admin; flagging is at once', async () => {
    const { vault, unit } = await sensitiveTree();
    const asked = await patchGroup(admin, vault.id, { sensitive: false });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect((await groupRow(vault.id)).sensitive).toBe(true);
    expect((await approve(secondAdmin, asked.body.request.id)).status).toBe(200);
    expect((await groupRow(vault.id)).sensitive).toBe(false);
    expect(await auditOf(runtime, 'group.unflagged_sensitive', `group:${vault.id}`)).toEqual([expect.objectContaining({ details: expect.objectContaining({ requested_by: `user:${admin.user.id}`, approved_by: `user:${secondAdmin.user.id}` }) })]);
    expect(await patchGroup(admin, unit.id, { sensitive: true })).toMatchObject({ status: 200, body: { sensitive: true } });
  });
});

describe('moving and renaming groups', () => {
  it('moves and renames, audited with the old and new path', async () => {
    const a = await createGroup(admin, { name: unique('Office') });
    const b = await createGroup(admin, { name: unique('Bureau') });
    const moved = await patchGroup(admin, a.id, { parent_id: b.id, name: 'Front office' });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ path: `${b.path}/Front office`, parent_id: b.id });
    expect(await auditOf(runtime, 'group.moved', `group:${a.id}`)).toEqual([expect.objectContaining({ details: expect.objectContaining({ old_path: a.path, new_path: `${b.path}/Front office`, parent_id: b.id, old_parent_id: null }) })]);
    const renamed = await patchGroup(admin, a.id, { name: 'Back office' });
    expect(renamed.body.path).toBe(`${b.path}/Back office`);
    expect(await auditOf(runtime, 'group.renamed', `group:${a.id}`)).toHaveLength(1);
    const top = await patchGroup(admin, a.id, { parent_id: null });
    expect(top.body).toMatchObject({ path: '/Back office', parent_id: null });
  });

  it('refuses a cycle, a sibling of the same name, another organisation’s parent, and sensitive mixed with a move', async () => {
    const a = await createGroup(admin, { name: unique('Cycle') });
    const b = await createGroup(admin, { name: 'Child', parent_id: a.id });
    const c = await createGroup(admin, { name: 'Grandchild', parent_id: b.id });
    expect((await patchGroup(admin, a.id, { parent_id: c.id })).body).toMatchObject({ error: 'group_cycle' });
    expect((await patchGroup(admin, a.id, { parent_id: a.id })).body).toMatchObject({ error: 'group_cycle' });
    expect((await groupRow(a.id)).parent_id).toBeNull();
    const sibling = await createGroup(admin, { name: 'Other child', parent_id: a.id });
    expect((await patchGroup(admin, sibling.id, { name: 'child' })).body).toMatchObject({ error: 'group_exists' });
    expect((await patchGroup(admin, c.id, { parent_id: a.id, name: 'CHILD' })).body).toMatchObject({ error: 'group_exists' });
    const foreign = await createGroup(otherAdmin, { name: unique('Foreign') });
    expect((await patchGroup(admin, a.id, { parent_id: foreign.id })).body).toMatchObject({ error: 'parent_not_found' });
    expect((await patchGroup(otherAdmin, a.id, { name: 'Mine' })).body).toMatchObject({ error: 'group_not_found' });
    expect((await patchGroup(admin, a.id, { name: 'a/b' })).status).toBe(400);
    expect((await patchGroup(admin, a.id, { name: 'New', sensitive: true })).status).toBe(400);
  });

  it('of two opposite moves at once, one applies and the other is refused group_cycle', async () => {
    const a = await createGroup(admin, { name: unique('Left') });
    const b = await createGroup(admin, { name: unique('Right') });
    const replies = await Promise.all([patchGroup(admin, a.id, { parent_id: b.id }), patchGroup(secondAdmin, b.id, { parent_id: a.id })]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(replies.find((r) => r.status === 409)!.body.error).toBe('group_cycle');
    const parents = [(await groupRow(a.id)).parent_id, (await groupRow(b.id)).parent_id];
    expect(parents.filter((p) => p === null)).toHaveLength(1);
  });

  it('one admin cannot move a group into a sensitive subtree, out of one, or rename a sensitive group', async () => {
    const { vault, unit } = await sensitiveTree();
    const team = await createGroup(admin, { name: unique('Team') });
    const into = await patchGroup(admin, team.id, { parent_id: vault.id });
    expect(into.status, JSON.stringify(into.body)).toBe(202);
    expect(into.body.request).toMatchObject({ kind: 'group.move', change: { parent_id: vault.id, old_path: team.path, new_path: `${vault.path}${team.path}` } });
    expect((await groupRow(team.id)).parent_id).toBeNull();
    expect((await patchGroup(admin, unit.id, { parent_id: null })).status).toBe(202);
    expect((await patchGroup(admin, vault.id, { name: unique('Open') })).status).toBe(202);
    // Moving a plain group that holds a flagged one carries it: also two admins.
    const holder = await createGroup(admin, { name: unique('Holder') });
    await createGroup(admin, { name: 'Flagged', parent_id: holder.id, sensitive: true });
    expect((await patchGroup(admin, holder.id, { parent_id: team.id })).status).toBe(202);

    // Approved, the move happens and is audited with both admins.
    const approved = await approve(secondAdmin, into.body.request.id);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect((await groupRow(team.id)).parent_id).toBe(vault.id);
    expect(await auditOf(runtime, 'group.moved', `group:${team.id}`)).toEqual([expect.objectContaining({ details: expect.objectContaining({ old_path: team.path, new_path: `${vault.path}${team.path}`, approved_by: `user:${secondAdmin.user.id}` }) })]);
  });

  it('one admin cannot rename a group so that its path is one a client requires', async () => {
    const parent = await createGroup(admin, { name: unique('Agency') });
    const staging = await createGroup(admin, { name: 'Staging', parent_id: parent.id });
    await registerClient(runtime, { actor: 'test' }, { client_name: 'Ops', redirect_uris: ['https://ops.example/cb'], required_groups: [`${parent.path}/Operations`] }, { authority: organisationAdmin(organisation.id) });
    const asked = await patchGroup(admin, staging.id, { name: 'Operations' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect((await groupRow(staging.id)).name).toBe('Staging');
  });

  it('refuses an approver who is in the group being moved', async () => {
    const { vault } = await sensitiveTree();
    const team = await createGroup(admin, { name: unique('Team') });
    await addMember(admin, team.id, thirdAdmin.user.id);
    const asked = await patchGroup(admin, team.id, { parent_id: vault.id });
    expect(asked.status).toBe(202);
    expect((await approve(thirdAdmin, asked.body.request.id)).body).toMatchObject({ error: 'change_request_about_self' });
    expect((await groupRow(team.id)).parent_id).toBeNull();
  });
});

describe('approving a change request', () => {
  it('refuses the admin who asked, and audits the refusal', async () => {
    const { member, requestId } = await pendingMembership();
    const refused = await approve(admin, requestId);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('change_request_self_approval');
    expect(await pathsOfPerson(member)).toEqual([]);
    expect(await requestRow(requestId)).toMatchObject({ status: 'pending', decided_by: null });
    expect(await auditOf(runtime, 'change_request.approval_refused', `change_request:${requestId}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}`, outcome: 'failure', details: { reason: 'change_request_self_approval' } })]);
  });

  it('refuses the person the change is about, though an admin', async () => {
    const { vault } = await sensitiveTree();
    const asked = await addMember(admin, vault.id, thirdAdmin.user.id);
    expect(asked.status).toBe(202);
    const refused = await approve(thirdAdmin, asked.body.request.id);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('change_request_about_self');
    expect(await pathsOfPerson(thirdAdmin)).not.toContain(vault.path);
    // The schema says so too: no row is approved by the person it is about.
    await expect(runtime.db.updateTable('change_requests').set({ status: 'approved', decided_by: thirdAdmin.user.id }).where('id', '=', asked.body.request.id).execute()).rejects.toThrow();
    expect((await approve(secondAdmin, asked.body.request.id)).status).toBe(200);
    expect(await pathsOfPerson(thirdAdmin)).toContain(vault.path);
  });

  it("answers another organisation's admin 404", async () => {
    const { member, requestId } = await pendingMembership();
    expect((await approve(otherAdmin, requestId)).status).toBe(404);
    expect((await reject(otherAdmin, requestId)).status).toBe(404);
    expect((await otherAdmin.client.get('/api/admin/change-requests')).body.change_requests).toEqual([]);
    expect(await pathsOfPerson(member)).toEqual([]);
  });

  it('refuses a request whose time ran out, and the sweep closes it and audits it', async () => {
    const { vault, member, requestId } = await pendingMembership();
    await runtime.db.updateTable('change_requests').set({ expires_at: new Date(runtime.clock.now().getTime() - 1000) }).where('id', '=', requestId).execute();
    const refused = await approve(secondAdmin, requestId);
    expect(refused.status).toBe(410);
    expect(refused.body.error).toBe('change_request_expired');
    expect(await pathsOfPerson(member)).toEqual([]);
    expect(await expireChangeRequests(runtime)).toBeGreaterThanOrEqual(1);
    expect(await requestRow(requestId)).toMatchObject({ status: 'expired' });
    expect(await auditOf(runtime, 'change_request.expired', `user:${member.user.id}`)).toEqual([expect.objectContaining({ actor: 'system', details: expect.objectContaining({ request_id: requestId }) })]);
    // An expired ask does not block a fresh one.
    expect((await addMember(admin, vault.id, member.user.id)).status).toBe(202);
  });

  it('of two approvals at once, exactly one applies the change', async () => {
    const { member, requestId } = await pendingMembership();
    const replies = await Promise.all([approve(secondAdmin, requestId), approve(thirdAdmin, requestId)]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(replies.find((r) => r.status === 409)!.body.error).toBe('change_request_not_pending');
    expect(await auditOf(runtime, 'group.member_added', `user:${member.user.id}`)).toHaveLength(1);
    expect(await auditOf(runtime, 'change_request.approved', `user:${member.user.id}`)).toHaveLength(1);
  });

  it('refuses a second ask for the same change while the first waits', async () => {
    const { vault, member } = await pendingMembership();
    expect((await addMember(secondAdmin, vault.id, member.user.id)).body).toMatchObject({ error: 'change_request_pending' });
  });

  it('a rejected request changes nothing and cannot be approved after', async () => {
    const { member, requestId } = await pendingMembership();
    const rejected = await reject(secondAdmin, requestId);
    expect(rejected.status).toBe(200);
    expect(rejected.body.request).toMatchObject({ status: 'rejected', decided_by: secondAdmin.user.id });
    expect((await approve(thirdAdmin, requestId)).body).toMatchObject({ error: 'change_request_not_pending' });
    expect(await pathsOfPerson(member)).toEqual([]);
    expect(await auditOf(runtime, 'change_request.rejected', `user:${member.user.id}`)).toHaveLength(1);
  });

  it('refuses the person a change is about to reject it', async () => {
    const { vault } = await sensitiveTree();
    await addGroupMember(runtime, { actor: 'cli' }, { actor: { kind: 'cli' }, organisationId: organisation.id, groupId: vault.id, userId: thirdAdmin.user.id });
    const asked = await removeMember(admin, vault.id, thirdAdmin.user.id);
    expect(asked.status).toBe(202);
    expect((await reject(thirdAdmin, asked.body.request.id)).body).toMatchObject({ error: 'change_request_about_self' });
    expect(await requestRow(asked.body.request.id)).toMatchObject({ status: 'pending' });
  });

  it('a request dies with its asker’s admin role', async () => {
    const asker = await enroll(organisation.id, 'admin');
    const { member, requestId } = await pendingMembership(asker);
    await runtime.db.deleteFrom('user_roles').where('user_id', '=', asker.user.id).where('role', '=', 'admin').execute();
    expect((await approve(secondAdmin, requestId)).body).toMatchObject({ error: 'change_request_requester_not_admin' });
    expect(await pathsOfPerson(member)).toEqual([]);
  });
});

describe('the operator’s CLI', () => {
  it('acts at once on sensitive things (the operator is the second pair of eyes) and approves an admin’s request', async () => {
    const io = cli(runtime) as never;
    const org = organisation.name;
    const { vault, unit } = await sensitiveTree();
    const member = await enroll(organisation.id, 'member');
    expect((await addGroupMemberCommand.run({ org, group: unit.id, username: member.user.username }, io)).added).toBe(true);
    expect(await auditOf(runtime, 'group.member_added', `user:${member.user.id}`)).toEqual([expect.objectContaining({ actor: 'cli' })]);
    await admin.client.post('/api/admin/attributes', { name: 'cosmic', type: 'boolean', sensitive: true });
    expect((await setAttributeCommand.run({ org, username: member.user.username, name: 'cosmic', value: 'true' }, io)).value).toBe(true);
    const team = await createGroup(admin, { name: unique('Team') });
    expect((await moveGroupCommand.run({ org, group: team.id, parent: vault.path }, io)).path).toBe(`${vault.path}${team.path}`);
    expect((await setGroupSensitiveCommand.run({ org, group: vault.id, clear: true }, io)).sensitive).toBe(false);

    const { requestId, member: other } = await pendingMembership();
    expect((await listChangeRequestsCommand.run({ org }, io)).change_requests.map((r) => r.id)).toContain(requestId);
    expect((await approveChangeRequestCommand.run({ id: requestId }, io)).request).toMatchObject({ status: 'approved', decided_by: null });
    expect((await pathsOfPerson(other)).length).toBe(1);
  });
});
