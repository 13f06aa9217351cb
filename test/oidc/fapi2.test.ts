/**
 * The fapi2 security profile (FAPI 2.0 Security Profile) as an independent strict
 * client sees it: oauth4webapi over real HTTP. Every refusal of the profile comes with
 * the error code the specs name, and beside it the same request from a baseline client,
 * still accepted. The profile reaches a client through its own setting, its
 * organisation's default, or the instance floor.
 */
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, importJWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { withDpopNonce } from '../support/dpop-nonce-retry.js';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ClientMetadataInput } from '../../src/clients/metadata.js';
import { type ClientView, OPERATOR, type RegistrationOptions, registerClient, updateClient } from '../../src/clients/service.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { previewPolicyChange, setPolicy } from '../../src/orgs/policy-admin.js';
import { authorizeWithSession, browserGet, locationOf, type OidcTestServer, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

// Codes live 300 s here, so a baseline client may redeem a code a fapi2 client may not.
const server = await startOidcServer({ WARTA_AUTHORIZATION_CODE_TTL_SECONDS: '300' });
const { runtime } = server;

// oauth4webapi stamps proofs and assertions with the real time; each test starts the server's clock there.
beforeEach(() => runtime.clock.set(new Date()));

const insecure = { [oauth.allowInsecureRequests]: true } as const;

async function authorizationServer(target: OidcTestServer = server): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(target.issuer);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

interface KeyedClient {
  view: ClientView;
  client: oauth.Client;
  auth: oauth.ClientAuth;
}

const FAPI2: ClientMetadataInput = { security_profile: 'fapi2' };

/** A private_key_jwt web client (code, refresh and client credentials grants) whose key signs with `alg`. */
async function keyedClient(overrides: ClientMetadataInput = {}, options: { alg?: string; target?: OidcTestServer; registration?: RegistrationOptions } = {}): Promise<KeyedClient> {
  const { privateKey, publicKey } = await oauth.generateKeyPair(options.alg ?? 'ES256', { extractable: false });
  const view = await registerWebClient((options.target ?? server).runtime, {
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] },
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    scope: 'openid profile offline_access accounts',
    ...overrides,
  }, options.registration);
  return { view, client: { client_id: view.client_id }, auth: oauth.PrivateKeyJwt({ key: privateKey, kid: 'k1' }) };
}

const dpopKey = async (client: oauth.Client, alg = 'ES256') => oauth.DPoP(client, await oauth.generateKeyPair(alg));


/** A client credentials token request; resolves to the token response or rejects with the server's error. */
async function clientCredentials(as: oauth.AuthorizationServer, keyed: Pick<KeyedClient, 'client' | 'auth'>, dpop?: oauth.DPoPHandle): Promise<oauth.TokenEndpointResponse> {
  return withDpopNonce(async () => {
    const response = await oauth.clientCredentialsGrantRequest(as, keyed.client, keyed.auth, { scope: 'accounts' }, { ...insecure, ...(dpop ? { DPoP: dpop } : {}) });
    return oauth.processClientCredentialsResponse(as, keyed.client, response);
  });
}

interface CodeFlow {
  callback: URLSearchParams;
  verifier: string;
  nonce: string;
}

function authorizationParams(keyed: KeyedClient, verifier: string, state: string, nonce: string, challenge: string): Record<string, string> {
  return { client_id: keyed.view.client_id, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid offline_access', code_challenge: challenge, code_challenge_method: 'S256', state, nonce };
}

/** PAR, then /authorize with the request_uri as a signed-in browser, then the callback checked (state, iss). */
async function signInWithPar(as: oauth.AuthorizationServer, keyed: KeyedClient, cookie: string, dpop?: oauth.DPoPHandle, target: OidcTestServer = server): Promise<CodeFlow> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const params = authorizationParams(keyed, verifier, state, nonce, await oauth.calculatePKCECodeChallenge(verifier));
  const pushed = await withDpopNonce(async () => oauth.processPushedAuthorizationResponse(as, keyed.client, await oauth.pushedAuthorizationRequest(as, keyed.client, keyed.auth, params, { ...insecure, ...(dpop ? { DPoP: dpop } : {}) })));
  const callback = await authorizeWithSession(target, { client_id: keyed.view.client_id, request_uri: pushed.request_uri }, cookie);
  return { callback: oauth.validateAuthResponse(as, keyed.client, callback, state), verifier, nonce };
}

