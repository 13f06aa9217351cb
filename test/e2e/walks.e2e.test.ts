/**
 * A person's whole path, in English and in Polish, with no address typed but
 * the invitation link an admin hands over and Warta's own start page: enrol
 * from the link, sign out and in again, lose the device, and recover at the
 * desk with the code on the slip. Every text the person reads or clicks comes
 * from the message catalogues, so the Polish walk checks the Polish pages.
 * Screenshots of each step go to docs/images (walk-<lang>-<step>.png).
 */
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createInvitation } from '../../src/invitations/service.js';
import { appMessages } from '../../src/messages.js';
import type { Locale } from '../../src/ui/i18n.js';
import { adminCoApproves, approve, approvedCase, DESKS, openedCase, recoveryDesk } from '../recovery/support.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';
import { newDevice, screenshot } from '../support/pages.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

const BROWSER_LOCALE: Record<Locale, string> = { en: 'en-GB', pl: 'pl-PL' };
const PASSWORD = 'granite lighthouse at dawn';

/** What an authenticator app shows for the secret the page shows, at the server's (manual) time. */
async function appCodeFor(page: Page): Promise<() => string> {
  await expect.poll(() => page.locator('#totp-secret').textContent()).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  const secret = Secret.fromBase32((await page.locator('#totp-secret').textContent())!.replaceAll(' ', ''));
  return () => TOTP.generate({ secret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: runtime.clock.now().getTime() });
}

describe.each(['en', 'pl'] as const)('a member with a passkey, from invitation to recovery (%s)', (lang) => {
  const text = (key: string) => appMessages[lang][key]!;
  const shot = (page: Page, step: string) => screenshot(page, server.url, `walk-${lang}-${step}`);

  it('enrols from the link, signs out and in, loses the device, and recovers with the code from the desk', async () => {
    runtime.clock.set(new Date(Date.UTC(2026, 11, 1, 9, 0, 0)));
    const desk = await recoveryDesk(runtime);
    const email = `anna.nowak.${lang}@example.gov`;
    const { link } = await createInvitation(runtime, { actor: 'test' }, { organisationId: desk.organisation.id, displayName: 'Anna Nowak', email, role: 'member' });

    // The link, on Anna's laptop, whose browser speaks her language.
    const laptop = await newDevice(chromium, { locale: BROWSER_LOCALE[lang] });
    const page = laptop.page;
    await page.goto(link);
    expect(await page.locator('html').getAttribute('lang')).toBe(lang);
    expect(await page.locator('h1').textContent()).toBe(text('enroll.title'));
    await expect.poll(() => page.getByRole('button', { name: text('enroll.create') }).isEnabled()).toBe(true);
    await shot(page, 'enroll');
    await page.getByLabel(text('enroll.name_label')).fill('Laptop');
    await page.getByRole('button', { name: text('enroll.create') }).click();
    await page.waitForURL(`${server.url}/account`);
    expect(await page.locator('h1').textContent()).toBe(text('account.title'));

    // Daily use: sign out, then in again with the passkey (the sign-in page offers it at once, as autofill).
    const signedIn = page.waitForResponse((response) => response.url() === `${server.url}/api/webauthn/authentication/verify`);
    await page.getByRole('button', { name: text('nav.signout') }).click();
    expect((await signedIn).status()).toBe(200);
    await page.waitForURL(`${server.url}/account`);
    await shot(page, 'account');

    // The laptop is lost. At the desk, two officers check Anna's identity and hand her a code on paper.
    const anna = await runtime.db.selectFrom('users').selectAll().where('username', '=', email).executeTakeFirstOrThrow();
    runtime.clock.advance(60);
    const { code } = await approvedCase(desk, { user: anna } as never);

    // On a new laptop she opens Warta, follows the sign-in page's way for a lost passkey, and enters the code.
    const newLaptop = await newDevice(chromium, { locale: BROWSER_LOCALE[lang] });
    const n = newLaptop.page;
    await n.goto(server.url);
    expect(await n.getByRole('heading', { name: text('signin.lost_title') }).count()).toBe(1);
    await n.getByRole('link', { name: text('signin.lost_link') }).click();
    await n.waitForURL(`${server.url}/recover`);
    await n.getByLabel(text('rc.redeem.username')).fill(email);
    await n.getByLabel(text('rc.redeem.code')).fill(code);
    await n.getByRole('button', { name: text('rc.redeem.submit') }).click();
    await expect.poll(() => n.locator('#recovery-enroll').isVisible()).toBe(true);
    await shot(n, 'recover');
    await n.getByLabel(text('rc.redeem.passkey_name')).fill('New laptop');
    await n.getByRole('button', { name: text('rc.redeem.passkey_button') }).click();
    await n.waitForURL(`${server.url}/account`);
    expect(await n.locator('h1').textContent()).toBe(text('account.title'));
    expect(await n.locator('tbody').textContent()).toContain('New laptop');

    // The lost laptop's session ended with the recovery.
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect([...laptop.problems, ...newLaptop.problems].filter((problem) => !problem.includes('401'))).toEqual([]);
    await laptop.context.close();
    await newLaptop.context.close();
  });
});

