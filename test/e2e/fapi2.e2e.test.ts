/**
 * A fapi2 client end to end in a real browser: the relying party (oauth4webapi, strict)
 * pushes its authorization request with private_key_jwt and a DPoP proof, sends Chromium
 * to Warta with only the request_uri, the user signs in with a passkey (virtual
 * authenticator) and consents, and the relying party redeems the code for DPoP-bound
 * tokens and reads userinfo with them. A plain /authorize for the same client is refused.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { withDpopNonce } from '../support/dpop-nonce-retry.js';
import { afterAll, describe, expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';
import { enrollInBrowser } from '../support/pages.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

const rp = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Relying party</title><p>ok</p>'));
await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
afterAll(() => new Promise<void>((resolve) => rp.close(() => resolve())));
const rpOrigin = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
const redirectUri = `${rpOrigin}/callback`;

const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe('FAPI 2.0 in a real browser', () => {
  it('signs a passkey user in to a fapi2 client through PAR, with private_key_jwt and DPoP-bound tokens', async () => {
    const { privateKey, publicKey } = await oauth.generateKeyPair('ES256', { extractable: false });
    const registered = await registerClient(runtime, { actor: 'test' }, {
      client_name: 'Tax Office',
      security_profile: 'fapi2',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'rp-1', alg: 'ES256' }] },
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [redirectUri],
    }, { authority: OPERATOR });
    const issuer = new URL(server.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    const client: oauth.Client = { client_id: registered.client_id };
    const clientAuth = oauth.PrivateKeyJwt({ key: privateKey, kid: 'rp-1' });
    const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));

    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Finance' });
    const { link } = await createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'Anna Nowak', email: 'anna.nowak@example.gov', role: 'member' });
    // Enrolled on their own device, then signed out: the client starts from a signed-out browser.
    const { context, page, problems } = await enrollInBrowser(chromium, server.url, link, 'Laptop');
    await context.clearCookies();

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const params = {
      client_id: client.client_id,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid profile',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    };

    // The same request through the browser's address bar is refused: a fapi2 client's parameters come only from PAR.
    await page.goto(`${server.url}/authorize?${new URLSearchParams(params)}`);
    await page.waitForURL(`${redirectUri}?**`);
    expect(new URL(page.url()).searchParams.get('error')).toBe('invalid_request');

    // The runtime's clock stands where the server started; the relying party stamps its JWTs with the real time.
    runtime.clock.set(new Date());
    // fapi2 requires DPoP nonces: the first push learns one.
    const pushed = await withDpopNonce(async () => oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, clientAuth, params, { ...insecure, DPoP: dpop })));
    const authorizationUrl = new URL(as.authorization_endpoint!);
    authorizationUrl.search = new URLSearchParams({ client_id: client.client_id, request_uri: pushed.request_uri }).toString();

    const signIn = page.waitForURL(/\/signin\?return_to=%2Fauthorize%2Fresume/);
    await page.goto(authorizationUrl.href);
    await signIn;
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Allow access?');
    expect(await page.locator('main').textContent()).toContain('Tax Office');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${redirectUri}?**`);

    runtime.clock.set(new Date());
    const callback = oauth.validateAuthResponse(as, client, new URL(page.url()), state);
    const tokens = await withDpopNonce(async () => {
      const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callback, redirectUri, verifier, { ...insecure, DPoP: dpop });
      return oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
    });
    expect(tokens.token_type).toBe('dpop');
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims).toMatchObject({ iss: server.url, aud: client.client_id, name: 'Anna Nowak' });
    const userinfo = await withDpopNonce(async () => oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, { ...insecure, DPoP: dpop })));
    expect(userinfo).toMatchObject({ preferred_username: 'anna.nowak@example.gov' });
    // Bound to the key: the same access token as a bearer token is refused.
    const asBearer = await fetch(`${server.url}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(asBearer.status).toBe(401);

    expect(problems).toEqual([]);
    await context.close();
  });
});
