/** Groups and typed attributes of an organisation: the admin API, the CLI, validation, confinement and audit. */
import { describe, expect, it } from 'vitest';
import { attributesOf } from '../../src/attributes/service.js';
import { addGroupMemberCommand, createGroupCommand, defineAttributeCommand, deleteGroupCommand, listGroupsCommand, removeGroupMemberCommand, setAttributeCommand } from '../../src/cli/commands/groups.js';
import { changeGroupMembers, createGroup, deleteGroup, groupMembershipsOf, groupPathsOf, setGroupExternalId } from '../../src/groups/service.js';
import { auditOf, cli, peopleServer } from '../people/support.js';

const { runtime, enroll, organisation, other, admin, otherAdmin } = await peopleServer();
const member = await enroll(organisation.id, 'member');
const outsider = await enroll(other.id, 'member');

describe('groups (admin API)', () => {
  it('builds a hierarchy, adds and removes members, and gives a member the paths of their groups and their ancestors', async () => {
    const ministry = await admin.client.post('/api/admin/groups', { name: 'Ministry' });
    expect(ministry.status, JSON.stringify(ministry.body)).toBe(201);
    const department = await admin.client.post('/api/admin/groups', { name: 'Department', parent_id: ministry.body.id });
    const unit = await admin.client.post('/api/admin/groups', { name: 'Unit', parent_id: department.body.id, external_id: 'dir-42' });
    expect(unit.body).toMatchObject({ path: '/Ministry/Department/Unit', parent_id: department.body.id, external_id: 'dir-42' });

    const added = await admin.client.post(`/api/admin/groups/${unit.body.id}/members`, { user_id: member.user.id });
    expect(added.body).toEqual({ group: '/Ministry/Department/Unit', user_id: member.user.id, added: true });
    expect(await groupPathsOf(runtime.db, member.user.id)).toEqual(['/Ministry', '/Ministry/Department', '/Ministry/Department/Unit']);
    expect(await auditOf(runtime, 'group.member_added', `user:${member.user.id}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}` })]);

    const listed = await admin.client.get('/api/admin/groups');
    expect(listed.body.groups.map((g: { path: string; members: number }) => [g.path, g.members])).toEqual([
      ['/Ministry', 0],
      ['/Ministry/Department', 0],
      ['/Ministry/Department/Unit', 1],
    ]);

    const removed = await admin.client.call('DELETE', `/api/admin/groups/${encodeURIComponent('/Ministry/Department/Unit')}/members/${member.user.id}`);
    expect(removed.body).toMatchObject({ removed: true });
    expect(await groupPathsOf(runtime.db, member.user.id)).toEqual([]);
    expect(await auditOf(runtime, 'group.member_removed', `user:${member.user.id}`)).toHaveLength(1);
  });

  it('refuses a sibling with the same name, a name with "/", a parent or person of another organisation', async () => {
    const top = await admin.client.post('/api/admin/groups', { name: 'Agency' });
    expect((await admin.client.post('/api/admin/groups', { name: 'agency' })).body).toMatchObject({ error: 'group_exists' });
    expect((await admin.client.post('/api/admin/groups', { name: 'a/b' })).status).toBe(400);
    const foreign = await otherAdmin.client.post('/api/admin/groups', { name: 'Foreign' });
    expect(foreign.status).toBe(201);
    // Another organisation's group is not a parent here, nor visible, nor joinable.
    expect((await admin.client.post('/api/admin/groups', { name: 'Child', parent_id: foreign.body.id })).body).toMatchObject({ error: 'parent_not_found' });
    expect((await admin.client.post(`/api/admin/groups/${foreign.body.id}/members`, { user_id: member.user.id })).body).toMatchObject({ error: 'group_not_found' });
    expect((await admin.client.post(`/api/admin/groups/${top.body.id}/members`, { user_id: outsider.user.id })).body).toMatchObject({ error: 'person_not_found' });
    expect((await otherAdmin.client.get('/api/admin/groups')).body.groups.map((g: { path: string }) => g.path)).toEqual(['/Foreign']);
  });

  it('cannot form a cycle: the database refuses a group that is its own parent', async () => {
    const a = await admin.client.post('/api/admin/groups', { name: 'Cycle A' });
    const b = await admin.client.post('/api/admin/groups', { name: 'Cycle B', parent_id: a.body.id });
    // A move checks for cycles (test/groups/sensitive.test.ts); beneath it, the database itself refuses a self-parent.
    await expect(runtime.db.updateTable('groups').set({ parent_id: a.body.id }).where('id', '=', a.body.id).execute()).rejects.toThrow();
    expect(b.body.path).toBe('/Cycle A/Cycle B');
  });
});