describe.each(['en', 'pl'] as const)('a member without a passkey, from invitation to recovery (%s)', (lang) => {
  const text = (key: string) => appMessages[lang][key]!;
  const shot = (page: Page, step: string) => screenshot(page, server.url, `walk-${lang}-password-${step}`);

  it('takes the password and authenticator app the enrollment page offers, signs in with them, and recovers with a new app', async () => {
    runtime.clock.set(new Date(Date.UTC(2026, 11, 1, 10, 0, 0)));
    const desk = await recoveryDesk(runtime);
    const email = `piotr.lis.${lang}@example.gov`;
    const { link } = await createInvitation(runtime, { actor: 'test' }, { organisationId: desk.organisation.id, displayName: 'Piotr Lis', email, role: 'member' });

    // Piotr's old computer cannot make a passkey: he takes the other way the enrollment page offers.
    const computer = await newDevice(chromium, { locale: BROWSER_LOCALE[lang] });
    const page = computer.page;
    await page.goto(link);
    await page.getByRole('link', { name: text('enroll.other_link') }).click();
    await page.waitForURL(/\/enroll\/password/);
    const app = await appCodeFor(page);
    await shot(page, 'enroll');
    await page.getByLabel(text('pwd.field.new_password'), { exact: true }).fill(PASSWORD);
    await page.getByLabel(text('pwd.field.repeat_password')).fill(PASSWORD);
    await page.getByLabel(text('pwd.field.code')).fill(app());
    await page.getByRole('button', { name: text('pwd.enroll.submit') }).click();
    await page.waitForURL(`${server.url}/account`);

    // Daily use: sign out, then in with the password and the next code.
    await page.getByRole('button', { name: text('nav.signout') }).click();
    await page.waitForURL(/\/signin/);
    await page.getByRole('link', { name: text('signin.password_link') }).click();
    runtime.clock.advance(30);
    await page.getByLabel(text('pwd.field.username')).fill(email);
    await page.getByLabel(text('pwd.field.password'), { exact: true }).fill(PASSWORD);
    await page.getByLabel(text('pwd.field.code')).fill(app());
    await page.getByRole('button', { name: text('pwd.signin.submit') }).click();
    await page.waitForURL(`${server.url}/account`);

    // His phone, with the app, is stolen. At the desk he gets a code; at home he sets a new password and a new app.
    const piotr = await runtime.db.selectFrom('users').selectAll().where('username', '=', email).executeTakeFirstOrThrow();
    runtime.clock.advance(60);
    const { code } = await approvedCase(desk, { user: piotr } as never);
    await page.getByRole('button', { name: text('nav.signout') }).click();
    await page.waitForURL(/\/signin/);
    await page.getByRole('link', { name: text('signin.lost_link') }).click();
    await page.waitForURL(`${server.url}/recover`);
    await page.getByLabel(text('rc.redeem.username')).fill(email);
    await page.getByLabel(text('rc.redeem.code')).fill(code);
    await page.getByRole('button', { name: text('rc.redeem.submit') }).click();
    await page.getByRole('button', { name: text('rc.redeem.password_start') }).click();
    const newApp = await appCodeFor(page);
    await shot(page, 'recover');
    await page.getByLabel(text('pwd.field.new_password'), { exact: true }).fill(`${PASSWORD} again`);
    await page.getByLabel(text('pwd.field.repeat_password')).fill(`${PASSWORD} again`);
    await page.getByLabel(text('pwd.field.code')).fill(newApp());
    await page.getByRole('button', { name: text('rc.redeem.password_submit') }).click();
    await page.waitForURL(`${server.url}/account`);
    expect(await page.locator('h1').textContent()).toBe(text('account.title'));
    expect(computer.problems).toEqual([]);
    await computer.context.close();
  });
});

