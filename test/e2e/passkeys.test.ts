import { describe, expect, it } from 'vitest';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { addVirtualAuthenticator, launchBrowser, startWartaServer } from '../support/browser.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

describe('passkeys in a real browser', () => {
  it('enrolls from an invitation, signs out, signs in usernameless, adds a second passkey and removes one', async () => {
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Browser Tests' });
    const { link } = await createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'Anna Nowak', email: 'anna.nowak@example.gov', role: 'member' });
    expect(link.startsWith(`${server.url}/enroll#invitation=`)).toBe(true);

    const context = await chromium.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const problems: string[] = [];
    // Refusals the page handles (403 re-authenticate, 409 last passkey) are logged by Chromium too; anything else is a problem (a CSP violation, a script error).
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    const laptop = await addVirtualAuthenticator(page);
    // The virtual authenticator answers passkey autofill at once; this tab switch lets a step turn autofill off, as in a browser without it.
    await page.addInitScript(() => {
      const available = PublicKeyCredential.isConditionalMediationAvailable?.bind(PublicKeyCredential);
      PublicKeyCredential.isConditionalMediationAvailable = async () => sessionStorage.getItem('no-autofill') === null && (available ? await available() : false);
    });

    // Enrollment: the page explains, the script reads the token from the fragment and drops it from the address bar.
    await page.goto(link);
    await expect.poll(() => page.locator('#invitation-summary').textContent()).toContain('This invitation is for Anna Nowak (Ministry of Browser Tests)');
    expect(page.url()).toBe(`${server.url}/enroll`);
    await expect.poll(() => page.locator('.warning').textContent()).toContain('never ask you for a code');
    await page.getByLabel('Name for this passkey (optional)').fill('Laptop');
    await page.getByRole('button', { name: 'Create my passkey' }).click();
    await page.waitForURL(`${server.url}/account`);
    expect(await page.locator('table').textContent()).toContain('Laptop');
    const [held] = await laptop.credentials();
    expect(held?.isResidentCredential).toBe(true);

    // Sign out, then sign in without typing a username: with the button…
    await page.evaluate(() => sessionStorage.setItem('no-autofill', '1'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${server.url}/signin`);
    expect(await page.locator('#username').getAttribute('autocomplete')).toBe('username webauthn');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${server.url}/account`);

    // …and through the username field's autofill (conditional UI), which the virtual authenticator answers at once.
    await page.evaluate(() => sessionStorage.removeItem('no-autofill'));
    const autofill = page.waitForResponse((response) => response.url() === `${server.url}/api/webauthn/authentication/verify`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect((await autofill).status()).toBe(200);
    await page.waitForURL(`${server.url}/account`);
    const user = await runtime.db.selectFrom('users').selectAll().where('username', '=', 'anna.nowak@example.gov').executeTakeFirstOrThrow();
    const session = await runtime.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
    expect(session.amr).toEqual(['hwk', 'user']);
    const signIns = await runtime.db.selectFrom('audit_log').select('details').where('subject', '=', `user:${user.id}`).where('action', '=', 'signin.succeeded').execute();
    expect(signIns).toHaveLength(3); // enrollment, the button, autofill

    // A second passkey on another authenticator (a security key at the desk).
    await laptop.remove();
    const desk = await addVirtualAuthenticator(page, { transport: 'usb' });
    await page.getByLabel('Name for the new passkey (optional)').fill('YubiKey 5 — desk');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${server.url}/account?done=added`);
    expect(await page.locator('tbody tr').count()).toBe(2);
    expect(await desk.credentials()).toHaveLength(1);

    // Removing the laptop's passkey six minutes later needs a fresh passkey confirmation: the page runs it, then retries.
    runtime.clock.advance(6 * 60);
    await page.locator('tr', { hasText: 'Laptop' }).getByRole('button', { name: 'Remove' }).click();
    await page.waitForURL(`${server.url}/account?done=removed`);
    expect(await page.locator('#status').textContent()).toBe('Passkey removed.');
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await page.locator('tbody').textContent()).toContain('YubiKey 5 — desk');

    const passkeys = await runtime.db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', user.id).orderBy('created_at').execute();
    expect(passkeys.map((p) => [p.name, p.revoked_at !== null])).toEqual([['Laptop', true], ['YubiKey 5 — desk', false]]);
    const reauthenticated = await runtime.db.selectFrom('audit_log').select('action').where('subject', '=', `user:${user.id}`).where('action', '=', 'session.reauthenticated').execute();
    expect(reauthenticated).toHaveLength(1);

    // The last passkey is not removed without the explicit warning being confirmed.
    await page.locator('tr', { hasText: 'YubiKey 5 — desk' }).getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => page.locator('#last-warning').isVisible()).toBe(true);
    expect(await page.locator('#last-warning').textContent()).toContain('only the recovery desk can let you back in');
    expect((await runtime.db.selectFrom('webauthn_credentials').select('revoked_at').where('user_id', '=', user.id).where('name', '=', 'YubiKey 5 — desk').executeTakeFirstOrThrow()).revoked_at).toBeNull();

    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the sign-in page in Polish for a Polish browser, and says why a sign-in was cancelled', async () => {
    const context = await chromium.newContext({ locale: 'pl-PL' });
    const page = await context.newPage();
    const authenticator = await addVirtualAuthenticator(page);
    await page.goto(`${server.url}/signin`);
    expect(await page.locator('html').getAttribute('lang')).toBe('pl');
    expect(await page.locator('.warning').textContent()).toContain('nigdy nie poproszą');
    // No passkey for this site on the authenticator: the browser refuses and the page explains.
    expect(await authenticator.credentials()).toEqual([]);
    await page.getByRole('button', { name: 'Zaloguj się kluczem dostępu' }).click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 20_000 }).toContain('Spróbuj ponownie');
    await context.close();
  });
});