/** /authorize with the parameters in the browser's URL (no PAR): the error at the redirect URI, or null when a code came back. */
async function errorWithoutPar(keyed: KeyedClient, cookie: string, target: OidcTestServer = server): Promise<string | null> {
  const verifier = oauth.generateRandomCodeVerifier();
  const params = authorizationParams(keyed, verifier, 'st', 'n', await oauth.calculatePKCECodeChallenge(verifier));
  const callback = locationOf(await browserGet(`${target.url('/authorize')}?${new URLSearchParams(params)}`, cookie));
  return callback.searchParams.get('error');
}

async function redeem(as: oauth.AuthorizationServer, keyed: KeyedClient, flow: CodeFlow, dpop?: oauth.DPoPHandle): Promise<oauth.TokenEndpointResponse> {
  return withDpopNonce(async () => {
    const response = await oauth.authorizationCodeGrantRequest(as, keyed.client, keyed.auth, flow.callback, REDIRECT_URI, flow.verifier, { ...insecure, ...(dpop ? { DPoP: dpop } : {}) });
    return oauth.processAuthorizationCodeResponse(as, keyed.client, response, { expectedNonce: flow.nonce, requireIdToken: true });
  });
}

async function refresh(as: oauth.AuthorizationServer, keyed: KeyedClient, refreshToken: string, dpop?: oauth.DPoPHandle): Promise<oauth.TokenEndpointResponse> {
  return withDpopNonce(async () => {
    const response = await oauth.refreshTokenGrantRequest(as, keyed.client, keyed.auth, refreshToken, { ...insecure, ...(dpop ? { DPoP: dpop } : {}) });
    return oauth.processRefreshTokenResponse(as, keyed.client, response);
  });
}

