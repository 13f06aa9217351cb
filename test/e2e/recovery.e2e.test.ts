import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';
import { enrollInBrowser, newDevice, screenshot as saveScreenshot } from '../support/pages.js';
import { giveRefreshToken } from '../recovery/support.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

const DESKS = ['Warsaw HQ — Desk 1', 'Warsaw HQ — Desk 2'];
const NEVER = 'Never read this code to anyone. Warta staff will never ask you for it.';

const device = () => newDevice(chromium);
const enrollFromInvitation = (link: string, passkeyName: string) => enrollInBrowser(chromium, server.url, link, passkeyName);

const screenshot = (page: Page, name: string, options: { mask?: Locator[]; fullPage?: boolean } = {}) => saveScreenshot(page, server.url, `recovery-${name}`, options);

describe('the recovery desk in real browsers', () => {
  it('two officers recover a user who lost their passkey; the old passkey, session and refresh token stop working', async () => {
    // A fixed time, so dates in the screenshots stay the same from run to run.
    runtime.clock.set(new Date(Date.UTC(2026, 11, 1, 9, 0, 0)));
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Digital Affairs', policy: { recoveryDesks: DESKS, recoveryRequireDifferentDesk: true } });
    const invite = (displayName: string, email: string, role: 'member' | 'recovery_officer', employeeId?: string) =>
      createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName, email, role, ...(employeeId ? { employeeId } : {}) });

    const adam = await enrollFromInvitation((await invite('Adam Nowicki', 'adam.nowicki@example.gov', 'recovery_officer')).link, 'Desk key');
    const beata = await enrollFromInvitation((await invite('Beata Zielińska', 'beata.zielinska@example.gov', 'recovery_officer')).link, 'Desk key');
    const lostLaptop = await enrollFromInvitation((await invite('Jan Kowalski', 'jan.kowalski@example.gov', 'member', 'EMP-4711')).link, 'Laptop');
    const jan = await runtime.db.selectFrom('users').selectAll().where('username', '=', 'jan.kowalski@example.gov').executeTakeFirstOrThrow();
    const oidc = await giveRefreshToken(runtime, jan);

    // Officer A finds Jan, records the identity check at desk 1 and opens the case.
    const a = adam.page;
    await a.goto(`${server.url}/recovery`);
    await a.getByLabel('Name, e-mail or employee number').fill('Kowalski');
    await a.getByRole('button', { name: 'Search' }).click();
    await a.waitForURL(`${server.url}/recovery?q=Kowalski`);
    await screenshot(a, 'console');
    await a.getByRole('link', { name: 'Open a recovery case' }).click();
    await a.getByLabel('Your desk').selectOption(DESKS[0]!);
    await a.getByLabel('Document checked').selectOption({ label: 'National identity card' });
    // A whole number pasted into the field: only its last four are kept, and the officer is shown which.
    const last4 = a.getByLabel('Last 4 characters of the document number');
    await last4.fill('abc-12345678');
    expect(await last4.inputValue()).toBe('5678');
    expect(await a.locator('#document_last4_echo').textContent()).toBe('Recorded: the number ends 5678. Only these 4 characters are kept.');
    await last4.fill('4KX9');
    await a.getByLabel('Notes on the identity check (optional)').fill('Photo matches; signature compared with the personnel file.');
    await a.getByLabel('Why does the person need a recovery?').fill('Laptop stolen on 30 November; no other passkey.');
    await screenshot(a, 'open-case');
    await a.getByRole('button', { name: 'Open the case' }).click();
    await a.waitForURL(/\/recovery\/cases\/[0-9a-f-]{36}\?done=opened$/);
    const caseId = /cases\/([0-9a-f-]{36})/.exec(a.url())![1]!;
    expect(await a.locator('#wait-for-second').textContent()).toContain('A second recovery officer must review and approve this case');
    expect(await a.locator('#approve-form').count()).toBe(0);

    // Jan's lost laptop is still signed in: the account page says a recovery was opened, with a way to cancel it.
    await lostLaptop.page.goto(`${server.url}/account`);
    expect(await lostLaptop.page.locator('#recovery-notice').textContent()).toContain(`A recovery was opened for your account at desk “${DESKS[0]}”`);
    await expect.poll(() => lostLaptop.page.getByRole('button', { name: 'Cancel this recovery' }).isVisible()).toBe(true);
    // Only the top of the account page: the notice, not the sections below it.
    await screenshot(lostLaptop.page, 'account-notice', { fullPage: false });

    // Officer B reviews six minutes later at desk 2: the page asks for a fresh passkey confirmation, then prints the slip.
    runtime.clock.advance(6 * 60);
    const b = beata.page;
    await b.goto(`${server.url}/recovery`);
    await b.locator(`a[href="/recovery/cases/${caseId}"]`).click();
    await b.waitForURL(`${server.url}/recovery/cases/${caseId}`);
    await b.getByLabel('Your desk').first().selectOption(DESKS[1]!);
    await screenshot(b, 'review');
    const reauthenticated = b.waitForResponse((response) => response.url() === `${server.url}/api/webauthn/reauthentication/verify`);
    const refusedRequests: string[] = [];
    b.on('response', (response) => response.status() >= 400 && refusedRequests.push(`${response.status()} ${response.url()}`));
    await b.getByRole('button', { name: 'Approve and print the code' }).click();
    expect((await reauthenticated).status()).toBe(200);
    await b.waitForURL(`${server.url}/recovery/cases/${caseId}/approve`);
    // The page asked for the passkey first: no request was refused on the way.
    expect(refusedRequests).toEqual([]);
    const code = (await b.locator('#recovery-code').textContent())!.trim();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    const slip = (await b.locator('.slip').textContent())!;
    expect(slip).toContain('For Jan Kowalski (jan.kowalski@example.gov), Ministry of Digital Affairs');
    expect(slip).toContain(`Issued at desk “${DESKS[1]}” by Beata Zielińska`);
    expect(slip).toContain('Valid until 1 Dec 2026, 09:36 UTC');
    expect(slip).toContain(NEVER);
    await screenshot(b, 'slip', { mask: [b.locator('#recovery-code'), b.locator('#slip-reference')] });
    // The console never shows the code again.
    await b.goto(`${server.url}/recovery/cases/${caseId}`);
    expect(await b.content()).not.toContain(code);
    expect(await b.locator('[data-status]').textContent()).toBe('Code issued, not used yet');

    // Jan, on a new laptop, opens Warta, follows the sign-in page's way for a lost passkey, redeems the code, sees which desk issued it, and creates a new passkey.
    const newLaptop = await device();
    const n = newLaptop.page;
    await n.goto(server.url);
    await n.getByRole('link', { name: 'I have a recovery code from the desk' }).click();
    await n.waitForURL(`${server.url}/recover`);
    expect(await n.locator('#never-read').textContent()).toBe(NEVER);
    await n.getByLabel('Username (e-mail or employee number)').fill('jan.kowalski@example.gov');
    await n.getByLabel('Recovery code').fill(code.toLowerCase());
    await screenshot(n, 'redeem', { mask: [n.locator('#recovery-code')] });
    await n.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => n.locator('#recovery-enroll').isVisible()).toBe(true);
    expect(await n.locator('#issued-by').textContent()).toBe(`This code was issued for Jan Kowalski at desk “${DESKS[1]}” on 1 Dec 2026, 09:06 UTC.`);
    expect(await n.locator('#recovery-code').inputValue()).toBe('');
    await n.getByLabel('Name for the new passkey (optional)').fill('New laptop');
    await screenshot(n, 'new-passkey');
    await n.getByRole('button', { name: 'Create my new passkey' }).click();
    await n.waitForURL(`${server.url}/account`);
    expect(await n.locator('tbody tr').count()).toBe(1);
    expect(await n.locator('tbody').textContent()).toContain('New laptop');
    expect(await n.locator('#recovery-notice').count()).toBe(0);
    expect(await newLaptop.authenticator.credentials()).toHaveLength(1);

    // Signing out and in again works with the new passkey (the sign-in page's autofill answers at once).
    const signedIn = n.waitForResponse((response) => response.url() === `${server.url}/api/webauthn/authentication/verify`);
    await n.getByRole('button', { name: 'Sign out' }).click();
    expect((await signedIn).status()).toBe(200);
    await n.waitForURL(`${server.url}/account`);

    // The lost laptop: its session is gone, and its passkey no longer signs in.
    const refused = lostLaptop.page.waitForResponse((response) => response.url() === `${server.url}/api/webauthn/authentication/verify`);
    await lostLaptop.page.goto(`${server.url}/account`);
    await lostLaptop.page.waitForURL(`${server.url}/signin?return_to=%2Faccount`);
    expect((await refused).status()).toBe(401);
    await expect.poll(() => lostLaptop.page.locator('#status').textContent()).toContain('This passkey was removed from your account');

    const recoveryCase = await runtime.db.selectFrom('recovery_cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();
    expect(recoveryCase).toMatchObject({ status: 'completed', opened_by: expect.any(String), approved_desk: DESKS[1], closed_by: jan.id });
    expect(await runtime.db.selectFrom('oauth_grants').select('revoked_reason').where('id', '=', oidc.grant.id).executeTakeFirstOrThrow()).toEqual({ revoked_reason: 'account_recovered' });
    const refreshed = await fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: oidc.basic }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: oidc.refreshToken }) });
    expect(((await refreshed.json()) as { error: string }).error).toBe('invalid_grant');
    const events = (await runtime.db.selectFrom('security_events').select('type').where('user_id', '=', jan.id).execute()).map((e) => e.type).sort();
    expect(events).toEqual(['account_recovered', 'credential_change', 'recovery_approved', 'recovery_opened', 'sessions_revoked']);

    for (const person of [adam, beata, lostLaptop, newLaptop]) {
      expect(person.problems).toEqual([]);
      await person.context.close();
    }
  }, 180_000);
});