describe('attributes (admin API)', () => {
  it('defines typed attributes and sets values checked against their type', async () => {
    expect((await admin.client.post('/api/admin/attributes', { name: 'clearance_level', type: 'enum', allowed_values: ['restricted', 'secret', 'top_secret'] })).status).toBe(201);
    expect((await admin.client.post('/api/admin/attributes', { name: 'grade', type: 'integer' })).status).toBe(201);
    expect((await admin.client.post('/api/admin/attributes', { name: 'position', type: 'string' })).status).toBe(201);
    const set = (name: string, value: unknown) => admin.client.call('PUT', `/api/admin/attributes/${name}/values/${member.user.id}`, { value });

    expect((await set('clearance_level', 'secret')).body).toEqual({ user_id: member.user.id, name: 'clearance_level', value: 'secret' });
    expect((await set('clearance_level', 'cosmic')).body).toMatchObject({ error: 'invalid_attribute_value' });
    expect((await set('grade', '7')).body).toMatchObject({ error: 'invalid_attribute_value' });
    expect((await set('grade', 7.5)).body).toMatchObject({ error: 'invalid_attribute_value' });
    expect((await set('grade', 7)).status).toBe(200);
    expect((await set('position', 'Analyst')).status).toBe(200);
    expect((await set('unknown', 'x')).body).toMatchObject({ error: 'attribute_not_found' });
    expect(await attributesOf(runtime.db, member.user.id)).toEqual({ clearance_level: 'secret', grade: 7, position: 'Analyst' });
    expect(await auditOf(runtime, 'attribute.set', `user:${member.user.id}`)).toContainEqual(expect.objectContaining({ details: expect.objectContaining({ name: 'clearance_level', before: null, after: 'secret' }) }));

    expect((await set('position', null)).body).toMatchObject({ value: null });
    expect(await attributesOf(runtime.db, member.user.id)).not.toHaveProperty('position');
  });

  it('refuses bad definitions, duplicates, and another organisation’s person', async () => {
    expect((await admin.client.post('/api/admin/attributes', { name: 'Clearance', type: 'string' })).status).toBe(400);
    expect((await admin.client.post('/api/admin/attributes', { name: 'level', type: 'float' })).status).toBe(400);
    expect((await admin.client.post('/api/admin/attributes', { name: 'level', type: 'enum' })).status).toBe(400);
    expect((await admin.client.post('/api/admin/attributes', { name: 'level', type: 'string', allowed_values: ['a'] })).status).toBe(400);
    await admin.client.post('/api/admin/attributes', { name: 'employee_code', type: 'string' });
    expect((await admin.client.post('/api/admin/attributes', { name: 'employee_code', type: 'string' })).body).toMatchObject({ error: 'attribute_exists' });
    expect((await admin.client.call('PUT', `/api/admin/attributes/employee_code/values/${outsider.user.id}`, { value: 'E1' })).body).toMatchObject({ error: 'person_not_found' });
    // The other organisation does not see this one's definitions.
    expect((await otherAdmin.client.get('/api/admin/attributes')).body.attributes).toEqual([]);
  });

  it('is refused to a member', async () => {
    expect((await member.client.get('/api/admin/groups')).status).toBe(403);
    expect((await member.client.post('/api/admin/attributes', { name: 'x', type: 'string' })).status).toBe(403);
  });
});

