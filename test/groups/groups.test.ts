/** Groups and typed attributes of an organisation: the admin API, the CLI, validation, confinement and audit. */
import { describe, expect, it } from 'vitest';
import { attributesOf } from '../../src/attributes/service.js';
import { addGroupMemberCommand, createGroupCommand, defineAttributeCommand, listGroupsCommand, removeGroupMemberCommand, setAttributeCommand } from '../../src/cli/commands/groups.js';
import { groupPathsOf } from '../../src/groups/service.js';
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