describe.each(['en', 'pl'] as const)('an officer and an admin, from invitation to their work to their own recovery (%s)', (lang) => {
  const text = (key: string, params: Record<string, string> = {}) => Object.entries(params).reduce((said, [name, value]) => said.replaceAll(`{${name}}`, value), appMessages[lang][key]!);
  const shot = (page: Page, step: string) => screenshot(page, server.url, `walk-${lang}-${step}`);

  /** Someone privileged lost their passkey: an officer opens the case, an admin co-approves, a second officer approves; they redeem on a new device. */
  async function recover(desk: Awaited<ReturnType<typeof recoveryDesk>>, email: string) {
    const person = await runtime.db.selectFrom('users').selectAll().where('username', '=', email).executeTakeFirstOrThrow();
    const caseId = await openedCase(desk.officerA, person.id);
    await adminCoApproves(runtime, desk.organisation.id, caseId);
    const approved = await approve(desk.officerB, caseId);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const device = await newDevice(chromium, { locale: BROWSER_LOCALE[lang] });
    await device.page.goto(server.url);
    await device.page.getByRole('link', { name: text('signin.lost_link') }).click();
    await device.page.getByLabel(text('rc.redeem.username')).fill(email);
    await device.page.getByLabel(text('rc.redeem.code')).fill(approved.body.code as string);
    await device.page.getByRole('button', { name: text('rc.redeem.submit') }).click();
    await device.page.getByRole('button', { name: text('rc.redeem.passkey_button') }).click();
    await device.page.waitForURL(`${server.url}/account`);
    expect(device.problems).toEqual([]);
    return device;
  }

  it('the officer opens a case from the recovery desk, the admin finds and invites people from administration, and each recovers at the desk', async () => {
    runtime.clock.set(new Date(Date.UTC(2026, 11, 1, 11, 0, 0)));
    const desk = await recoveryDesk(runtime);
    const invite = async (displayName: string, email: string, role: 'recovery_officer' | 'admin') =>
      (await createInvitation(runtime, { actor: 'test' }, { organisationId: desk.organisation.id, displayName, email, role })).link;

    // The officer: enrolled from the link, to the recovery desk from the account page, a case opened for a member.
    const officerEmail = `olga.officer.${lang}@example.gov`;
    const officer = await newDevice(chromium, { locale: BROWSER_LOCALE[lang] });
    const o = officer.page;
    await o.goto(await invite('Olga Officer', officerEmail, 'recovery_officer'));
    await expect.poll(() => o.getByRole('button', { name: text('enroll.create') }).isEnabled()).toBe(true);
    await o.getByRole('button', { name: text('enroll.create') }).click();
    await o.waitForURL(`${server.url}/account`);
    await o.getByRole('link', { name: text('account.to_recovery') }).click();
    await o.waitForURL(`${server.url}/recovery`);
    await o.getByLabel(text('rc.console.search_label')).fill(desk.member.user.display_name);
    await o.getByRole('button', { name: text('rc.console.search_button') }).click();
    await o.getByRole('link', { name: text('rc.console.open_case') }).first().click();
    await o.getByLabel(text('rc.field.desk')).selectOption(DESKS[0]!);
    await o.getByLabel(text('rc.field.document_type')).selectOption({ index: 1 });
    await o.getByLabel(text('rc.field.document_last4')).fill('4KX9');
    await o.getByLabel(text('rc.field.reason')).fill('Phone stolen; no other passkey.');
    await shot(o, 'officer-open-case');
    await o.getByRole('button', { name: text('rc.open.submit') }).click();
    await o.waitForURL(/\/recovery\/cases\/[0-9a-f-]{36}\?done=opened$/);

    // The admin: enrolled from the link, to administration from the account page, finds the officer, invites a colleague.
    const adminEmail = `adam.admin.${lang}@example.gov`;
    const admin = await newDevice(chromium, { locale: BROWSER_LOCALE[lang] });
    const a = admin.page;
    await a.goto(await invite('Adam Admin', adminEmail, 'admin'));
    await expect.poll(() => a.getByRole('button', { name: text('enroll.create') }).isEnabled()).toBe(true);
    await a.getByRole('button', { name: text('enroll.create') }).click();
    await a.waitForURL(`${server.url}/account`);
    await a.getByRole('link', { name: text('account.to_admin') }).click();
    await a.waitForURL(`${server.url}/admin`);
    await a.getByRole('navigation', { name: text('admin.nav.label') }).getByRole('link', { name: text('admin.nav.people') }).click();
    await a.getByLabel(text('admin.people.search')).fill('Olga');
    await a.getByRole('button', { name: text('admin.people.search_button') }).click();
    await a.getByRole('link', { name: 'Olga Officer' }).click();
    expect(await a.locator('h1').textContent()).toBe('Olga Officer');
    await a.getByRole('navigation', { name: text('admin.nav.label') }).getByRole('link', { name: text('admin.nav.invitations') }).click();
    await a.getByLabel(text('admin.col.name')).first().fill('Ewa Nowa');
    // The organisation invites by employee id (it has no e-mail domain of its own).
    await a.getByLabel(text('admin.col.employee_id')).first().fill(`EMP-${lang}-77`);
    await a.getByRole('button', { name: text('admin.invitations.invite'), exact: true }).click();
    await expect.poll(() => a.locator('#invite-form [data-result]').textContent()).toContain('/enroll#invitation=');
    await screenshot(a, server.url, `walk-${lang}-admin-invite`, { mask: [a.locator('.one-time')] });

    // Each loses their passkey and recovers it at the desk, with an admin's co-approval besides the second officer's.
    const officerAgain = await recover(desk, officerEmail);
    const adminAgain = await recover(desk, adminEmail);
    await shot(adminAgain.page, 'admin-recovered');
    expect([...officer.problems, ...admin.problems]).toEqual([]);
    for (const device of [officer, admin, officerAgain, adminAgain]) await device.context.close();
  });
});
