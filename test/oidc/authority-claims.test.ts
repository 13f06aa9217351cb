/** Claims that carry authority: `groups` and attributes reach tokens and UserInfo only through granted scopes. */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { defineAttribute, setAttribute } from '../../src/attributes/service.js';
import { addGroupMember, createGroup } from '../../src/groups/service.js';
import { rejectionFrom } from './expect-error.js';
import { authorizeWithSession, basicAuth, browserGet, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server = await startOidcServer();
const { runtime } = server;
const actor = { actor: 'test' };

const { user, cookie } = await signedInUser(runtime);
const organisationId = user.organisation_id;
const ministry = await createGroup(runtime, actor, { organisationId, name: 'Ministry' });
const department = await createGroup(runtime, actor, { organisationId, name: 'Department', parentId: ministry.id });
const unit = await createGroup(runtime, actor, { organisationId, name: 'Unit', parentId: department.id });
await addGroupMember(runtime, actor, { actor: { kind: 'cli' }, organisationId, groupId: unit.id, userId: user.id });
await defineAttribute(runtime, actor, { organisationId, name: 'clearance_level', type: 'enum', allowedValues: ['restricted', 'secret', 'top_secret'] });
await defineAttribute(runtime, actor, { organisationId, name: 'employee_code', type: 'string' });
await setAttribute(runtime, actor, { actor: { kind: 'cli' }, organisationId, userId: user.id, name: 'clearance_level', value: 'secret' });
await setAttribute(runtime, actor, { actor: { kind: 'cli' }, organisationId, userId: user.id, name: 'employee_code', value: 'E-1234' });

const client = await registerWebClient(runtime, { client_name: 'Case files', scope: 'openid profile groups attr:clearance_level attr:employee_code offline_access' });
const GROUP_PATHS = ['/Ministry', '/Ministry/Department', '/Ministry/Department/Unit'];

async function tokensFor(scope: string) {
  const request = await pkceRequest(client, { scope });
  const callback = await authorizeWithSession(server, request.params, cookie);
  const reply = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const body = reply.body as { access_token: string; refresh_token?: string; id_token: string };
  const userinfo = (await (await fetch(server.url('/userinfo'), { headers: { authorization: `Bearer ${body.access_token}` } })).json()) as Record<string, unknown>;
  return { ...body, idClaims: decodeJwt(body.id_token), accessClaims: decodeJwt(body.access_token), userinfo };
}

describe('claims by scope', () => {
  it('releases groups (with their ancestors) and the named attributes with their scopes: ID token, access token, UserInfo', async () => {
    const { idClaims, accessClaims, userinfo } = await tokensFor('openid groups attr:clearance_level');
    for (const claims of [idClaims, accessClaims, userinfo]) {
      expect(claims.groups).toEqual(GROUP_PATHS);
      expect(claims.attributes).toEqual({ clearance_level: 'secret' });
    }
  });

  it('never releases groups or an attribute without its scope', async () => {
    const { idClaims, accessClaims, userinfo } = await tokensFor('openid profile');
    for (const claims of [idClaims, accessClaims, userinfo]) {
      expect(claims).not.toHaveProperty('groups');
      expect(claims).not.toHaveProperty('attributes');
    }
    // One attribute's scope releases that attribute only.
    const one = await tokensFor('openid attr:employee_code');
    for (const claims of [one.idClaims, one.accessClaims, one.userinfo]) {
      expect(claims.attributes).toEqual({ employee_code: 'E-1234' });
      expect(claims).not.toHaveProperty('groups');
    }
    // The access token never carries profile claims, whatever the scope.
    expect(one.accessClaims).not.toHaveProperty('name');
  });

  it('drops them when a refresh narrows the scope, and reads memberships afresh at each refresh', async () => {
    const { refresh_token } = await tokensFor('openid groups attr:clearance_level offline_access');
    const narrowed = await postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: refresh_token!, scope: 'openid offline_access' }, basicAuth(client));
    expect(narrowed.status).toBe(200);
    expect(decodeJwt(narrowed.body.access_token as string)).not.toHaveProperty('groups');
    expect(decodeJwt(narrowed.body.id_token as string)).not.toHaveProperty('attributes');

    const { refresh_token: second } = await tokensFor('openid groups offline_access');
    const outside = await signedInUser(runtime, undefined, { organisationId });
    const team = await createGroup(runtime, actor, { organisationId, name: `Team ${outside.user.id.slice(0, 8)}` });
    await addGroupMember(runtime, actor, { actor: { kind: 'cli' }, organisationId, groupId: team.id, userId: user.id });
    const refreshed = await postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: second! }, basicAuth(client));
    expect(decodeJwt(refreshed.body.access_token as string).groups).toContain(team.path);
  });

  it('refuses a scope the client is not registered for (invalid_scope at the redirect URI), and a malformed attr: scope at registration', async () => {
    const narrow = await registerWebClient(runtime, { client_name: 'Narrow', scope: 'openid profile' });
    const request = await pkceRequest(narrow, { scope: 'openid groups' });
    const response = await browserGet(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`, cookie);
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
    expect(await rejectionFrom(registerWebClient(runtime, { scope: 'openid attr:Clearance' }))).toMatchObject({ code: 'invalid_client_metadata' });
  });

  it('shows on the consent page what each scope releases', async () => {
    const thirdParty = await registerWebClient(runtime, { client_name: 'Third party', first_party: false, scope: 'openid groups attr:clearance_level' });
    const request = await pkceRequest(thirdParty, { scope: 'openid groups attr:clearance_level' });
    const page = await browserGet(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`, cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('The groups of your organisation you belong to');
    expect(html).toContain('as: groups');
    expect(html).toContain('Your “clearance_level”');
    expect(html).toContain('as: attributes.clearance_level');
  });

  it('is announced in discovery', async () => {
    const discovery = (await (await fetch(server.url('/.well-known/openid-configuration'))).json()) as { scopes_supported: string[]; claims_supported: string[] };
    expect(discovery.scopes_supported).toContain('groups');
    expect(discovery.claims_supported).toEqual(expect.arrayContaining(['groups', 'attributes']));
  });
});