describe('a fapi2 client', () => {
  it('completes PAR + DPoP + private_key_jwt: DPoP-bound tokens, iss in the response, the ID token checked by a strict client', async () => {
    const as = await authorizationServer();
    const keyed = await keyedClient(FAPI2);
    expect(keyed.view).toMatchObject({ security_profile: 'fapi2', require_pushed_authorization_requests: true, dpop_bound_access_tokens: true });
    const { user, cookie } = await signedInUser(runtime);
    const dpop = await dpopKey(keyed.client);
    const flow = await signInWithPar(as, keyed, cookie, dpop);
    const tokens = await redeem(as, keyed, flow, dpop);
    expect(tokens.token_type).toBe('dpop');
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ sub: user.id, aud: keyed.view.client_id, iss: server.issuer });
    const userinfo = await withDpopNonce(async () => oauth.processUserInfoResponse(as, keyed.client, user.id, await oauth.userInfoRequest(as, keyed.client, tokens.access_token, { ...insecure, DPoP: dpop })));
    expect(userinfo.sub).toBe(user.id);
  });

  it('is refused at /authorize without PAR (invalid_request, RFC 9126 §6); a baseline client is not', async () => {
    const { cookie } = await signedInUser(runtime);
    expect(await errorWithoutPar(await keyedClient(FAPI2), cookie)).toBe('invalid_request');
    expect(await errorWithoutPar(await keyedClient(), cookie)).toBeNull();
  });

  it('is refused without PAR also when only require_pushed_authorization_requests is set on a baseline client', async () => {
    const { cookie } = await signedInUser(runtime);
    const keyed = await keyedClient({ require_pushed_authorization_requests: true });
    expect(keyed.view).toMatchObject({ security_profile: 'baseline', require_pushed_authorization_requests: true });
    expect(await errorWithoutPar(keyed, cookie)).toBe('invalid_request');
    const as = await authorizationServer();
    expect((await signInWithPar(as, keyed, cookie)).callback.get('code')).toBeTruthy();
  });

  it('gets no bearer token: a token request without a DPoP proof is invalid_request; a baseline client gets a bearer token', async () => {
    const as = await authorizationServer();
    await expect(clientCredentials(as, await keyedClient(FAPI2))).rejects.toMatchObject({ error: 'invalid_request', status: 400 });
    expect((await clientCredentials(as, await keyedClient())).token_type).toBe('bearer');
  });

  it('refuses a code redeemed without DPoP too, so no bearer token leaves the code flow', async () => {
    const as = await authorizationServer();
    const keyed = await keyedClient(FAPI2);
    const { cookie } = await signedInUser(runtime);
    const flow = await signInWithPar(as, keyed, cookie);
    await expect(redeem(as, keyed, flow)).rejects.toMatchObject({ error: 'invalid_request' });
  });

  it('refuses a client assertion signed with RS256 (invalid_client); a baseline client may use RS256', async () => {
    const as = await authorizationServer();
    const strict = await keyedClient(FAPI2, { alg: 'RS256' });
    await expect(clientCredentials(as, strict, await dpopKey(strict.client))).rejects.toMatchObject({ error: 'invalid_client', status: 401 });
    const baseline = await keyedClient({}, { alg: 'RS256' });
    expect((await clientCredentials(as, baseline, await dpopKey(baseline.client))).token_type).toBe('dpop');
  });

  it('accepts PS256 and EdDSA client assertions and DPoP proofs', async () => {
    const as = await authorizationServer();
    for (const alg of ['PS256', 'EdDSA']) {
      const keyed = await keyedClient(FAPI2, { alg });
      expect((await clientCredentials(as, keyed, await dpopKey(keyed.client, alg))).token_type, alg).toBe('dpop');
    }
  });

  it('refuses a DPoP proof signed with RS256 (invalid_dpop_proof); a baseline client may use RS256', async () => {
    const as = await authorizationServer();
    const strict = await keyedClient(FAPI2);
    await expect(clientCredentials(as, strict, await dpopKey(strict.client, 'RS256'))).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    const baseline = await keyedClient();
    expect((await clientCredentials(as, baseline, await dpopKey(baseline.client, 'RS256'))).token_type).toBe('dpop');
  });

  it('refuses a DPoP proof signed with RS256 at the PAR endpoint too', async () => {
    const as = await authorizationServer();
    const keyed = await keyedClient(FAPI2);
    const { cookie } = await signedInUser(runtime);
    await expect(signInWithPar(as, keyed, cookie, await dpopKey(keyed.client, 'RS256'))).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('refuses a code older than 60 seconds (invalid_grant) though the server keeps codes for 300; a baseline client redeems it', async () => {
    const as = await authorizationServer();
    const { cookie } = await signedInUser(runtime);
    const strict = await keyedClient(FAPI2);
    const baseline = await keyedClient();
    const strictKey = await oauth.generateKeyPair('ES256');
    const strictFlow = await signInWithPar(as, strict, cookie, oauth.DPoP(strict.client, strictKey));
    const baselineFlow = await signInWithPar(as, baseline, cookie);
    runtime.clock.advance(61);
    // The server is now 61 s ahead of the real time that stamps the client's assertions and proofs.
    strict.client[oauth.clockSkew] = 61;
    baseline.client[oauth.clockSkew] = 61;
    await expect(redeem(as, strict, strictFlow, oauth.DPoP(strict.client, strictKey))).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await redeem(as, baseline, baselineFlow)).access_token).toBeTruthy();
  });

  it('redeems a code within 60 seconds', async () => {
    const as = await authorizationServer();
    const { cookie } = await signedInUser(runtime);
    const keyed = await keyedClient(FAPI2);
    const key = await oauth.generateKeyPair('ES256');
    const flow = await signInWithPar(as, keyed, cookie, oauth.DPoP(keyed.client, key));
    runtime.clock.advance(59);
    keyed.client[oauth.clockSkew] = 59;
    expect((await redeem(as, keyed, flow, oauth.DPoP(keyed.client, key))).token_type).toBe('dpop');
  });
});

