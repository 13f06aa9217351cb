/**
 * A SCIM client written against the examples of RFC 7644 (§3.3 create, §3.4.1 get,
 * §3.4.2 filter and pagination, §3.5.1 PUT, §3.5.2 PATCH, §3.6 DELETE, §3.14 ETags),
 * over real HTTP with a directory's client-credentials token.
 */
import { describe, expect, it } from 'vitest';
import { registerClient, organisationAdmin } from '../../src/clients/service.js';
import { resendInvitation } from '../../src/invitations/resend.js';
import { redeemInvitation } from '../../src/invitations/service.js';
import { storePasswordHash } from '../../src/passwords/service.js';
import { disablePerson } from '../../src/people/disable.js';
import { startSession } from '../../src/sessions/service.js';
import { createTestUser } from '../support/runtime.js';
import { startOidcServer } from '../oidc/support.js';
import { directory, ERROR_SCHEMA, PATCH_OP, USER_SCHEMA } from './support.js';

const server = await startOidcServer();
const { runtime } = server;
const admin = await createTestUser(runtime, { role: 'admin' });
const organisationId = admin.organisation_id;
const scim = await directory(server, organisationId);
const actor = `client:${scim.client.client_id}`;

let counter = 0;
/** The RFC 7644 §3.3 example, with a name and address of this organisation's domain. */
function bjensen(overrides: Record<string, unknown> = {}) {
  counter += 1;
  return {
    schemas: [USER_SCHEMA],
    userName: `bjensen${counter}`,
    externalId: `bjensen-${counter}`,
    name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
    emails: [{ value: `bjensen${counter}@example.gov`, type: 'work', primary: true }],
    ...overrides,
  };
}