describe('groups and attributes (CLI)', () => {
  it('creates, lists, adds and removes members, defines and sets attributes', async () => {
    const io = cli(runtime);
    const org = organisation.name;
    await createGroupCommand.run({ org, name: 'Registry' }, io as never);
    const unit = await createGroupCommand.run({ org, name: 'Archive', parent: '/Registry' }, io as never);
    expect(unit.path).toBe('/Registry/Archive');
    expect((await addGroupMemberCommand.run({ org, group: '/registry/archive', username: member.user.username }, io as never)).added).toBe(true);
    const listed = await listGroupsCommand.run({ org }, io as never);
    expect(listed.groups.find((g) => g.path === '/Registry/Archive')?.members).toBe(1);
    expect((await removeGroupMemberCommand.run({ org, group: unit.id, username: member.user.username }, io as never)).removed).toBe(true);

    await defineAttributeCommand.run({ org, name: 'on_call', type: 'boolean' }, io as never);
    expect((await setAttributeCommand.run({ org, username: member.user.username, name: 'on_call', value: 'true' }, io as never)).value).toBe(true);
    await expect(setAttributeCommand.run({ org, username: member.user.username, name: 'on_call', value: 'maybe' }, io as never)).rejects.toMatchObject({ code: 'invalid_attribute_value' });
    expect(await auditOf(runtime, 'attribute.set', `user:${member.user.id}`)).toContainEqual(expect.objectContaining({ actor: 'cli', details: expect.objectContaining({ name: 'on_call', after: true }) }));
  });
});

