/** The token endpoint and the tokens it issues: RFC 6749 §4-§6, RFC 7636 §4.6, RFC 9700, RFC 7662, RFC 7009, RFC 9449. */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { hashToken } from '../../src/crypto/random.js';
import { revokeSession } from '../../src/sessions/service.js';
import { authorizeWithSession, basicAuth, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server = await startOidcServer();
const { runtime } = server;
const client = await registerWebClient(runtime);
const other = await registerWebClient(runtime, { client_name: 'Other portal' });
const { user, cookie } = await signedInUser(runtime);

async function codeFor(forClient: { client_id: string }, extra: Record<string, string> = {}, withCookie = cookie): Promise<{ code: string; verifier: string }> {
  const request = await pkceRequest(forClient, extra);
  const callback = await authorizeWithSession(server, request.params, withCookie);
  return { code: callback.searchParams.get('code')!, verifier: request.verifier };
}

const token = (form: Record<string, string>, headers: Record<string, string> = basicAuth(client)) => postForm(server.url('/token'), form, headers);

const exchange = (code: string, verifier: string, extra: Record<string, string> = {}, headers?: Record<string, string>) =>
  token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...extra }, headers);

const refresh = (refreshToken: string, extra: Record<string, string> = {}, headers?: Record<string, string>) => token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, headers);

const introspect = async (tokenValue: string) => (await postForm(server.url('/introspect'), { token: tokenValue }, basicAuth(client))).body;

const userinfoStatus = async (accessToken: string) => (await fetch(server.url('/userinfo'), { headers: { authorization: `Bearer ${accessToken}` } })).status;

async function tokensFor(extra: Record<string, string> = {}) {
  const { code, verifier } = await codeFor(client, extra);
  const response = await exchange(code, verifier);
  expect(response.status).toBe(200);
  return response.body as { access_token: string; refresh_token: string; id_token: string };
}

describe('authorization_code grant', () => {
  it('refuses a wrong code_verifier and a missing one', async () => {
    const { code } = await codeFor(client);
    const wrong = await exchange(code, 'x'.repeat(43));
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const missing = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('refuses a redirect_uri that differs from the authorization request', async () => {
    const { code, verifier } = await codeFor(client);
    expect((await exchange(code, verifier, { redirect_uri: 'http://127.0.0.1:8765/other' })).body.error).toBe('invalid_grant');
  });

  it('refuses a code issued to another client', async () => {
    const { code, verifier } = await codeFor(other);
    expect((await exchange(code, verifier)).body.error).toBe('invalid_grant');
  });

  it('refuses an expired code', async () => {
    const { code, verifier } = await codeFor(client);
    runtime.clock.advance(61);
    expect((await exchange(code, verifier)).body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/expired/) });
    runtime.clock.set(new Date());
  });

  it('rejects a reused authorization code and revokes the tokens issued from it', async () => {
    const { code, verifier } = await codeFor(client);
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    const { access_token, refresh_token } = first.body as { access_token: string; refresh_token: string };
    expect(await userinfoStatus(access_token)).toBe(200);

    const second = await exchange(code, verifier);
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await refresh(refresh_token)).body.error).toBe('invalid_grant');
    expect(await introspect(access_token)).toEqual({ active: false });
    expect(await userinfoStatus(access_token)).toBe(401);
    const audit = await runtime.db.selectFrom('audit_log').select(['outcome', 'details']).where('action', '=', 'oidc.code_reused').execute();
    expect(audit.at(-1)).toMatchObject({ outcome: 'failure', details: { client_id: client.client_id, grant_revoked: true } });
  });

  it('lets exactly one of two concurrent redemptions of a code win', async () => {
    const { code, verifier } = await codeFor(client);
    const results = await Promise.all([exchange(code, verifier), exchange(code, verifier)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(results.find((r) => r.status === 400)!.body.error).toBe('invalid_grant');
  });

  it('stores only hashes of codes and refresh tokens', async () => {
    const { code, verifier } = await codeFor(client);
    const { refresh_token } = (await exchange(code, verifier)).body as { refresh_token: string };
    expect(await runtime.db.selectFrom('oauth_authorization_codes').select('code_hash').where('code_hash', '=', hashToken(code)).executeTakeFirst()).toBeDefined();
    expect(await runtime.db.selectFrom('oauth_refresh_tokens').select('token_hash').where('token_hash', '=', hashToken(refresh_token)).executeTakeFirst()).toBeDefined();
    const dump = JSON.stringify([await runtime.db.selectFrom('oauth_authorization_codes').selectAll().execute(), await runtime.db.selectFrom('oauth_refresh_tokens').selectAll().execute()]);
    expect(dump).not.toContain(code);
    expect(dump).not.toContain(refresh_token);
  });
});

