/**
 * The OpenID Connect flow in a real browser: a relying party (openid-client) sends
 * Chromium to Warta, the user signs in with a passkey (virtual authenticator),
 * consents, lands back at the relying party, and later signs out through it. This is
 * where the browser's own rules are checked: SameSite cookies across the redirects,
 * and the CSP form-action of the consent and logout pages.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, describe, expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { ACR_PHISHING_RESISTANT } from '../../src/sessions/service.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';
import { enrollInBrowser } from '../support/pages.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

/** The relying party's own web server: it only has to answer the callback and signed-out pages. */
const rp = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Relying party</title><p>ok</p>'));
await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
afterAll(() => new Promise<void>((resolve) => rp.close(() => resolve())));
const rpOrigin = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;

describe('OpenID Connect in a real browser', () => {
  it('signs a passkey user in to a third-party client with consent, and out again through RP-initiated logout', async () => {
    const client = await registerClient(runtime, { actor: 'test' }, {
      client_name: 'Ministry Wiki',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [`${rpOrigin}/callback`],
      post_logout_redirect_uris: [`${rpOrigin}/signed-out`],
    }, { authority: OPERATOR });
    const config = await oidc.discovery(new URL(server.url), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret!), { execute: [oidc.allowInsecureRequests] });

    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of OIDC Tests' });
    const { link } = await createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'Jan Kowalski', email: 'jan.kowalski@example.gov', role: 'member' });
    // Enroll a passkey, then forget the session: the relying party starts from a signed-out
    // browser. (Clicking "Sign out" would land on /signin, whose passkey autofill the virtual
    // authenticator answers at once, racing the navigation to the client below.)
    const { context, page, problems } = await enrollInBrowser(chromium, server.url, link, 'Laptop');
    await context.clearCookies();

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${rpOrigin}/callback`,
      scope: 'openid profile offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      acr_values: ACR_PHISHING_RESISTANT,
    });
    // Warta sends the browser to its sign-in page, where passkey autofill (answered at once
    // by the virtual authenticator) signs the user in and returns to the waiting request.
    const signIn = page.waitForURL(/\/signin\?return_to=%2Fauthorize%2Fresume/);
    await page.goto(authorizationUrl.href);
    await signIn;

    // Consent names the client; allowing it ends in a redirect to the client's origin.
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Allow access?');
    expect(await page.locator('main').textContent()).toContain('Ministry Wiki');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${rpOrigin}/callback?**`);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    // The virtual authenticator is device-bound (amr hwk, the hardware tier); the token claims what the client asked for.
    expect(claims).toMatchObject({ acr: ACR_PHISHING_RESISTANT, name: 'Jan Kowalski' });
    expect(claims.amr).toContain('hwk');
    expect(claims.amr).toContain('user');
    expect(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)).toMatchObject({ preferred_username: 'jan.kowalski@example.gov' });

    // RP-initiated logout without a hint: the user confirms on Warta's page, then lands at the client.
    await page.goto(oidc.buildEndSessionUrl(config, { client_id: client.client_id, post_logout_redirect_uri: `${rpOrigin}/signed-out`, state: 'bye' }).href);
    await page.locator('form[action="/end_session/confirm"] button[value="logout"]').click();
    await page.waitForURL(`${rpOrigin}/signed-out?state=bye`);
    const session = await runtime.db.selectFrom('sessions').select('revoked_reason').where('id', '=', claims.sid as string).executeTakeFirstOrThrow();
    expect(session.revoked_reason).toBe('rp_initiated_logout');
    // offline_access was granted: the refresh token outlives the browser session.
    expect((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).access_token).toBeTruthy();

    expect(problems).toEqual([]);
    await context.close();
  });
});