async function created(overrides: Record<string, unknown> = {}) {
  const reply = await scim.call('POST', '/Users', { body: bjensen(overrides) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

const audit = (action: string, subject: string) => runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('subject', '=', subject).orderBy('id', 'desc').execute();
const person = (id: string) => runtime.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('creating a user (RFC 7644 §3.3)', () => {
  it('creates a person with a pending invitation whose link the answer never carries', async () => {
    const reply = await scim.call('POST', '/Users', { body: bjensen() });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('content-type')).toBe('application/scim+json');
    const user = reply.body;
    expect(user).toMatchObject({
      schemas: [USER_SCHEMA],
      userName: `bjensen${counter}`,
      externalId: `bjensen-${counter}`,
      name: { familyName: 'Jensen', givenName: 'Barbara' },
      displayName: 'Ms. Barbara J Jensen III',
      emails: [{ value: `bjensen${counter}@example.gov`, type: 'work', primary: true }],
      active: true,
      meta: { resourceType: 'User', location: server.url(`/scim/v2/Users/${user.id}`) },
    });
    expect(reply.headers.get('location')).toBe(user.meta.location);
    expect(reply.headers.get('etag')).toBe(user.meta.version);
    expect(user.meta.created).toBe(user.meta.lastModified);

    const invitation = await runtime.db.selectFrom('invitations').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(invitation).toMatchObject({ organisation_id: organisationId, role: 'member', redeemed_at: null, revoked_at: null });
    expect(invitation.token_hash).not.toBeNull();
    // No link, no token: not in the answer, not in any audit entry.
    expect(JSON.stringify(user)).not.toMatch(/enroll|invitation/i);
    const entries = await runtime.db.selectFrom('audit_log').selectAll().where('actor', '=', actor).execute();
    expect(JSON.stringify(entries)).not.toContain('/enroll');
    expect(await audit('scim.user_created', `user:${user.id}`)).toMatchObject([{ actor, details: { organisation_id: organisationId, invitation_id: invitation.id } }]);
  });

  it('the person enrols through a link an admin hands out from the console, as the provisioned person', async () => {
    const user = await created();
    const invitation = await runtime.db.selectFrom('invitations').select('id').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    const link = await resendInvitation(runtime, { actor: `user:${admin.id}` }, { id: invitation.id, admin });
    const redeemed = await runtime.db.transaction().execute((trx) => redeemInvitation(trx, runtime, { actor: 'test' }, link.token));
    expect(redeemed.user.id).toBe(user.id);
    expect(await runtime.db.selectFrom('users').select('id').where('username', '=', user.userName).execute()).toHaveLength(1);
  });

  it('a deactivated person cannot enrol with their invitation', async () => {
    const user = await created({ active: false });
    expect(user.active).toBe(false);
    const invitation = await runtime.db.selectFrom('invitations').select('id').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    const link = await resendInvitation(runtime, { actor: `user:${admin.id}` }, { id: invitation.id, admin });
    await expect(runtime.db.transaction().execute((trx) => redeemInvitation(trx, runtime, { actor: 'test' }, link.token))).rejects.toMatchObject({ status: 410 });
  });

  it('a provisioned person who already holds a credential gains no other through an old link', async () => {
    const user = await created();
    const invitation = await runtime.db.selectFrom('invitations').select('id').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    const link = await resendInvitation(runtime, { actor: `user:${admin.id}` }, { id: invitation.id, admin });
    await runtime.db.transaction().execute((trx) => storePasswordHash(trx, runtime.clock, user.id, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'));
    await expect(runtime.db.transaction().execute((trx) => redeemInvitation(trx, runtime, { actor: 'test' }, link.token))).rejects.toMatchObject({ status: 410, code: 'invitation_used' });
    expect(await runtime.db.selectFrom('invitations').select('redeemed_at').where('id', '=', invitation.id).executeTakeFirstOrThrow()).toEqual({ redeemed_at: null });
  });

  it('refuses a password (400 mutability): a directory never sets a credential', async () => {
    const reply = await scim.call('POST', '/Users', { body: bjensen({ password: 't1meMa$heen' }) });
    expect(reply).toMatchObject({ status: 400, body: { schemas: [ERROR_SCHEMA], status: '400', scimType: 'mutability' } });
  });

  it('refuses a taken userName, whatever its case, and a taken externalId (409 uniqueness)', async () => {
    const first = await created();
    const again = await scim.call('POST', '/Users', { body: bjensen({ userName: first.userName.toUpperCase() }) });
    expect(again).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
    const sameExternal = await scim.call('POST', '/Users', { body: bjensen({ externalId: first.externalId }) });
    expect(sameExternal).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
    // A person of another organisation holds their username too: usernames are instance-wide.
    const stranger = await createTestUser(runtime);
    expect((await scim.call('POST', '/Users', { body: bjensen({ userName: stranger.username, emails: [] }) })).body.scimType).toBe('uniqueness');
  });

  it('refuses an e-mail address outside the organisation\'s domains', async () => {
    const reply = await scim.call('POST', '/Users', { body: bjensen({ emails: [{ value: 'someone@b.gov', primary: true }] }) });
    expect(reply).toMatchObject({ status: 403, body: { schemas: [ERROR_SCHEMA] } });
    expect(reply.body.detail).toContain('email_domain_not_allowed');
  });

  it.each([
    ['malformed JSON', 'invalidSyntax', { raw: '{"schemas": [' }],
    ['a JSON array', 'invalidSyntax', { raw: '[]' }],
    ['no schemas', 'invalidSyntax', { body: { userName: 'nobody1' } }],
    ['another schema only', 'invalidSyntax', { body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], userName: 'nobody2' } }],
    ['an extension Warta does not keep', 'invalidValue', { body: { schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'], userName: 'nobody3' } }],
    ['an unknown attribute', 'invalidSyntax', { body: { schemas: [USER_SCHEMA], userName: 'nobody4', nickName: 'Babs' } }],
    ['an unknown name part', 'invalidSyntax', { body: { schemas: [USER_SCHEMA], userName: 'nobody5', name: { middleName: 'J' } } }],
    ['no userName', 'invalidValue', { body: { schemas: [USER_SCHEMA], displayName: 'Nobody' } }],
    ['a userName with spaces', 'invalidValue', { body: { schemas: [USER_SCHEMA], userName: 'no body' } }],
    ['a too long displayName', 'invalidValue', { body: { schemas: [USER_SCHEMA], userName: 'nobody6', displayName: 'x'.repeat(201) } }],
    ['a too long externalId', 'invalidValue', { body: { schemas: [USER_SCHEMA], userName: 'nobody7', externalId: 'x'.repeat(257) } }],
    ['active as a number', 'invalidValue', { body: { schemas: [USER_SCHEMA], userName: 'nobody8', active: 1 } }],
    ['emails not an array', 'invalidValue', { body: { schemas: [USER_SCHEMA], userName: 'nobody9', emails: 'a@example.gov' } }],
    ['too many emails', 'invalidValue', { body: { schemas: [USER_SCHEMA], userName: 'nobody10', emails: Array.from({ length: 11 }, (_, i) => ({ value: `n${i}@example.gov` })) } }],
    ['a NUL in a string', 'invalidSyntax', { raw: `{"schemas":["${USER_SCHEMA}"],"userName":"nobody11","displayName":"a\\u0000b"}` }],
  ])('refuses %s with 400 %s and creates nothing', async (_, scimType, input) => {
    const before = await runtime.db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const reply = await scim.call('POST', '/Users', input);
    expect(reply).toMatchObject({ status: 400, body: { schemas: [ERROR_SCHEMA], status: '400', scimType } });
    expect(await runtime.db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).toEqual(before);
  });

  it('refuses a body that is not JSON by its media type (415)', async () => {
    expect((await scim.call('POST', '/Users', { raw: 'userName=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415);
  });
});

describe('reading and finding users (RFC 7644 §3.4)', () => {
  it('gets a user by id with its version in ETag', async () => {
    const user = await created();
    const reply = await scim.call('GET', `/Users/${user.id}`);
    expect(reply).toMatchObject({ status: 200, body: { id: user.id, userName: user.userName, meta: { version: user.meta.version } } });
    expect(reply.headers.get('etag')).toBe(user.meta.version);
    expect((await scim.call('GET', '/Users/2819c223-7f76-453a-919d-413861904646')).status).toBe(404);
    expect((await scim.call('GET', '/Users/not-a-uuid')).status).toBe(404);
  });

  it('filters with eq (userName case-insensitively, externalId exactly), co, sw and and', async () => {
    const user = await created({ userName: 'filter.Target', externalId: 'ExT-42' });
    await created({ userName: 'filter.other', externalId: 'ext-43' });
    const find = async (filter: string) => {
      const reply = await scim.call('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return (reply.body.Resources as { userName: string }[]).map((r) => r.userName).sort();
    };
    expect(await find('userName eq "FILTER.target"')).toEqual(['filter.Target']);
    expect(await find(`${USER_SCHEMA}:userName eq "filter.target"`)).toEqual(['filter.Target']);
    expect(await find('externalId eq "ExT-42"')).toEqual(['filter.Target']);
    expect(await find('externalId eq "ext-42"')).toEqual([]);
    expect(await find('userName sw "filter."')).toEqual(['filter.Target', 'filter.other'].sort());
    expect(await find('userName co "TARGET"')).toEqual(['filter.Target']);
    expect(await find('userName sw "filter." and externalId co "43"')).toEqual(['filter.other']);
    // LIKE's own wildcards match only themselves.
    expect(await find('userName co "%"')).toEqual([]);
    expect(await find('userName sw "filter_"')).toEqual([]);
    const list = await scim.call('GET', `/Users?filter=${encodeURIComponent('userName eq "filter.target"')}`);
    expect(list.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [{ id: user.id }] });
  });

  it.each([
    ['an unsupported operator', 'userName gt "a"'],
    ['an attribute it cannot filter on', 'title eq "Tour Guide"'],
    ['an unquoted value', 'userName eq bjensen'],
    ['or', 'userName eq "a" or userName eq "b"'],
    ['grouping', '(userName eq "a")'],
    ['not', 'not (userName eq "a")'],
    ['a presence test', 'userName pr'],
    ['trailing garbage', 'userName eq "a" ]'],
    ['a too long filter', `userName eq "${'a'.repeat(1100)}"`],
    ['a NUL spelled as a JSON escape', 'userName eq "a\\u0000b"'],
    ['a broken JSON escape', 'userName eq "a\\qb"'],
  ])('refuses %s with 400 invalidFilter', async (_, filter) => {
    const reply = await scim.call('GET', `/Users?filter=${encodeURIComponent(filter)}`);
    expect(reply).toMatchObject({ status: 400, body: { schemas: [ERROR_SCHEMA], scimType: 'invalidFilter' } });
  });

  it('pages with startIndex and count, reporting totalResults (RFC 7644 §3.4.2.4)', async () => {
    for (let i = 0; i < 5; i++) await created({ userName: `page.${i}`, externalId: `page-${i}` });
    const page = async (query: string) => (await scim.call('GET', `/Users?filter=${encodeURIComponent('userName sw "page."')}&${query}`)).body;
    const first = await page('startIndex=1&count=2');
    expect(first).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 2 });
    const second = await page('startIndex=3&count=2');
    const last = await page('startIndex=5&count=2');
    expect(last).toMatchObject({ totalResults: 5, startIndex: 5, itemsPerPage: 1 });
    // The pages follow one order: together they hold every user once.
    const names = [first, second, last].flatMap((p) => p.Resources.map((r: any) => r.userName));
    expect(names.sort()).toEqual(['page.0', 'page.1', 'page.2', 'page.3', 'page.4']);
    expect(await page('count=0')).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    expect(await page('startIndex=0&count=-3')).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 0 });
    expect((await page('startIndex=6')).Resources).toEqual([]);
    expect((await scim.call('GET', '/Users?count=many')).body.scimType).toBe('invalidValue');
    // At most 200 a page, whatever the client asks.
    const all = await scim.call('GET', '/Users?count=100000');
    expect(all.status).toBe(200);
    expect(all.body.itemsPerPage).toBeLessThanOrEqual(200);
  });
});

describe('replacing a user (RFC 7644 §3.5.1) and versions (§3.14)', () => {
  it('replaces the attributes, clears the ones left out, and audits the change as the client', async () => {
    const user = await created();
    const reply = await scim.call('PUT', `/Users/${user.id}`, { body: { schemas: [USER_SCHEMA], userName: user.userName, displayName: 'Babs Jensen', emails: [{ value: `babs${counter}@example.gov` }] }, headers: { 'if-match': user.meta.version } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ displayName: 'Babs Jensen', emails: [{ value: `babs${counter}@example.gov` }], active: true });
    expect(reply.body.externalId).toBeUndefined();
    expect(reply.body.name.givenName).toBeUndefined();
    expect(reply.body.meta.version).not.toBe(user.meta.version);
    expect(await audit('scim.user_replaced', `user:${user.id}`)).toMatchObject([{ actor, details: { changed: expect.arrayContaining(['display_name', 'email', 'external_id', 'given_name', 'family_name']) } }]);
  });

  it('refuses a stale If-Match with 412 and changes nothing; * matches any version', async () => {
    const user = await created();
    const stale = await scim.call('PUT', `/Users/${user.id}`, { body: { schemas: [USER_SCHEMA], userName: user.userName, displayName: 'Changed' }, headers: { 'if-match': 'W/"stale"' } });
    expect(stale).toMatchObject({ status: 412, body: { schemas: [ERROR_SCHEMA], status: '412' } });
    expect((await person(user.id)).display_name).toBe(user.displayName);
    const patchStale = await scim.call('PATCH', `/Users/${user.id}`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }, headers: { 'if-match': 'W/"stale"' } });
    expect(patchStale.status).toBe(412);
    expect((await person(user.id)).status).toBe('active');
    expect((await scim.call('DELETE', `/Users/${user.id}`, { headers: { 'if-match': 'W/"stale"' } })).status).toBe(412);
    expect((await person(user.id)).status).toBe('active');
    expect((await scim.call('PUT', `/Users/${user.id}`, { body: { schemas: [USER_SCHEMA], userName: user.userName, displayName: 'Changed' }, headers: { 'if-match': '*' } })).status).toBe(200);
  });

  it('refuses to rename a user to a taken userName (409 uniqueness)', async () => {
    const [first, second] = [await created(), await created()];
    const reply = await scim.call('PUT', `/Users/${second.id}`, { body: { schemas: [USER_SCHEMA], userName: first.userName } });
    expect(reply).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
  });
});

describe('patching a user (RFC 7644 §3.5.2)', () => {
  const patch = (id: string, Operations: unknown[]) => scim.call('PATCH', `/Users/${id}`, { body: { schemas: [PATCH_OP], Operations } });

  it('adds, replaces and removes attributes by path', async () => {
    const user = await created();
    const reply = await patch(user.id, [
      { op: 'replace', path: 'name.givenName', value: 'Babs' },
      { op: 'replace', path: 'emails[type eq "work"].value', value: `babs.jensen${counter}@example.gov` },
      { op: 'remove', path: 'externalId' },
      { op: 'add', path: 'displayName', value: 'Babs Jensen' },
    ]);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ name: { givenName: 'Babs', familyName: 'Jensen' }, displayName: 'Babs Jensen', emails: [{ value: `babs.jensen${counter}@example.gov` }] });
    expect(reply.body.externalId).toBeUndefined();
  });

  it('takes a value object without a path, with dotted keys, as Entra ID sends them', async () => {
    const user = await created();
    const reply = await patch(user.id, [{ op: 'Replace', value: { 'name.familyName': 'Jensen-Smith', externalId: 'new-ext' } }]);
    expect(reply.body).toMatchObject({ name: { familyName: 'Jensen-Smith', givenName: 'Barbara' }, externalId: 'new-ext' });
  });

  it('deactivates with {"op":"replace","value":{"active":false}}: everything a disable does, audited as the client', async () => {
    const member = await createTestUser(runtime, { organisationId });
    await startSession(runtime.db, runtime, { userId: member.id, amr: ['hwk', 'user'], ip: '127.0.0.1', userAgent: 'vitest' });
    const reply = await patch(member.id, [{ op: 'replace', value: { active: false } }]);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.active).toBe(false);
    expect(await person(member.id)).toMatchObject({ status: 'disabled', disabled_by: actor });
    const live = await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', member.id).where('revoked_at', 'is', null).execute();
    expect(live).toEqual([]);
    expect(await runtime.db.selectFrom('security_events').select('type').where('user_id', '=', member.id).where('type', '=', 'account_disabled').execute()).toHaveLength(1);
    expect(await audit('person.disabled', `user:${member.id}`)).toMatchObject([{ actor }]);

    // Entra ID's spelling: a capitalised op and the string "True".
    const enabled = await patch(member.id, [{ op: 'Replace', path: 'active', value: 'True' }]);
    expect(enabled.body.active).toBe(true);
    expect((await person(member.id)).status).toBe('active');
    expect(await audit('person.enabled', `user:${member.id}`)).toMatchObject([{ actor }]);
  });

  it('does not re-enable a person an admin disabled: a machine undoes only a machine\'s disable (403)', async () => {
    const member = await createTestUser(runtime, { organisationId });
    await disablePerson(runtime, { actor: `user:${admin.id}` }, { actor: { kind: 'admin', userId: admin.id }, personId: member.id, reason: 'lost laptop, under investigation' });
    const reply = await patch(member.id, [{ op: 'replace', path: 'active', value: true }]);
    expect(reply).toMatchObject({ status: 403, body: { schemas: [ERROR_SCHEMA] } });
    expect(reply.body.detail).toContain('person_required');
    expect((await person(member.id)).status).toBe('disabled');
    // Its other attributes the directory still keeps up to date, if it leaves active alone.
    expect((await patch(member.id, [{ op: 'replace', path: 'displayName', value: 'Renamed' }])).body).toMatchObject({ displayName: 'Renamed', active: false });
  });

  it('cannot disable or re-enable a person holding a privileged role: that is a person\'s decision (403)', async () => {
    const otherAdmin = await createTestUser(runtime, { role: 'admin', organisationId });
    const reply = await patch(otherAdmin.id, [{ op: 'replace', path: 'active', value: false }]);
    expect(reply).toMatchObject({ status: 403, body: { schemas: [ERROR_SCHEMA] } });
    expect(reply.body.detail).toContain('person_required');
    expect((await person(otherAdmin.id)).status).toBe('active');
    // Nor bring back an admin another admin took out.
    await runtime.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', otherAdmin.id).execute();
    expect((await patch(otherAdmin.id, [{ op: 'replace', path: 'active', value: true }])).status).toBe(403);
    expect((await person(otherAdmin.id)).status).toBe('disabled');
  });

  it.each([
    ['no Operations', 'invalidSyntax', { schemas: [PATCH_OP] }],
    ['no schemas', 'invalidSyntax', { Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }],
    ['an unknown op', 'invalidSyntax', { schemas: [PATCH_OP], Operations: [{ op: 'move', path: 'displayName', value: 'x' }] }],
    ['an unknown path', 'invalidPath', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value: 'x' }] }],
    ['a malformed path', 'invalidPath', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }] }],
    ['remove without a path', 'noTarget', { schemas: [PATCH_OP], Operations: [{ op: 'remove' }] }],
    ['removing userName', 'invalidValue', { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'userName' }] }],
    ['a password', 'mutability', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'password', value: 'secret' }] }],
    ['active as a word', 'invalidValue', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: 'no' }] }],
    ['too many operations', 'invalidValue', { schemas: [PATCH_OP], Operations: Array.from({ length: 51 }, () => ({ op: 'replace', path: 'displayName', value: 'x' })) }],
  ])('refuses %s with 400 %s and changes nothing', async (_, scimType, body) => {
    const user = await created();
    const reply = await scim.call('PATCH', `/Users/${user.id}`, { body });
    expect(reply).toMatchObject({ status: 400, body: { scimType } });
    expect((await scim.call('GET', `/Users/${user.id}`)).body.meta.version).toBe(user.meta.version);
  });
});

