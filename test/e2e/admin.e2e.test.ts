import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { setEmailDomains } from '../../src/authority/email-domains.js';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';
import { enrollInBrowser, newDevice, screenshot as saveScreenshot } from '../support/pages.js';
import { createTestUser, sessionCookie } from '../support/runtime.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

const screenshot = (page: Page, name: string) => saveScreenshot(page, server.url, `admin-${name}`);

describe('the administration console in a real browser', () => {
  it('an admin finds a person, disables and enables them, invites people from a CSV file, changes the policy after a preview, and edits a client', async () => {
    runtime.clock.set(new Date(Date.UTC(2026, 11, 1, 9, 0, 0)));
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Digital Affairs' });
    await setEmailDomains(runtime, { actor: 'test' }, { organisationId: org.id, domains: ['example.gov'] });
    const invite = (displayName: string, email: string, role: 'member' | 'admin', employeeId?: string) =>
      createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName, email, role, ...(employeeId ? { employeeId } : {}) });
    const ewa = await enrollInBrowser(chromium, server.url, (await invite('Ewa Lis', 'ewa.lis@example.gov', 'admin')).link, 'Office key');
    const jan = await enrollInBrowser(chromium, server.url, (await invite('Jan Kowalski', 'jan.kowalski@example.gov', 'member', 'EMP-4711')).link, 'Laptop');
    await enrollInBrowser(chromium, server.url, (await invite('Anna Nowak', 'anna.nowak@example.gov', 'member', 'EMP-1002')).link, 'Phone');
    const page = ewa.page;

    // The account page shows an admin the way in.
    await page.getByRole('link', { name: /^Administration:/ }).click();
    await page.waitForURL(`${server.url}/admin`);
    expect(await page.locator('#overview').textContent()).toContain('3 in all: 3 active, 0 disabled, 0 offboarded');

    // People: search, then the person's page (the look is audited).
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'People' }).click();
    expect(await page.locator('#people tbody tr').count()).toBe(3);
    await page.getByLabel('Name, e-mail or employee id').fill('EMP-4711');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/\/admin\/people\?q=EMP-4711/);
    expect(await page.locator('#people tbody tr').count()).toBe(1);
    expect(await page.locator('#people tbody').textContent()).toContain('jan.kowalski@example.gov');
    await screenshot(page, 'people');
    await page.getByRole('link', { name: 'Jan Kowalski' }).click();
    await page.waitForURL(/\/admin\/people\/[0-9a-f-]{36}$/);
    expect(await page.locator('#person-passkeys').textContent()).toContain('Phishing-resistant');
    expect(await page.locator('#person-sessions li').count()).toBe(1);
    await screenshot(page, 'person');

    // Disable: Jan's browser session ends at once; then enable again.
    await page.locator('#disable-reason').fill('Laptop reported stolen');
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.waitForURL(/\?done=disabled$/);
    expect(await page.locator('[data-status]').textContent()).toBe('Disabled');
    expect(await page.getByRole('status').textContent()).toContain('every session and token has ended');
    await jan.page.goto(`${server.url}/account`);
    expect(new URL(jan.page.url()).pathname).toBe('/signin');
    await page.locator('#enable-reason').fill('Laptop found');
    await page.getByRole('button', { name: 'Enable again' }).click();
    await page.waitForURL(/\?done=enabled$/);
    expect(await page.locator('[data-status]').textContent()).toBe('Active');

    // Bulk invitations: a bad row is reported and nothing is invited; the corrected file is checked, then applied.
    await page.goto(`${server.url}/admin/invitations`);
    const csv = (rows: string) => ({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(`display_name,email,employee_id,role\n${rows}`) });
    await page.getByLabel('CSV file').setInputFiles(csv('Piotr Wiśniewski,piotr.wisniewski@example.gov,EMP-2001,member\nMarta Zając,marta.zajac@example.gov,EMP-2002,superuser\n'));
    await page.getByRole('button', { name: 'Check the file' }).click();
    const bulkResult = page.locator('#bulk-form [data-result]');
    await expect.poll(() => bulkResult.textContent()).toContain('Checked 2 row(s); 1 refused');
    expect(await page.getByRole('button', { name: 'Invite everyone in the file' }).isVisible()).toBe(false);
    await page.getByLabel('CSV file').setInputFiles(csv('Piotr Wiśniewski,piotr.wisniewski@example.gov,EMP-2001,member\nMarta Zając,marta.zajac@example.gov,EMP-2002,member\n'));
    await page.getByRole('button', { name: 'Check the file' }).click();
    await expect.poll(() => bulkResult.textContent()).toContain('Checked 2 row(s); 0 refused');
    await screenshot(page, 'bulk-invitations');
    await page.getByRole('button', { name: 'Invite everyone in the file' }).click();
    await expect.poll(() => bulkResult.textContent()).toContain('Invited every row (2)');
    expect(await bulkResult.locator('td', { hasText: '/enroll#invitation=' }).count()).toBe(2);
    expect((await runtime.db.selectFrom('invitations').select('id').where('organisation_id', '=', org.id).execute()).length).toBe(5);

    // Policy: the preview says who loses their password sign-in; saving is refused to nobody here and recorded.
    await page.goto(`${server.url}/admin/organisation`);
    await page.getByLabel('Allow a password with an authenticator app').uncheck();
    await page.getByRole('button', { name: 'Preview the change' }).click();
    const preview = page.locator('#policy-form [data-result]');
    await expect.poll(() => preview.textContent()).toContain('allowPasswords');
    await screenshot(page, 'policy');
    await page.getByRole('button', { name: 'Save the policy' }).click();
    await page.waitForURL(`${server.url}/admin/organisation?done=saved`);
    expect(await page.getByLabel('Allow a password with an authenticator app').isChecked()).toBe(false);
    expect((await runtime.db.selectFrom('organisations').select('policy').where('id', '=', org.id).executeTakeFirstOrThrow()).policy).toMatchObject({ allowPasswords: false });

    // Clients: register one (its secret is shown once), then change its redirect URIs: the client_id stays.
    await page.goto(`${server.url}/admin/clients`);
    await page.getByLabel('Name', { exact: true }).fill('Payroll');
    await page.getByLabel('Redirect URIs').fill('https://payroll.example.gov/callback');
    await page.getByRole('button', { name: 'Register' }).click();
    const registered = page.locator('#new-client-form [data-result]');
    await expect.poll(() => registered.textContent()).toContain('The client secret, shown once');
    const clientId = (await runtime.db.selectFrom('oauth_clients').select('client_id').where('client_name', '=', 'Payroll').executeTakeFirstOrThrow()).client_id;
    await page.goto(`${server.url}/admin/clients`);
    await page.getByRole('link', { name: 'Payroll' }).click();
    await page.getByLabel('Redirect URIs').fill('https://payroll.example.gov/callback\nhttps://payroll.example.gov/v2/callback');
    await page.getByRole('button', { name: 'Save the settings' }).click();
    await page.waitForURL(/\?done=saved$/);
    expect(await page.locator('#client-id').textContent()).toBe(clientId);
    expect((await runtime.db.selectFrom('oauth_clients').select('redirect_uris').where('client_id', '=', clientId).executeTakeFirstOrThrow()).redirect_uris).toEqual(['https://payroll.example.gov/callback', 'https://payroll.example.gov/v2/callback']);
    await screenshot(page, 'client');

    // The audit log: what Ewa did, and its export as JSON lines.
    await page.goto(`${server.url}/admin/audit?action=person.`);
    expect(await page.locator('#audit-entries').textContent()).toContain('person.disabled');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download as JSON lines' }).click();
    const lines = (await readFile((await (await download).path())!, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { action: string });
    expect(lines.map((line) => line.action)).toEqual(expect.arrayContaining(['person.viewed', 'person.disabled', 'person.enabled']));
    await screenshot(page, 'audit');

    // In Polish.
    await page.goto(`${server.url}/admin/people?lang=pl`);
    expect(await page.locator('h1').textContent()).toBe('Osoby');
    expect(await page.getByRole('link', { name: 'Zaproszenia' }).count()).toBe(1);

    const audit = await runtime.db.selectFrom('audit_log').select('action').where('actor', '=', `user:${(await runtime.db.selectFrom('users').select('id').where('username', '=', 'ewa.lis@example.gov').executeTakeFirstOrThrow()).id}`).execute();
    expect(audit.map((entry) => entry.action)).toEqual(expect.arrayContaining(['person.viewed', 'person.disabled', 'person.enabled', 'invitation.created', 'organisation.policy_set', 'client.created', 'client.updated']));
    expect(ewa.problems).toEqual([]);
  });

  it('one admin asks to make a member a recovery officer, a second approves it on the People page, and one takes it away', async () => {
    runtime.clock.set(new Date(Date.UTC(2026, 11, 1, 11, 0, 0)));
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Justice' });
    const invite = (displayName: string, email: string, role: 'member' | 'admin') => createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName, email, role });
    const first = await enrollInBrowser(chromium, server.url, (await invite('Adam First', 'adam.first@example.gov', 'admin')).link, 'Key');
    const second = await enrollInBrowser(chromium, server.url, (await invite('Beata Second', 'beata.second@example.gov', 'admin')).link, 'Key');
    await enrollInBrowser(chromium, server.url, (await invite('Celina Member', 'celina@example.gov', 'member')).link, 'Key');
    const celina = await runtime.db.selectFrom('users').selectAll().where('username', '=', 'celina@example.gov').executeTakeFirstOrThrow();
    const roles = async () => (await runtime.db.selectFrom('user_roles').select('role').where('user_id', '=', celina.id).execute()).map((row) => row.role).sort();

    await first.page.goto(`${server.url}/admin/people/${celina.id}`);
    await first.page.getByLabel('Role', { exact: true }).selectOption('recovery_officer');
    await first.page.locator('#grant-reason').fill('Desk 2 needs a second officer');
    await first.page.getByRole('button', { name: 'Ask to give the role' }).click();
    await expect.poll(() => first.page.locator('#grant-role-form [data-result]').textContent()).toContain('It takes effect when a second admin approves it');
    expect(await roles()).toEqual(['member']);
    // The admin who asked cannot approve their own request.
    await first.page.goto(`${server.url}/admin/people`);
    expect(await first.page.locator('#role-requests').textContent()).toContain('Adam First asks to make Celina Member Recovery officer');
    expect(await first.page.getByRole('button', { name: 'Approve' }).count()).toBe(0);

    await second.page.goto(`${server.url}/admin/people`);
    await second.page.getByRole('button', { name: 'Approve' }).click();
    await second.page.waitForURL(`${server.url}/admin/people?done=approved`);
    expect(await roles()).toEqual(['member', 'recovery_officer']);

    await second.page.goto(`${server.url}/admin/people/${celina.id}`);
    await second.page.locator('#revoke-recovery_officer-reason').fill('Moved to another unit');
    await second.page.getByRole('button', { name: 'Take away the role Recovery officer' }).click();
    await second.page.waitForURL(/\?done=role_revoked$/);
    expect(await roles()).toEqual(['member']);
    expect([...first.problems, ...second.problems]).toEqual([]);
  });

  it('after five minutes the console asks for the passkey again before showing anything', async () => {
    runtime.clock.set(new Date(Date.UTC(2026, 11, 1, 10, 0, 0)));
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Finance' });
    const admin = await enrollInBrowser(chromium, server.url, (await createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'Olga Admin', email: 'olga@example.gov', role: 'admin' })).link, 'Key');
    runtime.clock.advance(6 * 60);
    const response = await admin.page.goto(`${server.url}/admin/people`);
    expect(response!.status()).toBe(403);
    expect(await admin.page.locator('#people').count()).toBe(0);
    const confirmed = admin.page.waitForResponse((reply) => reply.url() === `${server.url}/api/webauthn/reauthentication/verify`);
    await admin.page.getByRole('button', { name: 'Confirm with my passkey' }).click();
    expect((await confirmed).status()).toBe(200);
    await admin.page.waitForSelector('#people');
    expect(await admin.page.locator('#people tbody tr').count()).toBe(1);
    expect(admin.problems).toEqual([]);
  });

  it('a member, and a password + authenticator-app session of an admin, get a page saying why, and see nobody', async () => {
    const member = await createTestUser(runtime);
    const someone = await newDevice(chromium);
    const [name, value] = (await sessionCookie(runtime, member)).split('=') as [string, string];
    await someone.context.addCookies([{ name, value, url: server.url }]);
    const refused = await someone.page.goto(`${server.url}/admin/people`);
    expect(refused!.status()).toBe(403);
    expect(await someone.page.locator('[data-code]').textContent()).toContain('Only your organisation’s admins');
    expect(await someone.page.getByRole('button', { name: 'Confirm with my passkey' }).count()).toBe(0);

    const admin = await createTestUser(runtime, { role: 'admin' });
    const passwordSession = await newDevice(chromium);
    const [adminName, adminValue] = (await sessionCookie(runtime, admin, ['pwd', 'otp'])).split('=') as [string, string];
    await passwordSession.context.addCookies([{ name: adminName, value: adminValue, url: server.url }]);
    const weak = await passwordSession.page.goto(`${server.url}/admin/people`);
    expect(weak!.status()).toBe(403);
    expect(await passwordSession.page.locator('#people').count()).toBe(0);
    expect(await passwordSession.page.locator('[data-code]').getAttribute('data-code')).toBe('reauthentication_required');
    const refusals = await runtime.db.selectFrom('audit_log').select('subject').where('action', '=', 'authority.refused').where('subject', 'in', [`user:${member.id}`, `user:${admin.id}`]).execute();
    expect(refusals).toHaveLength(2);
  });
});
