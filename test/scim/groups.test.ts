/**
 * SCIM Groups written against RFC 7644's examples (§3.3 create, §3.4.2 filters, §3.5.1 PUT,
 * §3.5.2 PATCH of members, §3.6 DELETE, §3.14 ETags) and the requests Microsoft Entra ID and
 * Okta send, over real HTTP with a directory's client-credentials token.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { organisationAdmin, registerClient } from '../../src/clients/service.js';
import { addGroupMember, createGroup } from '../../src/groups/service.js';
import { authorizeWithSession, basicAuth, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from '../oidc/support.js';
import { createTestUser } from '../support/runtime.js';
import { clientToken, directory, ERROR_SCHEMA, PATCH_OP, scimCall, scimClient } from './support.js';

const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const server = await startOidcServer();
const { runtime } = server;
const admin = await createTestUser(runtime, { role: 'admin' });
const organisationId = admin.organisation_id;
const scim = await directory(server, organisationId);
const actor = `client:${scim.client.client_id}`;
const people = await Promise.all([1, 2, 3, 4].map(() => createTestUser(runtime, { organisationId })));
const [babs, mandy, kim, lee] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0], (typeof people)[0]];
const otherAdmin = await createTestUser(runtime, { role: 'admin' });
const outsider = await createTestUser(runtime, { organisationId: otherAdmin.organisation_id });

let counter = 0;
/** The RFC 7644 §3.3 group example ("Tour Guides"), named apart for each test. */
function tourGuides(overrides: Record<string, unknown> = {}) {
  counter += 1;
  return { schemas: [GROUP_SCHEMA], displayName: `Tour Guides ${counter}`, externalId: `tour-guides-${counter}`, members: [], ...overrides };
}

