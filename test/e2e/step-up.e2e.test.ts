/**
 * A service demands a phishing-resistant passkey of someone signed in with a
 * password and an authenticator app: the sign-in page says which service asks,
 * why, and how to get such a passkey, and its way back answers the service with
 * `unmet_authentication_requirements` instead of a request left to expire.
 */
import { describe, expect, it } from 'vitest';
import { ACR_PHISHING_RESISTANT } from '../../src/sessions/service.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';
import { newDevice } from '../support/pages.js';
import { createTestUser, sessionCookie } from '../support/runtime.js';
import { pkceRequest, REDIRECT_URI, registerWebClient } from '../oidc/support.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

describe('a service that demands a passkey, reached with a password session', () => {
  it('names the service, explains how to get such a passkey, and goes back to it with unmet_authentication_requirements', async () => {
    const user = await createTestUser(runtime);
    const client = await registerWebClient(runtime, { client_name: 'Classified Archive', required_acr: ACR_PHISHING_RESISTANT });
    const request = await pkceRequest(client);
    const person = await newDevice(chromium);
    const [name, value] = (await sessionCookie(runtime, user, ['pwd', 'otp'])).split('=') as [string, string];
    await person.context.addCookies([{ name, value, url: server.url }]);
    // The service's redirect URI, answered here instead of by a real service.
    await person.page.route(`${REDIRECT_URI}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'service' }));

    await person.page.goto(`${server.url}/authorize?${new URLSearchParams(request.params)}`);
    await person.page.waitForURL(/\/signin\?/);
    const stepUp = person.page.locator('#step-up');
    expect(await stepUp.locator('h2').textContent()).toBe('Classified Archive asks for a passkey that cannot be phished');
    expect(await stepUp.textContent()).toContain('confirmed by a recovery officer at a recovery desk');
    // No password way round it on this page.
    expect(await person.page.getByRole('link', { name: /password/i }).count()).toBe(0);

    await person.page.getByRole('button', { name: 'Go back to Classified Archive without signing in' }).click();
    await person.page.waitForURL(`${REDIRECT_URI}?**`);
    const answered = new URL(person.page.url());
    expect(answered.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(answered.searchParams.get('state')).toBe(request.state);
    expect(answered.searchParams.get('iss')).toBe(runtime.config.issuer);
    expect(person.problems).toEqual([]);

    // In Polish, as the service asked with ui_locales.
    const polish = await pkceRequest(client, { ui_locales: 'pl' });
    await person.page.goto(`${server.url}/authorize?${new URLSearchParams(polish.params)}`);
    await person.page.waitForURL(/\/signin\?/);
    expect(await person.page.locator('#step-up h2').textContent()).toBe('Classified Archive wymaga klucza dostępu odpornego na phishing');
    await person.context.close();
  });
});
