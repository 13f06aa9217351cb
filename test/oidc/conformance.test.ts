/**
 * What an OpenID conformance run checks beyond the code flow itself: RFC 8414 metadata,
 * who may introspect a token (RFC 7662 §4), the access token in a UserInfo form body
 * (RFC 6750 §2.2), and CORS for browser-based public clients.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { OPERATOR, organisationAdmin, registerClient } from '../../src/clients/service.js';
import { CONTENT_SECURITY_POLICY } from '../../src/http/security-headers.js';
import { createTestUser } from '../support/runtime.js';
import { authorizeWithSession, basicAuth, type OidcTestServer, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server: OidcTestServer = await startOidcServer();
const { runtime } = server;
const { cookie } = await signedInUser(runtime);

/** Signs the user in to `client` and redeems the code; the token response. */
async function tokensFor(client: { client_id: string; client_secret?: string }, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const request = await pkceRequest(client);
  const callback = await authorizeWithSession(server, request.params, cookie);
  const reply = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, { ...basicAuth(client), ...headers });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

describe('authorization server metadata (RFC 8414)', () => {
  it('serves /.well-known/oauth-authorization-server with the same document as OpenID discovery, which oauth4webapi accepts', async () => {
    const issuer = new URL(server.issuer);
    const oauthMetadata = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
    const openidMetadata = await (await fetch(server.url('/.well-known/openid-configuration'))).json();
    expect(oauthMetadata).toEqual(openidMetadata);
    expect(oauthMetadata.issuer).toBe(server.issuer);
  });
});

describe('introspection: who may be told about an access token (RFC 7662 §4)', () => {
  const API = 'https://payroll-api.example.gov';

  it("answers {active: false} to a confidential client that is neither the token's client nor in its audience", async () => {
    const portal = await registerWebClient(runtime);
    const bystander = await registerClient(runtime, { actor: 'test' }, { client_name: 'Bystander', grant_types: ['client_credentials'], scope: 'api' }, { authority: OPERATOR });
    const { access_token } = await tokensFor(portal);
    // The strict client's view: oauth4webapi's introspection request and response processing.
    const issuer = new URL(server.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    const introspect = async (client: { client_id: string; client_secret?: string }) =>
      oauth.processIntrospectionResponse(as, { client_id: client.client_id }, await oauth.introspectionRequest(as, { client_id: client.client_id }, oauth.ClientSecretBasic(client.client_secret!), access_token as string, { [oauth.allowInsecureRequests]: true }));
    expect(await introspect(bystander)).toEqual({ active: false });
    expect(await introspect(portal)).toMatchObject({ active: true, client_id: portal.client_id });
  });

  it('describes tokens of an audience to the resource server the operator allowed it, and only those', async () => {
    const portal = await registerWebClient(runtime, { access_token_audience: API });
    const otherPortal = await registerWebClient(runtime, { access_token_audience: 'https://wiki-api.example.gov' });
    const resource = await registerClient(runtime, { actor: 'test' }, { client_name: 'Payroll API', grant_types: ['client_credentials'], scope: 'api', introspection_audiences: [API] }, { authority: OPERATOR });
    expect(resource.introspection_audiences).toEqual([API]);
    const forApi = (await tokensFor(portal)).access_token as string;
    const forWiki = (await tokensFor(otherPortal)).access_token as string;
    expect((await postForm(server.url('/introspect'), { token: forApi }, basicAuth(resource))).body).toMatchObject({ active: true, aud: API, client_id: portal.client_id });
    expect((await postForm(server.url('/introspect'), { token: forWiki }, basicAuth(resource))).body).toEqual({ active: false });
  });

  it('lets only the operator set introspection_audiences: an organisation admin is refused and audited', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const attempt = registerClient(runtime, { actor: `user:${admin.id}` }, { client_name: 'Snoop', grant_types: ['client_credentials'], scope: 'api', introspection_audiences: [API] }, { authority: organisationAdmin(admin.organisation_id) });
    await expect(attempt).rejects.toMatchObject({ status: 403, code: 'operator_only_setting' });
    const refused = await runtime.db.selectFrom('audit_log').select('details').where('action', '=', 'client.operator_setting_refused').where('actor', '=', `user:${admin.id}`).executeTakeFirstOrThrow();
    expect(refused.details).toMatchObject({ settings: ['introspection_audiences'] });
  });
});

