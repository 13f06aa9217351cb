/**
 * DPoP server nonces (RFC 9449 §8 at the token endpoint, §9 at UserInfo): stateless,
 * so a nonce one instance hands out is accepted by another instance on the same
 * database; refused when stale or made with another key; and nothing changes for
 * clients that do not require nonces. oauth4webapi, which follows use_dpop_nonce
 * challenges itself, is the independent client of the round trip.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { beforeEach, describe, expect, it } from 'vitest';

import { createApp } from '../../src/app.js';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { SIGNING_ALG } from '../../src/crypto/signing-keys.js';
import { DPOP_NONCE_WINDOW_SECONDS } from '../../src/oidc/dpop-nonce.js';
import { cleanUpLater, createTestRuntime, usingPostgres } from '../support/runtime.js';
import { authorizeWithSession, basicAuth, type OidcTestServer, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser } from './support.js';

/**
 * Two Warta instances behind one origin, as behind a load balancer that alternates:
 * every request goes to the other instance than the one before. On PostgreSQL they are
 * two runtimes (each reads the nonce key from the database itself); PGlite belongs to
 * one process, so there they are two apps over one runtime.
 */
async function twoInstancesBehindOneOrigin() {
  const served: ('A' | 'B')[] = [];
  let apps: { A: (request: Request) => Response | Promise<Response>; B: (request: Request) => Response | Promise<Response> } | undefined;
  const front = serve({
    fetch: (request) => {
      if (!apps) return new Response('starting', { status: 503 });
      const instance = served.at(-1) === 'A' ? 'B' : 'A';
      served.push(instance);
      return apps[instance](request);
    },
    port: 0,
    hostname: '127.0.0.1',
  });
  await new Promise<void>((resolve) => (front.listening ? resolve() : front.once('listening', () => resolve())));
  cleanUpLater(() => new Promise<void>((resolve) => front.close(() => resolve())));
  const issuer = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const runtimeA = await createTestRuntime({ env: { WARTA_ISSUER: issuer } });
  const runtimeB = usingPostgres ? await createTestRuntime({ env: { WARTA_ISSUER: issuer }, databaseUrl: runtimeA.databaseUrl!, clock: runtimeA.clock }) : runtimeA;
  apps = { A: createApp(runtimeA).fetch, B: createApp(runtimeB).fetch };
  const server: OidcTestServer = { runtime: runtimeA, issuer, url: (path) => `${issuer}${path}` };
  return { server, runtimeB, served };
}

const { server, runtimeB, served } = await twoInstancesBehindOneOrigin();
const { runtime } = server;
const { user, cookie } = await signedInUser(runtime);

// oauth4webapi stamps proofs with the real time; Warta accepts them only seconds ahead of its own clock.
beforeEach(() => runtime.clock.set(new Date()));

/** A DPoP key that signs proofs by hand, at the server's time, with whatever nonce the test chooses. */
async function handMadeProver() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return (htm: string, url: string, claims: { nonce?: string; ath?: string } = {}) =>
    new SignJWT({ jti: randomUUID(), htm, htu: url, iat: Math.floor(runtime.clock.now().getTime() / 1000), ...claims }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(privateKey);
}

const ath = (accessToken: string) => createHash('sha256').update(accessToken).digest('base64url');

/** A back end that must use DPoP nonces (client_credentials, so each request is one call). */
const nonceService = () =>
  registerClient(runtime, { actor: 'test' }, { client_name: 'Nonce service', grant_types: ['client_credentials'], scope: 'api', dpop_bound_access_tokens: true, require_dpop_nonce: true }, { authority: OPERATOR });

const tokenRequest = async (client: { client_id: string; client_secret?: string }, proof: string) => postForm(server.url('/token'), { grant_type: 'client_credentials', scope: 'api' }, { ...basicAuth(client), dpop: proof });

