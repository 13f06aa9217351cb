/**
 * Who may call /scim/v2 (an operator-approved client's token with `scim`, for its own
 * organisation) and the discovery resources (RFC 7644 §4, RFC 7643 §5–7).
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { setClientScim } from '../../src/clients/scim-client.js';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { createGrant } from '../../src/grants/service.js';
import { startSession } from '../../src/sessions/service.js';
import { basicAuth, postForm, startOidcServer } from '../oidc/support.js';
import { createTestUser } from '../support/runtime.js';
import { clientToken, directory, ERROR_SCHEMA, scimCall, scimClient, USER_SCHEMA } from './support.js';

const server = await startOidcServer();
const { runtime } = server;
const admin = await createTestUser(runtime, { role: 'admin' });
const organisationId = admin.organisation_id;
const scim = await directory(server, organisationId);
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe('authentication', () => {
  it('asks for a token (401 with a Bearer challenge, in the SCIM error envelope)', async () => {
    const reply = await scimCall(server, undefined, 'GET', '/Users');
    expect(reply).toMatchObject({ status: 401, body: { schemas: [ERROR_SCHEMA], status: '401' } });
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer realm="warta"/);
    expect(reply.headers.get('content-type')).toBe('application/scim+json');
    expect((await scimCall(server, 'not-a-token', 'GET', '/Users')).status).toBe(401);
  });

  it('refuses a token without the scim scope (403 insufficient_scope)', async () => {
    const client = await scimClient(server, organisationId, { scim: false });
    const token = await clientToken(server, client, 'directory:read');
    const reply = await scimCall(server, token, 'GET', '/Users');
    expect(reply).toMatchObject({ status: 403, body: { schemas: [ERROR_SCHEMA] } });
    expect(reply.body.detail).toContain('insufficient_scope');
    expect(reply.headers.get('www-authenticate')).toContain('scope="scim"');
    expect(await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'authority.refused').where('subject', '=', `client:${client.client_id}`).execute()).toMatchObject([
      { outcome: 'failure', details: { role: 'scim', reason: 'insufficient_scope', method: 'GET', path: '/scim/v2/Users' } },
    ]);
  });

  it('gives the scim scope only to a client the operator allowed it', async () => {
    const client = await scimClient(server, organisationId, { scim: false });
    const refused = await postForm(server.url('/token'), { grant_type: 'client_credentials', scope: 'scim' }, basicAuth(client));
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });

  it("stops a client's tokens the moment the operator withdraws scim", async () => {
    const client = await scimClient(server, organisationId);
    const token = await clientToken(server, client, 'scim');
    expect((await scimCall(server, token, 'GET', '/Users')).status).toBe(200);
    await setClientScim(runtime, { actor: 'cli' }, { clientId: client.client_id, allowed: false });
    const reply = await scimCall(server, token, 'GET', '/Users');
    expect(reply.status).toBe(403);
    expect(reply.body.detail).toContain('insufficient_scope');
    expect(await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'client.scim_changed').where('subject', '=', `client:${client.client_id}`).orderBy('id').execute()).toMatchObject([
      { actor: 'cli', details: { after: true } },
      { actor: 'cli', details: { before: true, after: false } },
    ]);
  });

  it('refuses scim to a client of no organisation, and to one without client credentials', async () => {
    const operators = await registerClient(runtime, { actor: 'cli' }, { client_name: 'Operator machine', grant_types: ['client_credentials'], scope: 'directory:read' }, { authority: OPERATOR });
    await expect(setClientScim(runtime, { actor: 'cli' }, { clientId: operators.client_id, allowed: true })).rejects.toMatchObject({ status: 400 });
  });

  it('takes a DPoP-bound token only with its proof', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = (method: string, url: string, accessToken?: string) =>
      new SignJWT({ jti: randomUUID(), htm: method, htu: url, iat: Math.floor(runtime.clock.now().getTime() / 1000), ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey);
    expect(await calculateJwkThumbprint(jwk)).toBeTruthy();
    const issued = await postForm(server.url('/token'), { grant_type: 'client_credentials', scope: 'scim' }, { ...basicAuth(scim.client), dpop: await proof('POST', server.url('/token')) });
    expect(issued.body.token_type).toBe('DPoP');
    const token = issued.body.access_token as string;
    expect((await scimCall(server, token, 'GET', '/Users')).status).toBe(401);
    const url = server.url('/scim/v2/Users');
    const withProof = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await proof('GET', url, token) } });
    expect(withProof.status).toBe(200);
  });

  it("a person's own token is refused: a directory acts for the organisation (403)", async () => {
    const member = await createTestUser(runtime, { organisationId });
    const { session } = await startSession(runtime.db, runtime, { userId: member.id, amr: ['hwk', 'user'], ip: '127.0.0.1', userAgent: 'vitest' });
    const grant = await createGrant(runtime.db, runtime.clock, { clientId: scim.client.client_id, session, scope: 'scim', dpopJkt: null, lifetimeSeconds: 3600 });
    const issued = await runtime.tokens.issueAccessToken({ client: { client_id: scim.client.client_id, access_token_audience: null }, subject: member.id, scopes: ['scim'], grant });
    const reply = await scimCall(server, issued.accessToken, 'GET', '/Users');
    expect(reply).toMatchObject({ status: 403, body: { schemas: [ERROR_SCHEMA] } });
    expect(reply.body.detail).toContain('not a token issued to a person');
  });
});

describe('discovery (RFC 7644 §4)', () => {
  it('ServiceProviderConfig says what is supported', async () => {
    const reply = await scim.call('GET', '/ServiceProviderConfig');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/scim+json');
    expect(reply.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: true },
      authenticationSchemes: [{ type: 'oauthbearertoken', primary: true }],
      meta: { resourceType: 'ServiceProviderConfig', location: server.url('/scim/v2/ServiceProviderConfig') },
    });
  });

  it('ResourceTypes lists User and Group', async () => {
    const reply = await scim.call('GET', '/ResourceTypes');
    expect(reply.body).toMatchObject({
      totalResults: 2,
      Resources: [
        { id: 'User', endpoint: '/Users', schema: USER_SCHEMA, meta: { location: server.url('/scim/v2/ResourceTypes/User') } },
        { id: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA, meta: { location: server.url('/scim/v2/ResourceTypes/Group') } },
      ],
    });
    expect((await scim.call('GET', '/ResourceTypes/User')).body.id).toBe('User');
    expect((await scim.call('GET', '/ResourceTypes/Group')).body.id).toBe('Group');
    expect((await scim.call('GET', '/ResourceTypes/Role')).status).toBe(404);
  });

  it('Schemas describes the User and Group attributes Warta keeps', async () => {
    const reply = await scim.call('GET', '/Schemas');
    expect(reply.body.Resources).toHaveLength(2);
    const [user, group] = reply.body.Resources;
    expect(user.id).toBe(USER_SCHEMA);
    expect(user.attributes.map((a: { name: string }) => a.name)).toEqual(['userName', 'name', 'displayName', 'emails', 'active', 'password']);
    expect(user.attributes[0]).toMatchObject({ name: 'userName', required: true, uniqueness: 'server' });
    expect((await scim.call('GET', `/Schemas/${USER_SCHEMA}`)).body.id).toBe(USER_SCHEMA);
    expect(group.id).toBe(GROUP_SCHEMA);
    expect(group.attributes.map((a: { name: string }) => a.name)).toEqual(['displayName', 'members']);
    expect(group.attributes[1].subAttributes.map((a: { name: string }) => a.name)).toEqual(['value', '$ref', 'display', 'type']);
    expect((await scim.call('GET', `/Schemas/${GROUP_SCHEMA}`)).body.id).toBe(GROUP_SCHEMA);
  });

  it('answers /Bulk with 501 and unknown paths with 404, as SCIM errors', async () => {
    expect(await scim.call('POST', '/Bulk', { body: {} })).toMatchObject({ status: 501, body: { schemas: [ERROR_SCHEMA], status: '501' } });
    expect(await scim.call('GET', '/Nothing')).toMatchObject({ status: 404, body: { schemas: [ERROR_SCHEMA] } });
  });
});