const portal = await registerWebClient(runtime);

describe('UserInfo with the access token in a form body (RFC 6750 §2.2)', () => {
  const form = (body: Record<string, string>, headers: Record<string, string> = {}) => fetch(server.url('/userinfo'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });

  it('answers a POST with access_token in the body', async () => {
    const { access_token } = await tokensFor(portal);
    const answer = await form({ access_token: access_token as string });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toHaveProperty('sub');
  });

  it('refuses a token sent both in the header and in the body with 400 invalid_request', async () => {
    const { access_token } = await tokensFor(portal);
    const answer = await form({ access_token: access_token as string }, { authorization: `Bearer ${access_token as string}` });
    expect(answer.status).toBe(400);
    expect((await answer.json()).error).toBe('invalid_request');
  });

  it('refuses a DPoP-bound token in the body: it needs the DPoP scheme and a proof', async () => {
    const bound = await registerWebClient(runtime, { dpop_bound_access_tokens: true });
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const proof = await new SignJWT({ jti: randomUUID(), htm: 'POST', htu: server.url('/token'), iat: Math.floor(runtime.clock.now().getTime() / 1000) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) }).sign(privateKey);
    const issued = await tokensFor(bound, { dpop: proof });
    expect(issued.token_type).toBe('DPoP');
    const answer = await form({ access_token: issued.access_token as string });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/);
  });
});

const ORIGIN = 'https://messenger.example.gov';
const messenger = await registerClient(runtime, { actor: 'test' }, { client_name: 'Web messenger', application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: [`${ORIGIN}/callback`], first_party: true }, { authority: OPERATOR });
// A confidential client's origin is no browser client's: its secret must never be in a browser.
await registerWebClient(runtime, { redirect_uris: ['https://portal.example.gov/callback'] });

describe('CORS for browser-based public clients', () => {
  const preflight = (path: string, origin: string) =>
    fetch(server.url(path), { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, dpop, content-type' } });

  it.each(['/token', '/userinfo', '/revoke'])('answers the preflight to %s for the origin of a public client, with the headers DPoP needs', async (path) => {
    const answer = await preflight(path, ORIGIN);
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(answer.headers.get('access-control-allow-headers')).toBe('Authorization, DPoP, Content-Type');
    expect(answer.headers.get('access-control-allow-methods')).toContain('POST');
    expect(answer.headers.get('access-control-expose-headers')).toBe('DPoP-Nonce, WWW-Authenticate');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets the registered origin read the token endpoint answer, errors included', async () => {
    const answer = await fetch(server.url('/token'), { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', client_id: messenger.client_id, redirect_uri: `${ORIGIN}/callback`, code_verifier: 'x'.repeat(43) }) });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(answer.headers.get('access-control-expose-headers')).toBe('DPoP-Nonce, WWW-Authenticate');
  });

  it('lets the registered origin read a token the endpoint issued, with every security header once', async () => {
    const service = await registerClient(runtime, { actor: 'test' }, { client_name: 'Service', grant_types: ['client_credentials'], scope: 'api' }, { authority: OPERATOR });
    const answer = await fetch(server.url('/token'), { method: 'POST', headers: { origin: ORIGIN, ...basicAuth(service), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=api' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(answer.headers.get('access-control-expose-headers')).toBe('DPoP-Nonce, WWW-Authenticate');
    expect(answer.headers.get('vary')).toBe('Origin');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('pragma')).toBe('no-cache');
    expect(answer.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('x-request-id')).toMatch(/^[\w-]+$/);
  });

  it.each(['https://evil.example', 'https://portal.example.gov', `${ORIGIN}.evil.example`, 'null'])('gives no CORS header to the unregistered origin %s', async (origin) => {
    const answer = await preflight('/token', origin);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('access-control-allow-headers')).toBeNull();
    const post = await fetch(server.url('/token'), { method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('gives no CORS header on the other back-channel endpoints, even to a registered origin', async () => {
    for (const path of ['/introspect', '/par']) expect((await preflight(path, ORIGIN)).headers.get('access-control-allow-origin')).toBeNull();
  });
});
