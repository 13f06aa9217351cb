/**
 * Warta as a certified client library sees it: openid-client v6 runs discovery, the
 * code flow with PKCE, ID token validation, userinfo, refresh with rotation,
 * introspection, revocation, PAR, DPoP, private_key_jwt, client credentials and
 * RP-initiated logout against a running server.
 */
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { ACR_HARDWARE } from '../../src/sessions/service.js';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { authorizeWithSession, browserGet, discover, locationOf, pkceRequest, POST_LOGOUT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server = await startOidcServer();
const { runtime } = server;

// openid-client stamps DPoP proofs and client assertions with the real time, which
// Warta accepts only seconds ahead of its own: on a busy machine the test clock,
// set when the runtime started, falls behind. Each test starts it at the real time.
beforeEach(() => runtime.clock.set(new Date()));

describe('discovery', () => {
  it('publishes complete, truthful metadata that openid-client accepts', async () => {
    const client = await registerWebClient(runtime);
    const config = await discover(server, client);
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(server.issuer);
    expect(metadata).toMatchObject({
      authorization_endpoint: server.url('/authorize'),
      token_endpoint: server.url('/token'),
      userinfo_endpoint: server.url('/userinfo'),
      jwks_uri: server.url('/.well-known/jwks.json'),
      end_session_endpoint: server.url('/end_session'),
      introspection_endpoint: server.url('/introspect'),
      revocation_endpoint: server.url('/revoke'),
      pushed_authorization_request_endpoint: server.url('/par'),
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['ES256'],
      acr_values_supported: ['urn:warta:acr:mfa', 'urn:warta:acr:phishing-resistant', 'urn:warta:acr:hardware'],
      authorization_response_iss_parameter_supported: true,
      request_uri_parameter_supported: false,
      backchannel_logout_supported: true,
    });
    expect(metadata.grant_types_supported).not.toContain('implicit');
    expect(metadata.grant_types_supported).not.toContain('password');
    // Every advertised endpoint answers (no 404 behind a published URL).
    for (const key of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'pushed_authorization_request_endpoint'] as const) {
      const response = await fetch(metadata[key] as string);
      expect(response.status, key).not.toBe(404);
    }
  });
});