describe('external ids, bulk membership changes and deleting groups', () => {
  const actor = { actor: 'test' };
  const operator = { kind: 'cli' } as const;
  const organisationId = organisation.id;

  it('sets and clears an external id, unique in the organisation', async () => {
    const a = await createGroup(runtime, actor, { organisationId, name: 'External A', externalId: 'ext-a' });
    const b = await createGroup(runtime, actor, { organisationId, name: 'External B' });
    await expect(setGroupExternalId(runtime, actor, { organisationId, groupId: b.id, externalId: 'ext-a' })).rejects.toMatchObject({ status: 409, code: 'group_exists' });
    expect((await setGroupExternalId(runtime, actor, { organisationId, groupId: a.id, externalId: null })).external_id).toBeNull();
    expect((await setGroupExternalId(runtime, actor, { organisationId, groupId: b.id, externalId: 'ext-a' })).external_id).toBe('ext-a');
    expect(await auditOf(runtime, 'group.external_id_changed', `group:${b.id}`)).toEqual([expect.objectContaining({ details: expect.objectContaining({ before: null, after: 'ext-a' }) })]);
  });

  it('changes members all or nothing: someone of another organisation spoils the whole change', async () => {
    const group = await createGroup(runtime, actor, { organisationId, name: 'All Or Nothing' });
    await expect(changeGroupMembers(runtime, actor, { actor: operator, organisationId, groupId: group.id, add: [member.user.id, outsider.user.id], remove: [] })).rejects.toMatchObject({ status: 404, code: 'person_not_found' });
    expect((await runtime.db.selectFrom('group_members').select('user_id').where('group_id', '=', group.id).execute()).length).toBe(0);
    await expect(changeGroupMembers(runtime, actor, { actor: operator, organisationId, groupId: group.id, add: [member.user.id], remove: [member.user.id] })).rejects.toMatchObject({ status: 400 });
    expect(await changeGroupMembers(runtime, actor, { actor: operator, organisationId, groupId: group.id, add: [member.user.id], remove: ['not-an-id'] })).toMatchObject({ added: [member.user.id], removed: [] });
  });

  it('deletes a group without children through the admin API (its members leave it, each audited), and refuses one with children', async () => {
    const parent = await admin.client.post('/api/admin/groups', { name: 'Doomed Parent' });
    const child = await admin.client.post('/api/admin/groups', { name: 'Doomed Child', parent_id: parent.body.id });
    await admin.client.post(`/api/admin/groups/${child.body.id}/members`, { user_id: member.user.id });

    const refused = await admin.client.call('DELETE', `/api/admin/groups/${parent.body.id}`);
    expect(refused).toMatchObject({ status: 409, body: { error: 'group_has_children' } });
    // Another organisation's admin does not find it.
    expect((await otherAdmin.client.call('DELETE', `/api/admin/groups/${child.body.id}`)).body).toMatchObject({ error: 'group_not_found' });
    expect((await member.client.call('DELETE', `/api/admin/groups/${child.body.id}`)).status).toBe(403);

    const deleted = await admin.client.call('DELETE', `/api/admin/groups/${encodeURIComponent('/Doomed Parent/Doomed Child')}`);
    expect(deleted.body).toEqual({ id: child.body.id, path: '/Doomed Parent/Doomed Child', deleted: true, members: 1 });
    expect(await groupPathsOf(runtime.db, member.user.id)).not.toContain('/Doomed Parent');
    expect(await auditOf(runtime, 'group.deleted', `group:${child.body.id}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}`, details: { organisation_id: organisation.id, path: '/Doomed Parent/Doomed Child', members: 1 } })]);
    expect((await auditOf(runtime, 'group.member_removed', `user:${member.user.id}`)).at(-1)).toMatchObject({ details: { group_id: child.body.id, reason: 'group deleted' } });
    expect((await admin.client.call('DELETE', `/api/admin/groups/${parent.body.id}`)).status).toBe(200);
  });

  it('leaves a sensitive group to the operator: an admin is refused (operator_required), the CLI deletes it', async () => {
    const vault = await admin.client.post('/api/admin/groups', { name: 'Doomed Vault', sensitive: true });
    expect(vault.status, JSON.stringify(vault.body)).toBe(201);
    await changeGroupMembers(runtime, actor, { actor: operator, organisationId, groupId: vault.body.id, add: [member.user.id], remove: [] });
    expect(await admin.client.call('DELETE', `/api/admin/groups/${vault.body.id}`)).toMatchObject({ status: 403, body: { error: 'operator_required' } });
    expect(await groupPathsOf(runtime.db, member.user.id)).toContain('/Doomed Vault');
    await expect(deleteGroup(runtime, actor, { actor: { kind: 'client', clientId: 'directory', organisationId }, organisationId, groupId: vault.body.id })).rejects.toMatchObject({ status: 403, code: 'person_required' });
    expect(await deleteGroupCommand.run({ org: organisation.name, group: vault.body.id }, cli(runtime) as never)).toMatchObject({ deleted: true, members: 1 });
    expect(await groupPathsOf(runtime.db, member.user.id)).not.toContain('/Doomed Vault');
  });

  it('deletes from the CLI', async () => {
    const io = cli(runtime);
    await createGroupCommand.run({ org: organisation.name, name: 'CLI Doomed' }, io as never);
    const result = await deleteGroupCommand.run({ org: organisation.name, group: '/cli doomed' }, io as never);
    expect(result).toMatchObject({ path: '/CLI Doomed', deleted: true, members: 0 });
    expect(deleteGroupCommand.format(result)).toBe('Deleted group /CLI Doomed; 0 member(s) left it.');
    expect(await auditOf(runtime, 'group.deleted', `group:${result.id}`)).toEqual([expect.objectContaining({ actor: 'cli' })]);
  });

  it('tells direct memberships from inherited ones', async () => {
    const ministry = await createGroup(runtime, actor, { organisationId, name: 'Memberships Ministry' });
    const unit = await createGroup(runtime, actor, { organisationId, name: 'Unit', parentId: ministry.id });
    const person = await enroll(organisation.id, 'member');
    await changeGroupMembers(runtime, actor, { actor: operator, organisationId, groupId: unit.id, add: [person.user.id], remove: [] });
    expect(await groupMembershipsOf(runtime.db, person.user.id)).toEqual([
      { id: ministry.id, path: '/Memberships Ministry', membership: 'inherited', added_at: null },
      { id: unit.id, path: '/Memberships Ministry/Unit', membership: 'direct', added_at: expect.any(Date) },
    ]);
    // Directly in the ministry too: that one is direct.
    await changeGroupMembers(runtime, actor, { actor: operator, organisationId, groupId: ministry.id, add: [person.user.id], remove: [] });
    expect((await groupMembershipsOf(runtime.db, person.user.id)).map((m) => m.membership)).toEqual(['direct', 'direct']);
  });
});