describe('deleting a user (RFC 7644 §3.6)', () => {
  it('offboards the person: 204, then 404, their invitation revoked, their userName never given again', async () => {
    const user = await created();
    const reply = await scim.call('DELETE', `/Users/${user.id}`, { headers: { 'if-match': user.meta.version } });
    expect(reply.status).toBe(204);
    expect((await scim.call('GET', `/Users/${user.id}`)).status).toBe(404);
    expect((await scim.call('DELETE', `/Users/${user.id}`)).status).toBe(404);
    expect((await scim.call('PATCH', `/Users/${user.id}`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] } })).status).toBe(404);
    expect((await person(user.id)).status).toBe('offboarded');
    expect(await runtime.db.selectFrom('invitations').select('revoked_at').where('user_id', '=', user.id).executeTakeFirstOrThrow()).toMatchObject({ revoked_at: expect.any(Date) });
    expect(await audit('person.offboarded', `user:${user.id}`)).toMatchObject([{ actor }]);
    const list = await scim.call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${user.userName}"`)}`);
    expect(list.body.totalResults).toBe(0);
    expect((await scim.call('POST', '/Users', { body: bjensen({ userName: user.userName }) })).body.scimType).toBe('uniqueness');
  });
});

describe('another organisation', () => {
  it("a SCIM client of organisation A neither sees nor changes organisation B's people (404)", async () => {
    const otherAdmin = await createTestUser(runtime, { role: 'admin' });
    const theirs = await createTestUser(runtime, { organisationId: otherAdmin.organisation_id });
    const mine = await created();
    const before = await person(theirs.id);
    expect((await scim.call('GET', `/Users/${theirs.id}`)).status).toBe(404);
    expect((await scim.call('PUT', `/Users/${theirs.id}`, { body: { schemas: [USER_SCHEMA], userName: theirs.username, displayName: 'Taken over' } })).status).toBe(404);
    expect((await scim.call('PATCH', `/Users/${theirs.id}`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] } })).status).toBe(404);
    expect((await scim.call('DELETE', `/Users/${theirs.id}`)).status).toBe(404);
    expect(await person(theirs.id)).toEqual(before);
    const all = await scim.call('GET', '/Users?count=200');
    expect(all.body.Resources.map((r: any) => r.id)).not.toContain(theirs.id);
    expect(all.body.Resources.map((r: any) => r.id)).toContain(mine.id);
    expect((await scim.call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${theirs.username}"`)}`)).body.totalResults).toBe(0);

    // And their directory does not see mine.
    const theirDirectory = await directory(server, otherAdmin.organisation_id, 'other.gov');
    expect((await theirDirectory.call('GET', `/Users/${mine.id}`)).status).toBe(404);
  });

  it('an organisation admin cannot register a client holding scim: the scope is the operator\'s to give', async () => {
    await expect(registerClient(runtime, { actor: 'test' }, { client_name: 'Sneaky directory', grant_types: ['client_credentials'], scope: 'scim' }, { authority: organisationAdmin(organisationId) })).rejects.toMatchObject({ status: 400, code: 'invalid_client_metadata' });
  });
});