describe('DPoP server nonces (RFC 9449 §8, §9)', () => {
  it('completes a code flow with oauth4webapi across two instances: a nonce from one is accepted by the other, at /token and /userinfo', async () => {
    const registered = await registerWebClient(runtime, {
      client_name: 'Messenger',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      dpop_bound_access_tokens: true,
      require_dpop_nonce: true,
    });
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(new URL(server.issuer), await oauth.discoveryRequest(new URL(server.issuer), insecure));
    const client: oauth.Client = { client_id: registered.client_id, id_token_signed_response_alg: SIGNING_ALG };
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));

    const request = await pkceRequest(registered);
    const callback = oauth.validateAuthResponse(as, client, await authorizeWithSession(server, request.params, cookie), request.state);
    const redeem = () => oauth.authorizationCodeGrantRequest(as, client, oauth.None(), callback, REDIRECT_URI, request.verifier, { DPoP, ...insecure });

    // The first request has no nonce: use_dpop_nonce, which oauth4webapi remembers.
    served.length = 0;
    const challenged = await redeem();
    expect(challenged.status).toBe(400);
    const firstNonce = challenged.headers.get('dpop-nonce');
    expect(firstNonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(oauth.processAuthorizationCodeResponse(as, client, challenged, { expectedNonce: request.nonce })).rejects.toSatisfy(oauth.isDPoPNonceError);

    // The retry, with the nonce instance A gave, is served by instance B.
    const answered = await redeem();
    expect(served).toEqual(['A', 'B']);
    expect(answered.headers.get('dpop-nonce')).toBe(firstNonce);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, answered, { expectedNonce: request.nonce });
    expect(tokens.token_type).toBe('dpop');

    // UserInfo on instance A takes the nonce at once (no challenge) and sends one back.
    const userinfo = await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure });
    expect(served).toEqual(['A', 'B', 'A']);
    expect(userinfo.status).toBe(200);
    expect(userinfo.headers.get('dpop-nonce')).toBe(firstNonce);
    expect((await oauth.processUserInfoResponse(as, client, user.id, userinfo)).sub).toBe(user.id);
    expect(runtimeB.dpopNonceKey.equals(runtime.dpopNonceKey)).toBe(true);
  });

  it('asks for a nonce at the token endpoint with 400 use_dpop_nonce and a DPoP-Nonce header, and accepts it', async () => {
    const client = await nonceService();
    const prove = await handMadeProver();
    const refused = await tokenRequest(client, await prove('POST', server.url('/token')));
    expect(refused).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } });
    const nonce = refused.headers.get('dpop-nonce')!;
    expect(nonce).toBeTruthy();
    const accepted = await tokenRequest(client, await prove('POST', server.url('/token'), { nonce }));
    expect(accepted).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
    expect(accepted.headers.get('dpop-nonce')).toBe(nonce);
  });

  it("accepts the previous window's nonce, refuses an older one with a fresh nonce", async () => {
    const client = await nonceService();
    const prove = await handMadeProver();
    const nonce = (await tokenRequest(client, await prove('POST', server.url('/token')))).headers.get('dpop-nonce')!;

    runtime.clock.advance(DPOP_NONCE_WINDOW_SECONDS);
    const nextWindow = await tokenRequest(client, await prove('POST', server.url('/token'), { nonce }));
    expect(nextWindow.status).toBe(200);
    expect(nextWindow.headers.get('dpop-nonce')).not.toBe(nonce);

    runtime.clock.advance(DPOP_NONCE_WINDOW_SECONDS);
    const stale = await tokenRequest(client, await prove('POST', server.url('/token'), { nonce }));
    expect(stale).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } });
    const fresh = stale.headers.get('dpop-nonce')!;
    expect(fresh).not.toBe(nonce);
    expect((await tokenRequest(client, await prove('POST', server.url('/token'), { nonce: fresh }))).status).toBe(200);
  });

  it('refuses a nonce made with another key (an instance not sharing the database secret, or a forger)', async () => {
    const client = await nonceService();
    const prove = await handMadeProver();
    const forgery = createApp({ ...runtime, dpopNonceKey: randomBytes(32) });
    const forgedNonce = (await forgery.request(server.url('/token'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...basicAuth(client), dpop: await prove('POST', server.url('/token')) }, body: 'grant_type=client_credentials&scope=api' })).headers.get('dpop-nonce')!;
    expect(forgedNonce).toBeTruthy();
    const refused = await tokenRequest(client, await prove('POST', server.url('/token'), { nonce: forgedNonce }));
    expect(refused).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } });
    expect(refused.headers.get('dpop-nonce')).not.toBe(forgedNonce);
  });

  it('asks for a nonce at UserInfo with 401 and a DPoP use_dpop_nonce challenge, and sends one with the answer', async () => {
    const registered = await registerWebClient(runtime, { client_name: 'Nonce portal', dpop_bound_access_tokens: true, require_dpop_nonce: true });
    const prove = await handMadeProver();
    const request = await pkceRequest(registered);
    const callback = await authorizeWithSession(server, request.params, cookie);
    const form = { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier };
    const nonce = (await postForm(server.url('/token'), form, { ...basicAuth(registered), dpop: await prove('POST', server.url('/token')) })).headers.get('dpop-nonce')!;
    const issued = await postForm(server.url('/token'), form, { ...basicAuth(registered), dpop: await prove('POST', server.url('/token'), { nonce }) });
    expect(issued.status).toBe(200);
    const accessToken = issued.body.access_token as string;

    const withoutNonce = await fetch(server.url('/userinfo'), { headers: { authorization: `DPoP ${accessToken}`, dpop: await prove('GET', server.url('/userinfo'), { ath: ath(accessToken) }) } });
    expect(withoutNonce.status).toBe(401);
    expect(withoutNonce.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
    expect(withoutNonce.headers.get('dpop-nonce')).toBe(nonce);

    const withNonce = await fetch(server.url('/userinfo'), { headers: { authorization: `DPoP ${accessToken}`, dpop: await prove('GET', server.url('/userinfo'), { ath: ath(accessToken), nonce }) } });
    expect(withNonce.status).toBe(200);
    expect(withNonce.headers.get('dpop-nonce')).toBe(nonce);
  });

  it('asks for a nonce at the PAR endpoint too, where a proof binds the future code (§8, §10.1)', async () => {
    const registered = await registerWebClient(runtime, { client_name: 'Nonce PAR portal', require_dpop_nonce: true });
    const prove = await handMadeProver();
    const { params } = await pkceRequest(registered);
    const refused = await postForm(server.url('/par'), params, { ...basicAuth(registered), dpop: await prove('POST', server.url('/par')) });
    expect(refused).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } });
    const nonce = refused.headers.get('dpop-nonce')!;
    const pushed = await postForm(server.url('/par'), params, { ...basicAuth(registered), dpop: await prove('POST', server.url('/par'), { nonce }) });
    expect(pushed.status).toBe(201);
    expect(pushed.headers.get('dpop-nonce')).toBe(nonce);
  });

  it("asks for a nonce at the messenger's device API (/api/me), which takes DPoP-bound tokens too", async () => {
    const messenger = await registerWebClient(runtime, { client_name: 'Nonce messenger', scope: 'openid warta:account', dpop_bound_access_tokens: true, require_dpop_nonce: true });
    const prove = await handMadeProver();
    const request = await pkceRequest(messenger, { scope: 'openid warta:account' });
    const callback = await authorizeWithSession(server, request.params, cookie);
    const form = { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier };
    const nonce = (await postForm(server.url('/token'), form, { ...basicAuth(messenger), dpop: await prove('POST', server.url('/token')) })).headers.get('dpop-nonce')!;
    const accessToken = (await postForm(server.url('/token'), form, { ...basicAuth(messenger), dpop: await prove('POST', server.url('/token'), { nonce }) })).body.access_token as string;

    const devices = server.url('/api/me/devices');
    const withoutNonce = await fetch(devices, { headers: { authorization: `DPoP ${accessToken}`, dpop: await prove('GET', devices, { ath: ath(accessToken) }) } });
    expect(withoutNonce.status).toBe(401);
    expect(withoutNonce.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
    const withNonce = await fetch(devices, { headers: { authorization: `DPoP ${accessToken}`, dpop: await prove('GET', devices, { ath: ath(accessToken), nonce }) } });
    expect(withNonce.status).toBe(200);
    expect(withNonce.headers.get('dpop-nonce')).toBe(nonce);
  });

  it('leaves clients that do not require nonces alone: no nonce asked for, none sent', async () => {
    const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Plain DPoP service', grant_types: ['client_credentials'], scope: 'api', dpop_bound_access_tokens: true }, { authority: OPERATOR });
    const prove = await handMadeProver();
    const issued = await tokenRequest(client, await prove('POST', server.url('/token')));
    expect(issued).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
    expect(issued.headers.get('dpop-nonce')).toBeNull();
  });
});