describe('authorization code flow with PKCE', () => {
  it('signs a passkey user in: ID token with acr, amr, sid, auth_time, at_hash; userinfo; refresh with rotation; revocation', async () => {
    const client = await registerWebClient(runtime);
    const config = await discover(server, client);
    const { user, cookie } = await signedInUser(runtime, ['hwk', 'user']);
    const request = await pkceRequest(client);

    const authorizationUrl = oidc.buildAuthorizationUrl(config, request.params);
    const callback = await authorizeWithSession(server, Object.fromEntries(authorizationUrl.searchParams), cookie);
    expect(callback.searchParams.get('iss')).toBe(server.issuer);

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(300);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: server.issuer, sub: user.id, aud: client.client_id, nonce: request.nonce, acr: ACR_HARDWARE, amr: ['hwk', 'user'] });
    expect(typeof claims.sid).toBe('string');
    expect(typeof claims.auth_time).toBe('number');
    expect(typeof claims.at_hash).toBe('string');

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    expect(userinfo).toMatchObject({ sub: user.id, name: user.display_name, preferred_username: user.username, email: user.email, email_verified: false, roles: ['member'] });
    expect(userinfo.org).toMatchObject({ id: user.organisation_id });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await oidc.tokenIntrospection(config, refreshed.refresh_token!)).toMatchObject({ active: true, sub: user.id, client_id: client.client_id });
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(user.id);

    const introspected = await oidc.tokenIntrospection(config, refreshed.access_token);
    expect(introspected).toMatchObject({ active: true, sub: user.id, client_id: client.client_id, token_type: 'Bearer' });

    await oidc.tokenRevocation(config, refreshed.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Revoking the refresh token revoked its grant: the access token minted from it is dead too.
    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).toEqual({ active: false });
    await expect(oidc.fetchUserInfo(config, refreshed.access_token, user.id)).rejects.toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
  });

  it('issues RFC 9068 access tokens: typ at+jwt, aud, client_id, scope, jti', async () => {
    const client = await registerWebClient(runtime);
    const config = await discover(server, client);
    const { user, cookie } = await signedInUser(runtime);
    const request = await pkceRequest(client, { scope: 'openid email' });
    const callback = await authorizeWithSession(server, request.params, cookie);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    const [header, payload] = tokens.access_token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({ iss: server.issuer, sub: user.id, aud: client.client_id, client_id: client.client_id, scope: 'openid email' });
    expect(payload.exp - payload.iat).toBe(300);
    expect(typeof payload.jti).toBe('string');
    // No offline_access requested, but the client has the refresh grant: a session-bound refresh token.
    expect(await oidc.tokenIntrospection(config, tokens.refresh_token!)).toMatchObject({ active: true, sub: user.id, client_id: client.client_id, scope: 'openid email' });
  });

  it('completes through PAR (RFC 9126) with buildAuthorizationUrlWithPAR', async () => {
    const client = await registerWebClient(runtime);
    const config = await discover(server, client);
    const { user, cookie } = await signedInUser(runtime);
    const request = await pkceRequest(client);
    const url = await oidc.buildAuthorizationUrlWithPAR(config, request.params);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const callback = await authorizeWithSession(server, Object.fromEntries(url.searchParams), cookie);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.claims()).toMatchObject({ iss: server.issuer, sub: user.id, aud: client.client_id, nonce: request.nonce });
    // A request_uri is single-use (RFC 9126 §4).
    const again = await browserGet(url, cookie);
    expect(again.status).toBe(400);
  });

  it('binds tokens of a public native client to its DPoP key (RFC 9449)', async () => {
    const client = await registerClient(runtime, { actor: 'test' }, {
      client_name: 'Messenger (iOS)',
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['gov.messenger.app:/oauth/callback', 'http://127.0.0.1/callback'],
      first_party: true,
      dpop_bound_access_tokens: true,
    }, { authority: OPERATOR });
    const config = await discover(server, client);
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const { user, cookie } = await signedInUser(runtime);
    // RFC 8252 §7.3: any port on the loopback redirect.
    const request = await pkceRequest(client, { redirect_uri: 'http://127.0.0.1:50123/callback' });
    const callback = await authorizeWithSession(server, request.params, cookie);
    expect(callback.origin).toBe('http://127.0.0.1:50123');
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce }, undefined, { DPoP: dpop });
    expect(tokens.token_type).toBe('dpop');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, user.id, { DPoP: dpop });
    expect(userinfo.sub).toBe(user.id);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type).toBe('dpop');

    // Without the key, the refresh token and the access token are useless.
    const thief = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP: thief })).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(config, refreshed.access_token, user.id, { DPoP: thief })).rejects.toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    const asBearer = await fetch(server.url('/userinfo'), { headers: { authorization: `Bearer ${refreshed.access_token}` } });
    expect(asBearer.status).toBe(401);
  });

  it('authenticates a private_key_jwt client', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const client = await registerWebClient(runtime, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] } });
    const config = await discover(server, client, oidc.PrivateKeyJwt({ key: privateKey, kid: 'k1' }));
    const { user, cookie } = await signedInUser(runtime);
    const request = await pkceRequest(client);
    const callback = await authorizeWithSession(server, request.params, cookie);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.claims()).toMatchObject({ iss: server.issuer, sub: user.id, aud: client.client_id, nonce: request.nonce });
  });
});

describe('client credentials', () => {
  it('gives a back-end an ES256 JWT access token for itself, with client_secret_post too', async () => {
    const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Directory sync', grant_types: ['client_credentials'], scope: 'directory:read directory:write', token_endpoint_auth_method: 'client_secret_post' }, { authority: OPERATOR });
    const config = await discover(server, client, oidc.ClientSecretPost(client.client_secret!));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'directory:read' });
    expect(tokens.refresh_token).toBeUndefined();
    const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, sub: client.client_id, client_id: client.client_id, scope: 'directory:read' });
    const all = await oidc.clientCredentialsGrant(config);
    expect(all.scope).toBe('directory:read directory:write');
  });
});

describe('RP-initiated logout', () => {
  it('ends the Warta session for a matching id_token_hint and returns to the registered post-logout URI with state', async () => {
    const client = await registerWebClient(runtime);
    const config = await discover(server, client);
    const { cookie } = await signedInUser(runtime);
    const request = await pkceRequest(client, { scope: 'openid' });
    const callback = await authorizeWithSession(server, request.params, cookie);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });

    const logoutUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' });
    const response = await browserGet(logoutUrl, cookie);
    expect(locationOf(response).href).toBe(`${POST_LOGOUT_URI}?state=bye`);
    expect(response.headers.get('set-cookie')).toMatch(/warta_session=;/);

    // The session is over: the next authorization needs a sign-in, and the session-bound refresh token is dead.
    const next = await browserGet(`${server.url('/authorize')}?${new URLSearchParams((await pkceRequest(client)).params)}`, cookie);
    expect(locationOf(next).pathname).toBe('/signin');
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