/** A DPoP proof for GET `url` signed RS256 with the RSA key of `pair` (made for PS256): the same key, an algorithm fapi2 does not allow. */
async function rs256Proof(pair: CryptoKeyPair, accessToken: string, url: string): Promise<string> {
  const { kty, n, e, d, p, q, dp, dq, qi } = await exportJWK(pair.privateKey);
  const key = await importJWK({ kty, n, e, d, p, q, dp, dq, qi, alg: 'RS256' }, 'RS256');
  const ath = createHash('sha256').update(accessToken).digest('base64url');
  return new SignJWT({ htm: 'GET', htu: url, jti: randomUUID(), ath }).setProtectedHeader({ alg: 'RS256', typ: 'dpop+jwt', jwk: { kty: kty!, n: n!, e: e! } }).setIssuedAt().sign(key);
}

describe('DPoP nonces', () => {
  it('are required of a fapi2 client without its own require_dpop_nonce: use_dpop_nonce with a DPoP-Nonce header, then accepted; a baseline client is not asked', async () => {
    const as = await authorizationServer();
    const strict = await keyedClient(FAPI2);
    expect(strict.view).toMatchObject({ require_dpop_nonce: false });
    const dpop = await dpopKey(strict.client);
    const first = await oauth.clientCredentialsGrantRequest(as, strict.client, strict.auth, { scope: 'accounts' }, { ...insecure, DPoP: dpop });
    expect(first.status).toBe(400);
    expect(first.headers.get('dpop-nonce')).toBeTruthy();
    await expect(oauth.processClientCredentialsResponse(as, strict.client, first)).rejects.toSatisfy(oauth.isDPoPNonceError);
    const second = await oauth.clientCredentialsGrantRequest(as, strict.client, strict.auth, { scope: 'accounts' }, { ...insecure, DPoP: dpop });
    expect((await oauth.processClientCredentialsResponse(as, strict.client, second)).token_type).toBe('dpop');

    const baseline = await keyedClient({});
    const answer = await oauth.clientCredentialsGrantRequest(as, baseline.client, baseline.auth, { scope: 'accounts' }, { ...insecure, DPoP: await dpopKey(baseline.client) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('dpop-nonce')).toBeNull();
  });
});

describe('DPoP proofs at UserInfo', () => {
  it('of a fapi2 client must use the profile\'s algorithms: RS256 with the bound RSA key is invalid_dpop_proof; a baseline client may', async () => {
    const as = await authorizationServer();
    const { cookie } = await signedInUser(runtime);
    const statuses: Record<string, { status: number; challenge: string | null }> = {};
    for (const [name, overrides] of [['fapi2', FAPI2], ['baseline', {}]] as const) {
      const keyed = await keyedClient(overrides);
      const pair = await oauth.generateKeyPair('PS256', { extractable: true });
      const dpop = oauth.DPoP(keyed.client, pair);
      const tokens = await redeem(as, keyed, await signInWithPar(as, keyed, cookie, dpop), dpop);
      const url = server.url('/userinfo');
      const response = await fetch(url, { headers: { authorization: `DPoP ${tokens.access_token}`, dpop: await rs256Proof(pair, tokens.access_token, url) } });
      statuses[name] = { status: response.status, challenge: response.headers.get('www-authenticate') };
    }
    expect(statuses.fapi2!.status).toBe(401);
    expect(statuses.fapi2!.challenge).toContain('error="invalid_dpop_proof"');
    expect(statuses.baseline!.status).toBe(200);
  });
});

describe('refresh tokens', () => {
  it('of a fapi2 client are not rotated: the same token keeps working, bound to the DPoP key, and a second use is no reuse', async () => {
    const as = await authorizationServer();
    const keyed = await keyedClient(FAPI2);
    const { cookie } = await signedInUser(runtime);
    const dpop = await dpopKey(keyed.client);
    const tokens = await redeem(as, keyed, await signInWithPar(as, keyed, cookie, dpop), dpop);
    const refreshToken = tokens.refresh_token!;
    const first = await refresh(as, keyed, refreshToken, dpop);
    expect(first.refresh_token).toBeUndefined();
    expect(first.token_type).toBe('dpop');
    const second = await refresh(as, keyed, refreshToken, dpop);
    expect(second.access_token).not.toBe(first.access_token);

    // Another key (a thief holding the token and the client's assertion key would still lack it) is refused, and revokes nothing.
    await expect(refresh(as, keyed, refreshToken, await dpopKey(keyed.client))).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(refresh(as, keyed, refreshToken)).rejects.toMatchObject({ error: 'invalid_request' });
    expect((await refresh(as, keyed, refreshToken, dpop)).token_type).toBe('dpop');
    const grant = await runtime.db.selectFrom('oauth_grants').select(['revoked_at', 'dpop_jkt']).where('client_id', '=', keyed.view.client_id).executeTakeFirstOrThrow();
    expect(grant.revoked_at).toBeNull();
    expect(grant.dpop_jkt).toBe(await dpop.calculateThumbprint());

    // Revocation still ends it.
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, keyed.client, keyed.auth, refreshToken, insecure));
    await expect(refresh(as, keyed, refreshToken, dpop)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('of a fapi2 client stop working when they expire', async () => {
    const as = await authorizationServer();
    const keyed = await keyedClient(FAPI2);
    const { cookie } = await signedInUser(runtime);
    const key = await oauth.generateKeyPair('ES256');
    const tokens = await redeem(as, keyed, await signInWithPar(as, keyed, cookie, oauth.DPoP(keyed.client, key)), oauth.DPoP(keyed.client, key));
    expect((await refresh(as, keyed, tokens.refresh_token!, oauth.DPoP(keyed.client, key))).token_type).toBe('dpop');
    const lifetime = runtime.config.oidc.refreshTokenTtlSeconds;
    runtime.clock.advance(lifetime + 1);
    keyed.client[oauth.clockSkew] = lifetime + 1;
    await expect(refresh(as, keyed, tokens.refresh_token!, oauth.DPoP(keyed.client, key))).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('of a baseline client still rotate, and a reused one revokes its family', async () => {
    const as = await authorizationServer();
    const keyed = await keyedClient();
    const { cookie } = await signedInUser(runtime);
    const tokens = await redeem(as, keyed, await signInWithPar(as, keyed, cookie));
    const rotated = await refresh(as, keyed, tokens.refresh_token!);
    expect(rotated.refresh_token).toBeTruthy();
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    await expect(refresh(as, keyed, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(refresh(as, keyed, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

describe('an organisation default of fapi2', () => {
  it('holds a baseline client of the organisation to fapi2: PAR and DPoP required; the same client in a baseline organisation is not', async () => {
    const as = await authorizationServer();
    const strictOrg = await createOrganisation(runtime, { actor: 'test' }, { name: 'Treasury (fapi2)' });
    const laxOrg = await createOrganisation(runtime, { actor: 'test' }, { name: 'Library (baseline)' });
    const raised = await keyedClient({ first_party: false }, { registration: { authority: OPERATOR, organisationId: strictOrg.id } });
    const lax = await keyedClient({ first_party: false }, { registration: { authority: OPERATOR, organisationId: laxOrg.id } });
    await setPolicy(runtime, { actor: 'test' }, { organisationId: strictOrg.id, policy: { clientSecurityProfile: 'fapi2' } });
    expect(raised.view.security_profile).toBe('baseline');

    await expect(clientCredentials(as, raised)).rejects.toMatchObject({ error: 'invalid_request' });
    expect((await clientCredentials(as, raised, await dpopKey(raised.client))).token_type).toBe('dpop');
    expect((await clientCredentials(as, lax)).token_type).toBe('bearer');

    const { cookie } = await signedInUser(runtime, ['hwk', 'user'], { organisationId: strictOrg.id });
    expect(await errorWithoutPar(raised, cookie)).toBe('invalid_request');
  });

  it('cannot be set while a client of the organisation could not work under it (policy_breaks_clients), and nothing changes', async () => {
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Archive' });
    const secretClient = await registerWebClient(runtime, { client_name: 'Archive portal', first_party: false }, { authority: OPERATOR, organisationId: org.id });
    const preview = await previewPolicyChange(runtime.db, org.id, { clientSecurityProfile: 'fapi2' });
    expect(preview.clients_not_fapi2).toEqual({ count: 1, clients: [{ client_id: secretClient.client_id, client_name: 'Archive portal', problems: [expect.stringContaining('client_secret_basic')] }] });
    await expect(setPolicy(runtime, { actor: 'test' }, { organisationId: org.id, policy: { clientSecurityProfile: 'fapi2' } })).rejects.toMatchObject({
      status: 409,
      code: 'policy_breaks_clients',
      description: expect.stringContaining('Archive portal: token_endpoint_auth_method client_secret_basic is not allowed under fapi2'),
    });
    const stored = await runtime.db.selectFrom('organisations').select('policy').where('id', '=', org.id).executeTakeFirstOrThrow();
    expect(stored.policy).toEqual({});
    expect(secretClient.security_profile).toBe('baseline');
    const refusal = await runtime.db.selectFrom('audit_log').select(['outcome', 'details']).where('action', '=', 'organisation.policy_set').where('subject', '=', `org:${org.id}`).executeTakeFirstOrThrow();
    expect(refusal).toMatchObject({ outcome: 'failure', details: { reason: 'policy_breaks_clients' } });
  });

  it('refuses a client secret of a client it holds to fapi2 (invalid_client); a baseline organisation\'s client may use one', async () => {
    const as = await authorizationServer();
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Customs' });
    const secretClient = await registerWebClient(runtime, { client_name: 'Customs portal', first_party: false, grant_types: ['client_credentials'], scope: 'accounts' }, { authority: OPERATOR, organisationId: org.id });
    const keyed = { client: { client_id: secretClient.client_id }, auth: oauth.ClientSecretBasic(secretClient.client_secret!) };
    expect((await clientCredentials(as, keyed)).token_type).toBe('bearer');
    // As a policy stored before this client was registered would hold it (setPolicy refuses it now).
    await runtime.db.updateTable('organisations').set({ policy: JSON.stringify({ clientSecurityProfile: 'fapi2' }) }).where('id', '=', org.id).execute();
    // Each instance remembers an organisation's default as long as a client record (WARTA_CLIENT_CACHE_SECONDS).
    runtime.clock.advance(runtime.config.oidc.clientCacheSeconds + 1);
    // A Basic challenge comes with it (RFC 6749 §5.2), so oauth4webapi raises a challenge error: read the answer itself.
    const response = await oauth.clientCredentialsGrantRequest(as, keyed.client, keyed.auth, { scope: 'accounts' }, { ...insecure, DPoP: await dpopKey(keyed.client) });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client', error_description: expect.stringContaining('held to the fapi2 security profile') });
  });

  it('refuses registering a client secret client in the organisation (invalid_client_metadata)', async () => {
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Mint', policy: { clientSecurityProfile: 'fapi2' } });
    await expect(registerWebClient(runtime, { first_party: false }, { authority: OPERATOR, organisationId: org.id })).rejects.toMatchObject({
      code: 'invalid_client_metadata',
      description: expect.stringContaining("the organisation's policy holds its clients to the fapi2 security profile"),
    });
  });
});

describe('the instance floor', () => {
  it('holds every client to fapi2, the operator\'s own clients too, and discovery says so', async () => {
    const floored = await startOidcServer({ WARTA_CLIENT_SECURITY_PROFILE_FLOOR: 'fapi2' });
    floored.runtime.clock.set(new Date());
    const as = await authorizationServer(floored);
    expect(as.require_pushed_authorization_requests).toBe(true);
    expect(as.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt']);
    expect(as.token_endpoint_auth_signing_alg_values_supported).not.toContain('RS256');
    expect(as.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'PS256', 'EdDSA']));
    expect(as.dpop_signing_alg_values_supported).not.toContain('RS256');

    const keyed = await keyedClient({}, { target: floored });
    expect(keyed.view.security_profile).toBe('baseline');
    await expect(clientCredentials(as, keyed)).rejects.toMatchObject({ error: 'invalid_request' });
    expect((await clientCredentials(as, keyed, await dpopKey(keyed.client))).token_type).toBe('dpop');
    const { cookie } = await signedInUser(floored.runtime);
    expect(await errorWithoutPar(keyed, cookie, floored)).toBe('invalid_request');

    await expect(registerWebClient(floored.runtime)).rejects.toMatchObject({ code: 'invalid_client_metadata', description: expect.stringContaining('this instance holds every client to the fapi2 security profile') });
  });

  it('keeps discovery at baseline by default', async () => {
    const as = await authorizationServer();
    expect(as.require_pushed_authorization_requests).toBe(false);
    expect(as.token_endpoint_auth_methods_supported).toContain('client_secret_basic');
  });

  it('refuses to start with an unknown value', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', WARTA_CLIENT_SECURITY_PROFILE_FLOOR: 'fapi3' })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: 'test', WARTA_CLIENT_SECURITY_PROFILE_FLOOR: 'fapi2' }).oidc.clientSecurityProfileFloor).toBe('fapi2');
  });
});

describe('registration of a fapi2 client', () => {
  const register = (input: ClientMetadataInput) => registerWebClient(runtime, { security_profile: 'fapi2', ...input });
  const refused = (description: string) => expect.objectContaining({ status: 400, code: 'invalid_client_metadata', description: expect.stringContaining(description) });

  it('refuses every method or setting it would fall back to, each with its reason', async () => {
    const { publicKey } = await oauth.generateKeyPair('RS256');
    const rsaJwk = await exportJWK(publicKey);
    await expect(register({ token_endpoint_auth_method: 'client_secret_basic' })).rejects.toEqual(refused('token_endpoint_auth_method client_secret_basic is not allowed under fapi2'));
    await expect(register({ token_endpoint_auth_method: 'client_secret_post' })).rejects.toEqual(refused('client_secret_post is not allowed'));
    await expect(register({ application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/callback'] })).rejects.toEqual(refused('a public client cannot use fapi2'));
    await expect(register({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...rsaJwk, alg: 'RS256', kid: 'old' }] } })).rejects.toEqual(refused('jwks key "old" is for RS256'));
    const jwks = { keys: [rsaJwk] };
    await expect(register({ token_endpoint_auth_method: 'private_key_jwt', jwks, token_endpoint_auth_signing_alg: 'RS256' } as ClientMetadataInput)).rejects.toEqual(refused('token_endpoint_auth_signing_alg must be one of PS256, ES256, EdDSA'));
    await expect(register({ token_endpoint_auth_method: 'private_key_jwt', jwks, dpop_bound_access_tokens: false })).rejects.toEqual(refused('dpop_bound_access_tokens cannot be false'));
    await expect(register({ token_endpoint_auth_method: 'private_key_jwt', jwks, require_pushed_authorization_requests: false })).rejects.toEqual(refused('require_pushed_authorization_requests cannot be false'));
    await expect(register({ security_profile: 'fapi3' })).rejects.toEqual(refused('security_profile must be one of baseline, fapi2'));
    // The same settings as baseline are registered.
    expect((await registerWebClient(runtime, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...rsaJwk, alg: 'RS256' }] }, dpop_bound_access_tokens: false })).security_profile).toBe('baseline');
    expect((await register({ token_endpoint_auth_method: 'private_key_jwt', jwks, token_endpoint_auth_signing_alg: 'PS256' } as ClientMetadataInput)).security_profile).toBe('fapi2');
  });

  it('moves a conforming baseline client to fapi2 on update, audited with before and after; a client secret client is refused', async () => {
    const keyed = await keyedClient();
    const updated = await updateClient(runtime, { actor: 'test' }, keyed.view.client_id, { security_profile: 'fapi2' }, { authority: OPERATOR });
    expect(updated).toMatchObject({ security_profile: 'fapi2', require_pushed_authorization_requests: true, dpop_bound_access_tokens: true });
    const audit = await runtime.db.selectFrom('audit_log').select('details').where('action', '=', 'client.updated').where('subject', '=', `client:${keyed.view.client_id}`).executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ changed: expect.arrayContaining(['security_profile']), security_profile: { before: 'baseline', after: 'fapi2' } });

    const secretClient = await registerWebClient(runtime);
    await expect(updateClient(runtime, { actor: 'test' }, secretClient.client_id, { security_profile: 'fapi2' }, { authority: OPERATOR })).rejects.toEqual(refused('client_secret_basic is not allowed under fapi2'));
  });
});