async function created(overrides: Record<string, unknown> = {}) {
  const reply = await scim.call('POST', '/Groups', { body: tourGuides(overrides) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

const patch = (id: string, operations: unknown[], headers: Record<string, string> = {}) => scim.call('PATCH', `/Groups/${id}`, { body: { schemas: [PATCH_OP], Operations: operations }, headers });
const memberIds = async (groupId: string) => (await runtime.db.selectFrom('group_members').select('user_id').where('group_id', '=', groupId).execute()).map((m) => m.user_id).sort();
const audit = (action: string, subject: string) => runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('subject', '=', subject).orderBy('id').execute();
const groupCount = async () => Number((await runtime.db.selectFrom('groups').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
const sorted = (ids: string[]) => [...ids].sort();

describe('creating a group (RFC 7644 §3.3)', () => {
  it('creates a top-level group with its members, audited as the directory', async () => {
    const reply = await scim.call('POST', '/Groups', { body: tourGuides({ members: [{ value: babs.id, $ref: server.url(`/scim/v2/Users/${babs.id}`), display: 'Babs Jensen' }, { value: mandy.id, display: 'Mandy Pepperidge' }] }) });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.headers.get('content-type')).toBe('application/scim+json');
    const group = reply.body;
    expect(group).toMatchObject({
      schemas: [GROUP_SCHEMA],
      displayName: `Tour Guides ${counter}`,
      externalId: `tour-guides-${counter}`,
      meta: { resourceType: 'Group', location: server.url(`/scim/v2/Groups/${group.id}`) },
    });
    expect(sorted(group.members.map((m: { value: string }) => m.value))).toEqual(sorted([babs.id, mandy.id]));
    // display is Warta's name for the person, not what the directory sent.
    expect(group.members.find((m: { value: string }) => m.value === babs.id)).toEqual({ value: babs.id, $ref: server.url(`/scim/v2/Users/${babs.id}`), display: babs.display_name });
    expect(reply.headers.get('location')).toBe(group.meta.location);
    expect(reply.headers.get('etag')).toBe(group.meta.version);
    expect(group.meta.created).toBe(group.meta.lastModified);

    const row = await runtime.db.selectFrom('groups').selectAll().where('id', '=', group.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ organisation_id: organisationId, parent_id: null, name: group.displayName, external_id: group.externalId });
    expect(await audit('group.created', `group:${group.id}`)).toMatchObject([{ actor, details: { organisation_id: organisationId, path: `/${group.displayName}` } }]);
    expect(await audit('group.member_added', `user:${babs.id}`)).toContainEqual(expect.objectContaining({ actor, details: { organisation_id: organisationId, group_id: group.id, path: `/${group.displayName}` } }));
  });

  it('refuses a displayName taken at the top level, whatever its case, and a taken externalId (409 uniqueness), creating nothing', async () => {
    const first = await created();
    const before = await groupCount();
    const sameName = await scim.call('POST', '/Groups', { body: tourGuides({ displayName: first.displayName.toUpperCase() }) });
    expect(sameName).toMatchObject({ status: 409, body: { schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' } });
    const sameExternalId = await scim.call('POST', '/Groups', { body: tourGuides({ externalId: first.externalId }) });
    expect(sameExternalId).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
    expect(await groupCount()).toBe(before);
  });

  it.each([
    ['no schemas', 'invalidSyntax', { displayName: 'No schemas' }],
    ['the User schema', 'invalidSyntax', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], displayName: 'Wrong schema' }],
    ['an attribute Warta does not keep', 'invalidSyntax', { schemas: [GROUP_SCHEMA], displayName: 'Extra', owner: 'someone' }],
    ['no displayName', 'invalidValue', { schemas: [GROUP_SCHEMA], externalId: 'nameless' }],
    ['a displayName with "/"', 'invalidValue', { schemas: [GROUP_SCHEMA], displayName: 'a/b' }],
    ['a displayName of 101 characters', 'invalidValue', { schemas: [GROUP_SCHEMA], displayName: 'x'.repeat(101) }],
    ['members that are not an array of objects', 'invalidValue', { schemas: [GROUP_SCHEMA], displayName: 'Bad members', members: ['someone'] }],
    ['a member that is a group', 'invalidValue', { schemas: [GROUP_SCHEMA], displayName: 'Nested', members: [{ value: '2819c223-7f76-453a-919d-413861904646', type: 'Group' }] }],
    ['a member that is no one', 'invalidValue', { schemas: [GROUP_SCHEMA], displayName: 'Ghosts', members: [{ value: '2819c223-7f76-453a-919d-413861904646' }] }],
    ['a member that is not an id', 'invalidValue', { schemas: [GROUP_SCHEMA], displayName: 'Not ids', members: [{ value: 'bjensen' }] }],
    ['a member of another organisation', 'invalidValue', { schemas: [GROUP_SCHEMA], displayName: 'Poachers', members: [{ value: outsider.id }] }],
    ['more than 1000 members', 'invalidValue', { schemas: [GROUP_SCHEMA], displayName: 'Crowd', members: Array.from({ length: 1001 }, () => ({ value: babs.id })) }],
  ])('refuses %s (400 %s) and creates nothing', async (_case, scimType, body) => {
    const before = await groupCount();
    const reply = await scim.call('POST', '/Groups', { body });
    expect(reply, JSON.stringify(reply.body)).toMatchObject({ status: 400, body: { schemas: [ERROR_SCHEMA], status: '400', scimType } });
    expect(await groupCount()).toBe(before);
  });

  it('a member of another organisation is refused without creating the group or touching that person', async () => {
    const reply = await scim.call('POST', '/Groups', { body: tourGuides({ members: [{ value: babs.id }, { value: outsider.id }] }) });
    expect(reply.body.scimType).toBe('invalidValue');
    expect(await runtime.db.selectFrom('groups').select('id').where('name', '=', `Tour Guides ${counter}`).execute()).toEqual([]);
    expect(await runtime.db.selectFrom('group_members').select('group_id').where('user_id', '=', outsider.id).execute()).toEqual([]);
  });
});

describe('reading and finding groups (RFC 7644 §3.4)', () => {
  it('gets a group by id with its version in ETag, and without members when excludedAttributes names them (as Entra ID asks)', async () => {
    const group = await created({ members: [{ value: kim.id }] });
    const reply = await scim.call('GET', `/Groups/${group.id}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(group);
    expect(reply.headers.get('etag')).toBe(group.meta.version);
    const lean = await scim.call('GET', `/Groups/${group.id}?excludedAttributes=members`);
    expect(lean.body).not.toHaveProperty('members');
    expect(lean.body.meta.version).toBe(group.meta.version);
    expect((await scim.call('GET', `/Groups/${group.id}?excludedAttributes=${encodeURIComponent(`${GROUP_SCHEMA}:members`)}`)).body).not.toHaveProperty('members');
    expect((await scim.call('GET', '/Groups/not-a-uuid')).status).toBe(404);
    expect((await scim.call('GET', `/Groups/${encodeURIComponent(`/${group.displayName}`)}`)).status).toBe(404);
    expect(await scim.call('GET', '/Groups/2819c223-7f76-453a-919d-413861904646')).toMatchObject({ status: 404, body: { schemas: [ERROR_SCHEMA], status: '404' } });
  });

  it('filters with eq (displayName case-insensitively, externalId exactly), co, sw and and (§3.4.2.2)', async () => {
    const target = await created({ displayName: 'Filter Harbour Pilots', externalId: 'ext-HP-1' });
    await created({ displayName: 'Filter Harbour Masters', externalId: 'ext-HM-2' });
    const find = async (filter: string, extra = '') => {
      const reply = await scim.call('GET', `/Groups?filter=${encodeURIComponent(filter)}${extra}`);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body;
    };
    // Entra ID's lookup before it creates a group.
    const entra = await find('displayName eq "filter harbour pilots"', '&excludedAttributes=members');
    expect(entra).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(entra.Resources[0]).toMatchObject({ id: target.id, displayName: 'Filter Harbour Pilots' });
    expect(entra.Resources[0]).not.toHaveProperty('members');
    expect((await find('externalId eq "ext-HP-1"')).Resources.map((g: { id: string }) => g.id)).toEqual([target.id]);
    expect((await find('externalId eq "EXT-HP-1"')).totalResults).toBe(0);
    expect((await find('displayName sw "Filter Harbour"')).totalResults).toBe(2);
    expect((await find('displayName co "pilot"')).totalResults).toBe(1);
    expect((await find(`${GROUP_SCHEMA}:displayName sw "filter" and externalId co "HM"`)).Resources.map((g: { displayName: string }) => g.displayName)).toEqual(['Filter Harbour Masters']);
    // A LIKE wildcard in the value is a literal.
    expect((await find('displayName co "%"')).totalResults).toBe(0);
  });

  it.each([
    ['an attribute not filtered on', 'members eq "2819c223-7f76-453a-919d-413861904646"'],
    ['userName, a User attribute', 'userName eq "bjensen"'],
    ['an operator not supported', 'displayName gt "A"'],
    ['or', 'displayName eq "A" or displayName eq "B"'],
    ['an unquoted value', 'displayName eq Tour'],
  ])('refuses a filter with %s (400 invalidFilter)', async (_case, filter) => {
    expect(await scim.call('GET', `/Groups?filter=${encodeURIComponent(filter)}`)).toMatchObject({ status: 400, body: { scimType: 'invalidFilter' } });
  });

  it('pages with startIndex and count (§3.4.2.4)', async () => {
    for (let i = 0; i < 3; i += 1) await created({ displayName: `Paged ${i}` });
    const filter = encodeURIComponent('displayName sw "Paged "');
    const first = await scim.call('GET', `/Groups?filter=${filter}&startIndex=1&count=2`);
    expect(first.body).toMatchObject({ totalResults: 3, startIndex: 1, itemsPerPage: 2 });
    const second = await scim.call('GET', `/Groups?filter=${filter}&startIndex=3&count=2`);
    expect(second.body).toMatchObject({ totalResults: 3, startIndex: 3, itemsPerPage: 1 });
    const names = [...first.body.Resources, ...second.body.Resources].map((g: { displayName: string }) => g.displayName);
    expect(names.sort()).toEqual(['Paged 0', 'Paged 1', 'Paged 2']);
    expect((await scim.call('GET', `/Groups?filter=${filter}&count=0`)).body).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
    expect((await scim.call('GET', '/Groups?count=many')).body.scimType).toBe('invalidValue');
  });

  it('shows a group an admin placed under another by its own name, and its members', async () => {
    const parent = await createGroup(runtime, { actor: 'test' }, { organisationId, name: 'Admin Parent' });
    const child = await createGroup(runtime, { actor: 'test' }, { organisationId, name: 'Admin Child', parentId: parent.id });
    const reply = await scim.call('GET', `/Groups/${child.id}`);
    expect(reply.body).toMatchObject({ id: child.id, displayName: 'Admin Child', members: [] });
  });
});

describe('changing members and names (RFC 7644 §3.5.2, Entra ID and Okta)', () => {
  it('adds members as Entra ID and Okta send them, and removes them by a value filter and by Entra ID\'s remove with a value', async () => {
    const group = await created();
    // Entra ID: "Add" with path members and an array of values.
    const added = await patch(group.id, [{ op: 'Add', path: 'members', value: [{ value: babs.id }] }]);
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body.members.map((m: { value: string }) => m.value)).toEqual([babs.id]);
    // Okta: add with display names, several at once; adding someone already in changes nothing.
    expect((await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: babs.id, display: 'babs' }, { value: mandy.id, display: 'mandy' }, { value: kim.id, display: 'kim' }] }])).status).toBe(200);
    expect(await memberIds(group.id)).toEqual(sorted([babs.id, mandy.id, kim.id]));
    // RFC 7644 §3.5.2.2: remove with a value filter in the path.
    expect((await patch(group.id, [{ op: 'remove', path: `members[value eq "${babs.id}"]` }])).status).toBe(200);
    // Entra ID: "Remove" with path members and the values to remove.
    expect((await patch(group.id, [{ op: 'Remove', path: 'members', value: [{ value: mandy.id }] }])).status).toBe(200);
    expect(await memberIds(group.id)).toEqual([kim.id]);
    // Removing someone not in the group changes nothing.
    expect((await patch(group.id, [{ op: 'remove', path: `members[value eq "${lee.id}"]` }])).status).toBe(200);
    expect(await memberIds(group.id)).toEqual([kim.id]);

    const path = `/${group.displayName}`;
    expect((await audit('group.member_removed', `user:${babs.id}`)).filter((e) => e.details.group_id === group.id)).toMatchObject([{ actor, details: { organisation_id: organisationId, group_id: group.id, path } }]);
    expect((await audit('group.member_added', `user:${mandy.id}`)).filter((e) => e.details.group_id === group.id)).toHaveLength(1);
    expect((await audit('group.member_removed', `user:${lee.id}`)).filter((e) => e.details.group_id === group.id)).toHaveLength(0);
  });

  it('replaces all members, and a remove of members without a value empties the group', async () => {
    const group = await created({ members: [{ value: babs.id }, { value: mandy.id }] });
    expect((await patch(group.id, [{ op: 'replace', path: 'members', value: [{ value: mandy.id }, { value: kim.id }] }])).status).toBe(200);
    expect(await memberIds(group.id)).toEqual(sorted([mandy.id, kim.id]));
    // RFC 7644 §3.5.2.1's form: add without a path, members in the value object.
    expect((await patch(group.id, [{ op: 'add', value: { members: [{ value: lee.id }] } }])).status).toBe(200);
    expect(await memberIds(group.id)).toEqual(sorted([mandy.id, kim.id, lee.id]));
    expect((await patch(group.id, [{ op: 'remove', path: 'members' }])).body).toMatchObject({ members: [] });
    expect(await memberIds(group.id)).toEqual([]);
  });

  it('renames as Entra ID (path displayName) and Okta (a value object with the group\'s id) do, audited as group.renamed', async () => {
    const group = await created();
    const entra = await patch(group.id, [{ op: 'Replace', path: 'displayName', value: 'Renamed by Entra' }]);
    expect(entra.body).toMatchObject({ id: group.id, displayName: 'Renamed by Entra' });
    const okta = await patch(group.id, [{ op: 'replace', value: { id: group.id, displayName: 'Renamed by Okta' } }]);
    expect(okta.body.displayName).toBe('Renamed by Okta');
    expect(okta.body.meta.version).not.toBe(entra.body.meta.version);
    expect(await audit('group.renamed', `group:${group.id}`)).toMatchObject([
      { actor, details: { organisation_id: organisationId, old_path: `/${group.displayName}`, new_path: '/Renamed by Entra', parent_id: null } },
      { actor, details: { old_path: '/Renamed by Entra', new_path: '/Renamed by Okta' } },
    ]);
    expect((await patch(group.id, [{ op: 'replace', path: 'externalId', value: 'okta-00g1' }])).body.externalId).toBe('okta-00g1');
    expect(await audit('group.external_id_changed', `group:${group.id}`)).toMatchObject([{ actor, details: { before: group.externalId, after: 'okta-00g1' } }]);
  });

  it('refuses a rename to a sibling\'s name (409 uniqueness), and a member of another organisation (400 invalidValue), changing nothing', async () => {
    const taken = await created();
    const group = await created({ members: [{ value: babs.id }] });
    const rename = await patch(group.id, [{ op: 'replace', path: 'displayName', value: taken.displayName.toLowerCase() }]);
    expect(rename).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
    // One bad member spoils the whole PATCH: the rename and the other additions do not happen either.
    const poach = await patch(group.id, [
      { op: 'replace', path: 'displayName', value: 'Should not stick' },
      { op: 'add', path: 'members', value: [{ value: mandy.id }, { value: outsider.id }] },
    ]);
    expect(poach).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    expect((await scim.call('GET', `/Groups/${group.id}`)).body).toEqual(group);
  });

  it.each([
    ['an unknown attribute', 'invalidPath', [{ op: 'replace', path: 'owner', value: 'x' }]],
    ['a sub-attribute of members', 'invalidPath', [{ op: 'replace', path: 'members.display', value: 'x' }]],
    ['add through a value filter', 'invalidPath', [{ op: 'add', path: 'members[value eq "x"]', value: [{ value: 'x' }] }]],
    ['remove without a path', 'noTarget', [{ op: 'remove' }]],
    ['another id in the value object', 'mutability', [{ op: 'replace', value: { id: '2819c223-7f76-453a-919d-413861904646', displayName: 'Hijack' } }]],
    ['removing displayName', 'invalidValue', [{ op: 'remove', path: 'displayName' }]],
    ['an op SCIM does not have', 'invalidSyntax', [{ op: 'move', path: 'members', value: [] }]],
  ])('refuses %s (400 %s)', async (_case, scimType, operations) => {
    const group = await created();
    expect(await patch(group.id, operations)).toMatchObject({ status: 400, body: { scimType } });
    expect((await scim.call('GET', `/Groups/${group.id}`)).body).toEqual(group);
  });

  it('refuses a PatchOp without its schema', async () => {
    const group = await created();
    expect(await scim.call('PATCH', `/Groups/${group.id}`, { body: { Operations: [{ op: 'add', path: 'members', value: [{ value: babs.id }] }] } })).toMatchObject({ status: 400, body: { scimType: 'invalidSyntax' } });
  });

  it('PUT replaces name, externalId and members; members left out are cleared (§3.5.1)', async () => {
    const group = await created({ members: [{ value: babs.id }] });
    const reply = await scim.call('PUT', `/Groups/${group.id}`, { body: { schemas: [GROUP_SCHEMA], id: group.id, displayName: 'Put Group', externalId: 'put-1', members: [{ value: kim.id }, { value: lee.id }] } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ id: group.id, displayName: 'Put Group', externalId: 'put-1' });
    expect(await memberIds(group.id)).toEqual(sorted([kim.id, lee.id]));
    expect((await scim.call('PUT', `/Groups/${group.id}`, { body: { schemas: [GROUP_SCHEMA], displayName: 'Put Group' } })).body).toMatchObject({ members: [] });
    expect(await memberIds(group.id)).toEqual([]);
    expect((await scim.call('PUT', `/Groups/${group.id}`, { body: { displayName: 'No schema' } })).body.scimType).toBe('invalidSyntax');
  });
});

describe('versions (RFC 7644 §3.14)', () => {
  it('gives a new version for every change, even within the same instant, and refuses a stale If-Match with 412', async () => {
    const group = await created();
    // The test clock stands still: the version still follows the members.
    const added = await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: babs.id }] }], { 'if-match': group.meta.version });
    expect(added.status).toBe(200);
    expect(added.headers.get('etag')).not.toBe(group.meta.version);
    const stale = await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: mandy.id }] }], { 'if-match': group.meta.version });
    expect(stale).toMatchObject({ status: 412, body: { schemas: [ERROR_SCHEMA], status: '412' } });
    expect(await memberIds(group.id)).toEqual([babs.id]);
    expect((await scim.call('PUT', `/Groups/${group.id}`, { body: tourGuides({ displayName: 'Stale put' }), headers: { 'if-match': group.meta.version } })).status).toBe(412);
    expect((await scim.call('DELETE', `/Groups/${group.id}`, { headers: { 'if-match': group.meta.version } })).status).toBe(412);
    expect((await scim.call('GET', `/Groups/${group.id}`)).status).toBe(200);
    // The current version, its strong spelling, or *, pass.
    expect((await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: mandy.id }] }], { 'if-match': added.body.meta.version.replace(/^W\//, '') })).status).toBe(200);
    expect((await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: kim.id }] }], { 'if-match': '*' })).status).toBe(200);
  });

  it('a change an admin makes through the groups service gives a new version too', async () => {
    const group = await created();
    runtime.clock.advance(1);
    await addGroupMember(runtime, { actor: 'test' }, { actor: { kind: 'cli' }, organisationId, groupId: group.id, userId: lee.id });
    const reread = await scim.call('GET', `/Groups/${group.id}`);
    expect(reread.body.meta.version).not.toBe(group.meta.version);
    expect(reread.body.meta.lastModified).not.toBe(group.meta.lastModified);
  });
});

describe('deleting a group (RFC 7644 §3.6)', () => {
  it('deletes the group, its members leave it, each audited; afterwards it is 404', async () => {
    const group = await created({ members: [{ value: babs.id }, { value: kim.id }] });
    const reply = await scim.call('DELETE', `/Groups/${group.id}`);
    expect(reply.status).toBe(204);
    expect((await scim.call('GET', `/Groups/${group.id}`)).status).toBe(404);
    expect((await scim.call('DELETE', `/Groups/${group.id}`)).status).toBe(404);
    expect(await memberIds(group.id)).toEqual([]);
    expect(await audit('group.deleted', `group:${group.id}`)).toMatchObject([{ actor, details: { organisation_id: organisationId, path: `/${group.displayName}`, external_id: group.externalId, members: 2 } }]);
    expect((await audit('group.member_removed', `user:${kim.id}`)).filter((e) => e.details.group_id === group.id)).toMatchObject([{ actor, details: { reason: 'group deleted' } }]);
  });

  it('refuses to delete a group with groups under it (409 group_has_children)', async () => {
    const group = await created();
    await createGroup(runtime, { actor: 'test' }, { organisationId, name: 'Moved Under', parentId: group.id });
    const reply = await scim.call('DELETE', `/Groups/${group.id}`);
    expect(reply).toMatchObject({ status: 409, body: { schemas: [ERROR_SCHEMA], status: '409' } });
    expect(reply.body.detail).toContain('group_has_children');
    expect((await scim.call('GET', `/Groups/${group.id}`)).status).toBe(200);
  });
});

describe('who may', () => {
  it("a SCIM client of another organisation neither sees nor changes this organisation's groups (404)", async () => {
    const group = await created({ members: [{ value: babs.id }] });
    const theirs = await directory(server, otherAdmin.organisation_id, 'other.gov');
    expect((await theirs.call('GET', `/Groups/${group.id}`)).status).toBe(404);
    expect((await theirs.call('PUT', `/Groups/${group.id}`, { body: { schemas: [GROUP_SCHEMA], displayName: 'Taken over', members: [{ value: outsider.id }] } })).status).toBe(404);
    expect((await theirs.call('PATCH', `/Groups/${group.id}`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: outsider.id }] }] } })).status).toBe(404);
    expect((await theirs.call('DELETE', `/Groups/${group.id}`)).status).toBe(404);
    const listed = await theirs.call('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${group.displayName}"`)}`);
    expect(listed.body.totalResults).toBe(0);
    // A group of theirs with the same name is theirs alone, and takes only their people.
    const same = await theirs.call('POST', '/Groups', { body: { schemas: [GROUP_SCHEMA], displayName: group.displayName, members: [{ value: outsider.id }] } });
    expect(same.status).toBe(201);
    expect((await theirs.call('POST', '/Groups', { body: { schemas: [GROUP_SCHEMA], displayName: 'Reach over', members: [{ value: babs.id }] } })).body.scimType).toBe('invalidValue');
    expect((await scim.call('GET', `/Groups/${group.id}`)).body).toEqual(group);
  });

  it('asks for a token (401), and refuses a token without scim (403 insufficient_scope)', async () => {
    expect((await scimCall(server, undefined, 'GET', '/Groups')).status).toBe(401);
    expect((await scimCall(server, undefined, 'POST', '/Groups', { body: tourGuides() })).status).toBe(401);
    const plain = await scimClient(server, organisationId, { scim: false });
    const token = await clientToken(server, plain, 'directory:read');
    const reply = await scimCall(server, token, 'POST', '/Groups', { body: tourGuides() });
    expect(reply).toMatchObject({ status: 403, body: { schemas: [ERROR_SCHEMA] } });
    expect(reply.body.detail).toContain('insufficient_scope');
  });
});

describe('sensitive groups (a second admin\'s, never the directory\'s alone)', () => {
  const refusals = async () => (await audit('authority.refused', actor)).filter((e) => e.details.reason === 'person_required').length;

  it('refuses to change who is in a flagged group, or a group under it, to rename or to delete it (403 person_required, audited), changing nothing', async () => {
    const vault = await createGroup(runtime, { actor: 'test' }, { organisationId, name: 'SCIM Vault', sensitive: true });
    const unit = await createGroup(runtime, { actor: 'test' }, { organisationId, name: 'Unit', parentId: vault.id });
    await addGroupMember(runtime, { actor: 'test' }, { actor: { kind: 'cli' }, organisationId, groupId: vault.id, userId: babs.id });
    const before = (await scim.call('GET', `/Groups/${vault.id}`)).body;
    const refusedBefore = await refusals();

    const join = await patch(vault.id, [{ op: 'add', path: 'members', value: [{ value: mandy.id }] }]);
    expect(join).toMatchObject({ status: 403, body: { schemas: [ERROR_SCHEMA], status: '403' } });
    expect(join.body.detail).toContain('person_required');
    expect((await patch(unit.id, [{ op: 'add', path: 'members', value: [{ value: mandy.id }] }])).status).toBe(403);
    expect((await patch(vault.id, [{ op: 'remove', path: `members[value eq "${babs.id}"]` }])).status).toBe(403);
    expect((await patch(vault.id, [{ op: 'replace', path: 'displayName', value: 'Open Vault' }])).status).toBe(403);
    expect((await scim.call('PUT', `/Groups/${vault.id}`, { body: { schemas: [GROUP_SCHEMA], displayName: 'SCIM Vault', members: [] } })).status).toBe(403);
    expect((await scim.call('DELETE', `/Groups/${unit.id}`)).status).toBe(403);
    expect((await scim.call('DELETE', `/Groups/${vault.id}`)).body.detail).toContain('group_has_children');

    expect((await scim.call('GET', `/Groups/${vault.id}`)).body).toEqual(before);
    expect(await memberIds(unit.id)).toEqual([]);
    expect(await refusals()).toBe(refusedBefore + 6);
    // What names no one's authority the directory still keeps up to date.
    expect((await patch(vault.id, [{ op: 'replace', path: 'externalId', value: 'vault-1' }])).body.externalId).toBe('vault-1');
  });

  it('refuses to fill, or to rename a group into, a path a client requires', async () => {
    await registerClient(runtime, { actor: 'test' }, { client_name: 'Payroll', redirect_uris: ['https://payroll.example/cb'], required_groups: ['/Payroll Clerks'] }, { authority: organisationAdmin(organisationId) });
    const before = await groupCount();
    const filled = await scim.call('POST', '/Groups', { body: tourGuides({ displayName: 'payroll clerks', members: [{ value: babs.id }] }) });
    expect(filled.status).toBe(403);
    expect(await groupCount()).toBe(before);
    const other = await created({ members: [{ value: babs.id }] });
    expect((await patch(other.id, [{ op: 'replace', path: 'displayName', value: 'Payroll Clerks' }])).status).toBe(403);
    expect((await scim.call('GET', `/Groups/${other.id}`)).body.displayName).toBe(other.displayName);
    // An empty group of that name may be made: joining it is then the admins' to decide.
    const empty = await created({ displayName: 'Payroll Clerks' });
    expect((await patch(empty.id, [{ op: 'add', path: 'members', value: [{ value: babs.id }] }])).status).toBe(403);
  });
});

describe('what a membership gives', () => {
  it("a membership the directory made reaches a token's groups claim through the groups scope", async () => {
    const { user, cookie } = await signedInUser(runtime, undefined, { organisationId });
    const group = await created({ displayName: 'Claims Desk', members: [{ value: user.id }] });
    const client = await registerWebClient(runtime, { client_name: 'Desk app', scope: 'openid groups' });
    const request = await pkceRequest(client, { scope: 'openid groups' });
    const callback = await authorizeWithSession(server, request.params, cookie);
    const tokens = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect(decodeJwt(tokens.body.access_token as string).groups).toEqual(['/Claims Desk']);
    expect(decodeJwt(tokens.body.id_token as string).groups).toEqual(['/Claims Desk']);
    // Taken out by the directory, the next sign-in carries no such group.
    await patch(group.id, [{ op: 'remove', path: `members[value eq "${user.id}"]` }]);
    const again = await pkceRequest(client, { scope: 'openid groups' });
    const second = await authorizeWithSession(server, again.params, cookie);
    const without = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: second.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: again.verifier }, basicAuth(client));
    expect(decodeJwt(without.body.access_token as string).groups).toEqual([]);
  });
});
