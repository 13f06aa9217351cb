import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

const PASSWORD = 'granite lighthouse at dawn';

/** What an authenticator app shows for the secret read off the page, at the server's (manual) time. */
function appCode(secretText: string): string {
  return TOTP.generate({ secret: Secret.fromBase32(secretText.replaceAll(' ', '')), algorithm: 'SHA1', digits: 6, period: 30, timestamp: runtime.clock.now().getTime() });
}

async function readSecret(page: Page): Promise<string> {
  await expect.poll(() => page.locator('#totp-secret').textContent()).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  // The QR code is Warta's own SVG, shown as an image the CSP allows.
  await expect.poll(() => page.locator('#totp-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  return (await page.locator('#totp-secret').textContent())!;
}

describe('password and authenticator app in a real browser', () => {
  it('enrolls by invitation reading the secret off the page, signs out, signs in with password + code, then replaces the app after re-authenticating', async () => {
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of TOTP Browser Tests' });
    const { link } = await createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'Jan Kowalski', email: 'jan.kowalski@example.gov', role: 'member' });

    const context = await chromium.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));

    // Enrollment from the link an admin hands out (the passkey page): Jan's device makes no passkey, so he takes the other way the page offers.
    // Each page's script reads the token from the fragment, then drops it from the address bar.
    await page.goto(link);
    await page.getByRole('link', { name: 'Use a password and an authenticator app instead' }).click();
    await page.waitForURL(/\/enroll\/password/);
    const secret = await readSecret(page);
    expect(page.url()).toBe(`${server.url}/enroll/password`);
    expect(await page.locator('#enroll-name').textContent()).toBe('Jan Kowalski (Ministry of TOTP Browser Tests)');
    expect(await page.locator('#enroll-username').inputValue()).toBe('jan.kowalski@example.gov');
    await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    const enrollmentCode = appCode(secret);
    await page.getByLabel('Code from your authenticator app').fill(enrollmentCode);
    await page.getByRole('button', { name: 'Create my account' }).click();
    await page.waitForURL(`${server.url}/account`);

    // Sign out.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${server.url}/signin`);

    // Sign in with password + code; the code used at enrollment is refused (replay), the next one works.
    await page.goto(`${server.url}/signin/password`);
    await page.getByLabel('Username (e-mail address or employee ID)').fill('jan.kowalski@example.gov');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Code from your authenticator app').fill(enrollmentCode);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('form#password-signin [data-error]').textContent()).toContain('Each code works only once');
    runtime.clock.advance(30);
    await page.getByLabel('Code from your authenticator app').fill(appCode(secret));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/account`);

    const user = await runtime.db.selectFrom('users').selectAll().where('username', '=', 'jan.kowalski@example.gov').executeTakeFirstOrThrow();
    const session = await runtime.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
    expect(session.amr).toEqual(['pwd', 'otp', 'mfa']);

    // Six minutes later, replacing the app needs a fresh confirmation with password + code first.
    runtime.clock.advance(6 * 60);
    await page.goto(`${server.url}/account/totp`);
    await page.waitForURL(`${server.url}/account/reauth?return_to=%2Faccount%2Ftotp`);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Code from your authenticator app').fill(appCode(secret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${server.url}/account/totp`);

    await page.getByRole('button', { name: 'Replace with a new app' }).click();
    const newSecret = await readSecret(page);
    expect(newSecret).not.toBe(secret);
    runtime.clock.advance(30);
    await page.getByLabel('Code from your authenticator app').fill(appCode(newSecret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${server.url}/account/totp?done=1`);
    expect(await page.locator('[role=status]').textContent()).toBe('Your authenticator app is set up.');

    // The one refused sign-in (the replayed code) is logged by the browser as a failed load; nothing else may be (no CSP violations, no script errors).
    expect(problems).toEqual(['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    await context.close();
  });

  it('shows the password sign-in page in Polish with the translated errors', async () => {
    const context = await chromium.newContext({ locale: 'pl-PL' });
    const page = await context.newPage();
    await page.goto(`${server.url}/signin/password`);
    expect(await page.locator('h1').textContent()).toBe('Logowanie hasłem');
    await page.getByLabel('Nazwa użytkownika (adres e-mail lub numer służbowy)').fill('nikt@example.gov');
    await page.getByLabel('Hasło', { exact: true }).fill('jakieś hasło');
    await page.getByLabel('Kod z aplikacji uwierzytelniającej').fill('123456');
    await page.getByRole('button', { name: 'Zaloguj się' }).click();
    await expect.poll(() => page.locator('form#password-signin [data-error]').textContent()).toContain('Nazwa użytkownika, hasło lub kod są nieprawidłowe');
    await context.close();
  });
});