describe('refresh_token grant: rotation with reuse detection', () => {
  it('rotates on every use; a used refresh token revokes the whole family and is audited', async () => {
    const { refresh_token: first } = await tokensFor();
    const rotated = await refresh(first);
    expect(rotated.status).toBe(200);
    const second = rotated.body.refresh_token as string;
    expect(second).not.toBe(first);

    const reuse = await refresh(first);
    expect(reuse).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The legitimate holder's newer token dies with the family.
    expect((await refresh(second)).body.error).toBe('invalid_grant');
    expect(await introspect(rotated.body.access_token as string)).toEqual({ active: false });
    const audit = await runtime.db.selectFrom('audit_log').select(['outcome', 'subject']).where('action', '=', 'oidc.refresh_token_reused').execute();
    expect(audit.at(-1)?.outcome).toBe('failure');
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const { refresh_token } = await tokensFor();
    const results = await Promise.all([refresh(refresh_token), refresh(refresh_token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  });

  it('refuses an expired refresh token', async () => {
    const { refresh_token } = await tokensFor();
    runtime.clock.advance(runtime.config.oidc.refreshTokenTtlSeconds + 1);
    expect((await refresh(refresh_token)).body.error).toBe('invalid_grant');
    runtime.clock.set(new Date());
  });

  it('may narrow the scope but never widen it (RFC 6749 §6)', async () => {
    const { refresh_token } = await tokensFor({ scope: 'openid email offline_access' });
    expect((await refresh(refresh_token, { scope: 'openid profile' })).body.error).toBe('invalid_scope');
    const narrowed = await refresh(refresh_token, { scope: 'openid' });
    expect(narrowed).toMatchObject({ status: 200, body: { scope: 'openid' } });
  });

  it("puts the user's current profile and email claims in a refreshed ID Token, only under the scopes that release them", async () => {
    const { user: person, cookie: personCookie } = await signedInUser(runtime);
    const { code, verifier } = await codeFor(client, { scope: 'openid profile email offline_access' }, personCookie);
    const { refresh_token, id_token } = (await exchange(code, verifier)).body as { refresh_token: string; id_token: string };
    expect(decodeJwt(id_token)).toMatchObject({ sub: person.id, name: person.display_name, preferred_username: person.username, email: person.email, org: { id: person.organisation_id }, roles: ['member'] });
    await runtime.db.updateTable('users').set({ display_name: 'Renamed Person', updated_at: runtime.clock.now() }).where('id', '=', person.id).execute();
    const full = await refresh(refresh_token);
    expect(full.status).toBe(200);
    expect(decodeJwt(full.body.id_token as string)).toMatchObject({ sub: person.id, name: 'Renamed Person', preferred_username: person.username, email: person.email, email_verified: false, org: { id: person.organisation_id }, roles: ['member'] });
    const narrowed = await refresh(full.body.refresh_token as string, { scope: 'openid' });
    expect(narrowed.status).toBe(200);
    const claims = decodeJwt(narrowed.body.id_token as string);
    expect(claims.sub).toBe(person.id);
    expect([claims.name, claims.preferred_username, claims.email, claims.org, claims.roles]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('ends with the session unless offline_access was granted (OIDC Core §11)', async () => {
    const { user: u, cookie: c } = await signedInUser(runtime);
    const online = await codeFor(client, { scope: 'openid' }, c);
    const offline = await codeFor(client, { scope: 'openid offline_access' }, c);
    const onlineTokens = (await exchange(online.code, online.verifier)).body;
    const offlineTokens = (await exchange(offline.code, offline.verifier)).body;
    const session = await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', u.id).executeTakeFirstOrThrow();
    await revokeSession(runtime.db, runtime.clock, session.id, 'test');
    expect((await refresh(onlineTokens.refresh_token as string)).body.error).toBe('invalid_grant');
    expect((await refresh(offlineTokens.refresh_token as string)).status).toBe(200);
  });

  it('refuses every token of a disabled user', async () => {
    const { user: u, cookie: c } = await signedInUser(runtime);
    const { code, verifier } = await codeFor(client, {}, c);
    const tokens = (await exchange(code, verifier)).body as { access_token: string; refresh_token: string };
    await runtime.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', u.id).execute();
    expect((await refresh(tokens.refresh_token)).body.error).toBe('invalid_grant');
    expect(await userinfoStatus(tokens.access_token)).toBe(401);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it("refuses a disabled user's code without claiming it", async () => {
    const { user: u, cookie: c } = await signedInUser(runtime);
    const { code, verifier } = await codeFor(client, {}, c);
    await runtime.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', u.id).execute();
    expect(await exchange(code, verifier)).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'the user account is not active' } });
    expect(await runtime.db.selectFrom('oauth_authorization_codes').select('used_at').where('code_hash', '=', hashToken(code)).executeTakeFirstOrThrow()).toEqual({ used_at: null });
  });
});

describe('access tokens', () => {
  it('expire after five minutes: userinfo answers 401 invalid_token, introspection inactive', async () => {
    const { access_token } = await tokensFor();
    runtime.clock.advance(301);
    const response = await fetch(server.url('/userinfo'), { headers: { authorization: `Bearer ${access_token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(await introspect(access_token)).toEqual({ active: false });
    runtime.clock.set(new Date());
  });

  it('are refused at userinfo without the openid scope (403 insufficient_scope) and without a token (401)', async () => {
    const backend = await registerClient(runtime, { actor: 'test' }, { client_name: 'Backend', grant_types: ['client_credentials'], scope: 'reports:read' }, { authority: OPERATOR });
    const cc = (await token({ grant_type: 'client_credentials' }, basicAuth(backend))).body.access_token as string;
    expect((await fetch(server.url('/userinfo'), { headers: { authorization: `Bearer ${cc}` } })).status).toBe(403);
    const none = await fetch(server.url('/userinfo'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="warta"');
  });

  it('can be revoked by their client (RFC 7009), not by another', async () => {
    const { access_token } = await tokensFor();
    const byOther = await postForm(server.url('/revoke'), { token: access_token }, basicAuth(other));
    expect(byOther.body.error).toBe('unauthorized_client');
    expect((await postForm(server.url('/revoke'), { token: access_token, token_type_hint: 'access_token' }, basicAuth(client))).status).toBe(200);
    expect(await introspect(access_token)).toEqual({ active: false });
    expect(await userinfoStatus(access_token)).toBe(401);
    // Unknown tokens: 200 all the same (§2.2).
    expect((await postForm(server.url('/revoke'), { token: 'not-a-token' }, basicAuth(client))).status).toBe(200);
  });
});

describe('introspection (RFC 7662)', () => {
  it('needs an authenticated confidential client', async () => {
    const { access_token } = await tokensFor();
    expect((await postForm(server.url('/introspect'), { token: access_token })).status).toBe(401);
    const app = await registerClient(runtime, { actor: 'test' }, { client_name: 'App', application_type: 'native', redirect_uris: ['gov.app.test:/cb'] }, { authority: OPERATOR });
    expect((await postForm(server.url('/introspect'), { token: access_token, client_id: app.client_id })).body.error).toBe('invalid_client');
  });

  it('describes a refresh token only to the client it was issued to', async () => {
    const { refresh_token } = await tokensFor();
    expect((await postForm(server.url('/introspect'), { token: refresh_token, token_type_hint: 'refresh_token' }, basicAuth(client))).body).toMatchObject({ active: true, client_id: client.client_id, sub: user.id });
    expect((await postForm(server.url('/introspect'), { token: refresh_token }, basicAuth(other))).body).toEqual({ active: false });
  });
});

describe('client authentication and request checks', () => {
  it('refuses a wrong client secret with 401 invalid_client and a Basic challenge', async () => {
    const response = await token({ grant_type: 'client_credentials' }, basicAuth({ client_id: client.client_id, client_secret: 'wrong' }));
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="warta"/);
  });

  it('refuses a method the client did not register, and two methods at once', async () => {
    const post = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: client.client_id, client_secret: client.client_secret! }, {});
    expect(post).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const both = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_secret: client.client_secret! });
    expect(both).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('refuses unknown grant types (no password, no implicit) and grants the client is not registered for', async () => {
    for (const grantType of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) expect((await token({ grant_type: grantType })).body.error).toBe('unsupported_grant_type');
    expect((await token({ grant_type: 'client_credentials' })).body.error).toBe('unauthorized_client');
    expect((await token({})).body.error).toBe('invalid_request');
  });

  it('refuses duplicated parameters and a body that is not a form', async () => {
    const duplicated = await fetch(server.url('/token'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basicAuth(client) }, body: 'grant_type=refresh_token&refresh_token=a&refresh_token=b' });
    expect(duplicated.status).toBe(400);
    expect(((await duplicated.json()) as { error: string }).error).toBe('invalid_request');
    const json = await fetch(server.url('/token'), { method: 'POST', headers: { 'content-type': 'application/json', ...basicAuth(client) }, body: '{"grant_type":"client_credentials"}' });
    expect(json.status).toBe(400);
  });

  it('refuses a replayed private_key_jwt assertion', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwtClient = await registerClient(runtime, { actor: 'test' }, { client_name: 'Signer', grant_types: ['client_credentials'], scope: 'x', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [await exportJWK(publicKey)] } }, { authority: OPERATOR });
    const now = Math.floor(runtime.clock.now().getTime() / 1000);
    const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256' }).setIssuer(jwtClient.client_id).setSubject(jwtClient.client_id).setAudience(server.issuer).setIssuedAt(now).setExpirationTime(now + 60).sign(privateKey);
    const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
    expect((await token(form, {})).status).toBe(200);
    expect(await token(form, {})).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });
});

describe('DPoP (RFC 9449)', () => {
  async function proofKey() {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = (htu: string) => new SignJWT({ jti: randomUUID(), htm: 'POST', htu, iat: Math.floor(runtime.clock.now().getTime() / 1000) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(privateKey);
    return { proof, jkt: await calculateJwkThumbprint(jwk) };
  }

  it('refuses a code bound with dpop_jkt when redeemed with another key (§10)', async () => {
    const key = await proofKey();
    const stranger = await proofKey();
    const { code, verifier } = await codeFor(client, { dpop_jkt: key.jkt });
    expect((await exchange(code, verifier, {}, { ...basicAuth(client), dpop: await stranger.proof(server.url('/token')) })).body.error).toBe('invalid_grant');
    expect((await exchange(code, verifier)).body.error).toBe('invalid_grant');
    const bound = await exchange(code, verifier, {}, { ...basicAuth(client), dpop: await key.proof(server.url('/token')) });
    expect(bound).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
  });

  it('requires a proof from a client registered with dpop_bound_access_tokens', async () => {
    const strict = await registerClient(runtime, { actor: 'test' }, { client_name: 'Strict', grant_types: ['client_credentials'], scope: 'x', dpop_bound_access_tokens: true }, { authority: OPERATOR });
    expect((await token({ grant_type: 'client_credentials' }, basicAuth(strict))).body.error).toBe('invalid_dpop_proof');
    const key = await proofKey();
    const bound = await token({ grant_type: 'client_credentials' }, { ...basicAuth(strict), dpop: await key.proof(server.url('/token')) });
    expect(bound.body.token_type).toBe('DPoP');
    const claims = JSON.parse(Buffer.from((bound.body.access_token as string).split('.')[1]!, 'base64url').toString());
    expect(claims.cnf).toEqual({ jkt: key.jkt });
  });

  it('refuses a proof for another endpoint, and a replayed proof', async () => {
    const key = await proofKey();
    const backend = await registerClient(runtime, { actor: 'test' }, { client_name: 'B', grant_types: ['client_credentials'], scope: 'x' }, { authority: OPERATOR });
    const wrongHtu = await token({ grant_type: 'client_credentials' }, { ...basicAuth(backend), dpop: await key.proof(server.url('/userinfo')) });
    expect(wrongHtu.body.error).toBe('invalid_dpop_proof');
    const proof = await key.proof(server.url('/token'));
    expect((await token({ grant_type: 'client_credentials' }, { ...basicAuth(backend), dpop: proof })).status).toBe(200);
    expect((await token({ grant_type: 'client_credentials' }, { ...basicAuth(backend), dpop: proof })).body.error).toBe('invalid_dpop_proof');
  });
});
