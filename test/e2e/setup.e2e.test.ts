import { describe, expect, it } from 'vitest';
import { announceSetupLink } from '../../src/setup/announce.js';
import { userRoles } from '../../src/users/service.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';
import { newDevice } from '../support/pages.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

describe('first-run setup in a real browser', () => {
  it('the printed link leads from an empty Warta to its first admin, signed in with a new passkey on the account page', async () => {
    const printed: string[] = [];
    await announceSetupLink(runtime, { isTTY: true, write: (line) => printed.push(line) });
    const link = /(http:\/\/\S+\/setup#token=[\w-]+)/.exec(printed[0]!)![1]!;

    const admin = await newDevice(chromium);
    const { page } = admin;
    await page.goto(link);
    // The script read the token and took it out of the address bar.
    await expect.poll(() => page.getByRole('button', { name: 'Create the organisation and continue to the passkey' }).isEnabled()).toBe(true);
    expect(new URL(page.url()).hash).toBe('');
    await page.getByLabel('Organisation name').fill('Ministry of Digital Affairs');
    await page.getByLabel('Full name').fill('Ala Admin');
    await page.getByLabel('E-mail address', { exact: true }).fill('ala@digital.example.gov');
    await page.getByRole('button', { name: 'Create the organisation and continue to the passkey' }).click();

    // Straight on to the invitation's passkey enrollment.
    await page.waitForURL(`${server.url}/enroll`);
    await expect.poll(() => page.locator('#invitation-summary').textContent()).toContain('This invitation is for Ala Admin (Ministry of Digital Affairs).');
    await page.getByRole('button', { name: 'Create my passkey' }).click();
    await page.waitForURL(`${server.url}/account`);
    expect(await page.locator('main').textContent()).toContain('Ala Admin');
    expect(await admin.authenticator.credentials()).toHaveLength(1);

    const user = await runtime.db.selectFrom('users').selectAll().where('username', '=', 'ala@digital.example.gov').executeTakeFirstOrThrow();
    expect((await userRoles(runtime.db, user.id)).sort()).toEqual(['admin', 'operator']);
    const organisation = await runtime.db.selectFrom('organisations').selectAll().executeTakeFirstOrThrow();
    expect(organisation.email_domains).toEqual(['digital.example.gov']);

    // Opening the link again offers no second setup.
    const again = await newDevice(chromium);
    await again.page.goto(link);
    expect(await again.page.locator('main').textContent()).toContain('Warta is already set up: an organisation exists.');
    expect(await again.page.locator('form').count()).toBe(0);
    expect(await runtime.db.selectFrom('organisations').select('id').execute()).toHaveLength(1);
    expect(admin.problems).toEqual([]);
  });
});
