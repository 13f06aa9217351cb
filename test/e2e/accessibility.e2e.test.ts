/**
 * Accessibility in a real browser (docs/accessibility.md): every page Warta serves, in
 * English and Polish and in the states people see it, checked by axe-core at WCAG 2.1 A
 * and AA with zero violations; and the main journeys done with the keyboard alone.
 *
 * axe-core is injected into the page, which the pages' CSP (no inline or foreign scripts)
 * forbids: the browser contexts of this file alone bypass the CSP.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { ACR_PHISHING_RESISTANT } from '../../src/sessions/service.js';
import { addVirtualAuthenticator, launchBrowser, startWartaServer } from '../support/browser.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
/** Beyond the WCAG tags: one main landmark, one h1, and nothing outside a landmark (axe's best-practice rules). */
const STRUCTURE_RULES = ['landmark-one-main', 'page-has-heading-one', 'region'];
const LANGUAGES = ['en', 'pl'] as const;
const DESKS = ['Warsaw HQ — Desk 1', 'Warsaw HQ — Desk 2'];

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();

/** Each page's requests in flight: a page is checked once its scripts' requests are answered and shown. */
const pending = new WeakMap<Page, Set<unknown>>();

/** A browser of its own (cookies, virtual authenticator) whose pages axe can be injected into. */
async function newPerson(browser: Browser) {
  const context = await browser.newContext({ bypassCSP: true, locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
  page.on('pageerror', (error) => problems.push(error.message));
  // The virtual authenticator answers passkey autofill at once; a person who never opens it is the one this file needs.
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  const authenticator = await addVirtualAuthenticator(page);
  const requests = new Set<unknown>();
  page.on('request', (request) => requests.add(request));
  page.on('requestfinished', (request) => requests.delete(request));
  page.on('requestfailed', (request) => requests.delete(request));
  pending.set(page, requests);
  return { context, page, authenticator, problems };
}

async function settle(page: Page): Promise<void> {
  await expect.poll(() => pending.get(page)!.size).toBe(0);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
}

type Person = Awaited<ReturnType<typeof newPerson>>;

async function enrollFromInvitation(link: string): Promise<Person> {
  const person = await newPerson(chromium);
  await person.page.goto(link);
  await expect.poll(() => person.page.locator('#invitation-summary').textContent()).toContain('This invitation is for');
  await person.page.getByRole('button', { name: 'Create my passkey' }).click();
  await person.page.waitForURL(`${server.url}/account`);
  return person;
}

/** `url` with `?lang=` (before any fragment). */
function inLanguage(url: string, lang: string): string {
  const [address, fragment] = url.split('#') as [string, string | undefined];
  return `${address}${address.includes('?') ? '&' : '?'}lang=${lang}${fragment === undefined ? '' : `#${fragment}`}`;
}

/** axe's violations on the page as it is now, one line per element, plus what a page must always have. */
async function accessibilityProblems(page: Page, lang: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const results = await page.evaluate(
    ([tags, rules]) => {
      const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
      return axe.run(document, { runOnly: { type: 'tag', values: tags }, rules: Object.fromEntries(rules!.map((rule) => [rule, { enabled: true }])), resultTypes: ['violations'] });
    },
    [WCAG_21_AA, STRUCTURE_RULES] as const,
  );
  const problems = results.violations.flatMap((violation) => violation.nodes.map((node) => `${violation.id} at ${node.target.join(' ')}: ${violation.help}`));
  const structure = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    headings: document.querySelectorAll('h1').length,
    mains: document.querySelectorAll('main').length,
    // Where scripts write outcomes and errors: each must be a live region, so a screen reader announces what appears.
    silent: Array.from(document.querySelectorAll('#status, #enroll-status, #invitation-summary, [data-error], [data-result=""]'))
      .filter((element) => !['status', 'alert'].includes(element.getAttribute('role') ?? '') && !element.hasAttribute('aria-live'))
      .map((element) => element.outerHTML.slice(0, 80)),
  }));
  if (structure.lang !== lang) problems.push(`html lang is "${structure.lang}", not "${lang}"`);
  if (structure.headings !== 1) problems.push(`${structure.headings} h1 elements, not one`);
  if (structure.mains !== 1) problems.push(`${structure.mains} main elements, not one`);
  for (const element of structure.silent) problems.push(`no live region: ${element}`);
  return problems;
}

/** Checks the page in both languages; `prepare` brings it to the state to check after loading. */
async function check(page: Page, url: string, found: Record<string, string[]>, prepare?: (page: Page) => Promise<void>) {
  for (const lang of LANGUAGES) {
    await page.goto(inLanguage(url.startsWith('http') ? url : `${server.url}${url}`, lang));
    await settle(page);
    await prepare?.(page);
    await settle(page);
    const problems = await accessibilityProblems(page, lang);
    const where = `${new URL(page.url()).pathname} (${lang})`;
    if (problems.length) found[where] = [...(found[where] ?? []), ...problems];
  }
}

function report(found: Record<string, string[]>): string {
  return Object.entries(found)
    .map(([where, problems]) => `${where}:\n  ${problems.join('\n  ')}`)
    .join('\n');
}

describe('accessibility of every page', () => {
  it('every page passes axe-core at WCAG 2.1 A and AA, in English and in Polish, in each state people see it', async () => {
    runtime.clock.set(new Date(Date.UTC(2026, 11, 1, 9, 0, 0)));
    const found: Record<string, string[]> = {};
    // Before any organisation exists: the first-run setup form.
    const installer = await newPerson(chromium);
    await check(installer.page, '/setup', found, async (page) => {
      await expect.poll(() => page.locator('#setup-form').isVisible()).toBe(true);
    });
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Accessible Services', policy: { recoveryDesks: DESKS } });
    const invite = (displayName: string, email: string, role: 'member' | 'admin' | 'recovery_officer') => createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName, email, role });
    const admin = await enrollFromInvitation((await invite('Ewa Lis', 'ewa.lis@example.gov', 'admin')).link);
    const officer = await enrollFromInvitation((await invite('Adam Nowak', 'adam.nowak@example.gov', 'recovery_officer')).link);
    const member = await enrollFromInvitation((await invite('Jan Kowalski', 'jan.kowalski@example.gov', 'member')).link);
    const jan = await runtime.db.selectFrom('users').selectAll().where('username', '=', 'jan.kowalski@example.gov').executeTakeFirstOrThrow();
    const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Ministry Wiki', grant_types: ['authorization_code'], redirect_uris: ['http://127.0.0.1:9/callback'] }, { authority: OPERATOR, organisationId: org.id });

    // Signed out. First, the check itself: an unlabelled field in low contrast is found.
    const visitor = await newPerson(chromium);
    const v = visitor.page;
    await v.goto(`${server.url}/signin`);
    await v.evaluate(() => document.querySelector('main')!.insertAdjacentHTML('beforeend', '<input type="text"><p style="color:#bbb">faint</p>'));
    expect((await accessibilityProblems(v, 'en')).map((problem) => problem.split(' ')[0])).toEqual(expect.arrayContaining(['label', 'color-contrast']));
    await check(v, '/signin', found);
    await check(v, '/signin/password', found);
    await check(v, '/enroll', found);
    await check(v, '/setup', found);
    await check(v, (await invite('Anna Nowak', 'anna.nowak@example.gov', 'member')).link, found, async (page) => {
      await expect.poll(() => page.locator('#create-passkey').isEnabled()).toBe(true);
      await expect.poll(() => page.locator('#other-method').isVisible()).toBe(true);
    });
    // A service that demands a phishing-resistant passkey: the sign-in page explains, and offers the way back.
    const guarded = await registerClient(runtime, { actor: 'test' }, { client_name: 'Classified Archive', grant_types: ['authorization_code'], redirect_uris: ['http://127.0.0.1:9/callback'], required_acr: ACR_PHISHING_RESISTANT }, { authority: OPERATOR, organisationId: org.id });
    const authorization = new URLSearchParams({ response_type: 'code', client_id: guarded.client_id, redirect_uri: 'http://127.0.0.1:9/callback', scope: 'openid', state: 'state', nonce: 'nonce', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const stepUp = await fetch(`${server.url}/authorize?${authorization}`, { redirect: 'manual' });
    await check(v, stepUp.headers.get('location')!, found, async (page) => {
      await expect.poll(() => page.locator('#step-up').isVisible()).toBe(true);
    });
    await check(v, '/enroll/password', found);
    await check(v, (await invite('Marek Zieliński', 'marek.zielinski@example.gov', 'member')).link.replace('/enroll#', '/enroll/password#'), found, async (page) => {
      await expect.poll(() => page.locator('#password-enroll').isVisible()).toBe(true);
      await expect.poll(() => page.locator('#totp-setup').isVisible()).toBe(true);
    });
    await check(v, '/recover', found);
    await check(v, '/recover', found, async (page) => {
      await page.locator('#username').fill('jan.kowalski@example.gov');
      await page.locator('#recovery-code').fill('0000-0000-0000-0000-0000');
      await page.locator('#redeem-form button[type=submit]').click();
      await expect.poll(() => page.locator('#status').textContent()).not.toBe('');
    });
    await check(v, '/signin', found, async (page) => {
      await page.locator('#username').fill('nobody@example.gov');
      await page.locator('#username-form button[type=submit]').click();
      await expect.poll(() => page.locator('#status').textContent()).not.toBe('');
    });
    await check(v, '/signin/password', found, async (page) => {
      await page.locator('#password-signin #username').fill('nobody@example.gov');
      await page.locator('#password-signin #password').fill('not the password at all');
      await page.locator('#password-signin #code').fill('123456');
      await page.locator('#password-signin button[type=submit]').click();
      await expect.poll(() => page.locator('#password-signin [data-error]').isVisible()).toBe(true);
    });
    await check(v, '/authorize?client_id=unknown', found);
    await check(v, '/end_session', found);

    // A member.
    const m = member.page;
    await check(m, '/account', found);
    // Removing the only passkey: the page warns before going on.
    await check(m, '/account', found, async (page) => {
      await page.locator('button.remove-passkey').click();
      await expect.poll(() => page.locator('#last-warning').isVisible()).toBe(true);
    });
    await check(m, '/account/totp', found);
    await check(m, '/account/totp', found, async (page) => {
      await page.locator('#totp-start').click();
      await expect.poll(() => page.locator('#totp-setup').isVisible()).toBe(true);
    });
    await check(m, '/account/password', found);
    await check(m, '/account/reauth', found);
    await check(m, '/admin', found);
    await check(m, '/recovery', found);
    const pkce = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    await check(m, `/authorize?response_type=code&client_id=${encodeURIComponent(client.client_id)}&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/callback')}&scope=openid%20profile&state=s&nonce=n&code_challenge=${pkce}&code_challenge_method=S256`, found, async (page) => {
      expect(await page.locator('form[action="/authorize/consent"]').count()).toBe(1);
    });
    await check(m, `/end_session?client_id=${encodeURIComponent(client.client_id)}`, found, async (page) => {
      expect(await page.locator('form[action="/end_session/confirm"]').count()).toBe(1);
    });

    // A recovery officer.
    const o = officer.page;
    await check(o, '/recovery', found);
    await check(o, '/recovery?q=Kowalski', found);
    await check(o, `/recovery/open?user=${jan.id}`, found);
    await o.goto(`${server.url}/recovery/open?user=${jan.id}&lang=en`);
    await o.locator('#desk').selectOption(DESKS[0]!);
    await o.locator('#document_type').selectOption({ index: 1 });
    await o.locator('#document_last4').fill('4KX9');
    await o.locator('#reason').fill('Laptop stolen; no other passkey.');
    await o.locator('form button[type=submit]').last().click();
    await o.waitForURL(/\/recovery\/cases\/[0-9a-f-]{36}\?done=opened$/);
    const caseId = /cases\/([0-9a-f-]{36})/.exec(o.url())![1]!;
    await check(o, `/recovery/cases/${caseId}`, found);
    await check(m, '/account', found);

    // An admin.
    const a = admin.page;
    // The signing keys page is the operator's: this admin is made one for it.
    const ewa = await runtime.db.selectFrom('users').select('id').where('username', '=', 'ewa.lis@example.gov').executeTakeFirstOrThrow();
    await runtime.db.insertInto('user_roles').values({ user_id: ewa.id, role: 'operator', granted_at: runtime.clock.now() }).execute();
    for (const path of ['/admin', '/admin/people', `/admin/people/${jan.id}`, '/admin/invitations', '/admin/organisation', '/admin/clients', `/admin/clients/${encodeURIComponent(client.client_id)}`, '/admin/receivers', '/admin/recovery', '/admin/audit', '/admin/keys']) {
      await check(a, path, found);
    }
    await check(a, '/admin/invitations', found, async (page) => {
      await page.locator('#bulk-file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from('display_name,email,employee_id,role\nMarta Zając,marta.zajac@example.gov,EMP-2002,superuser\n') });
      await page.locator('#bulk-form button[type=submit]').first().click();
      await expect.poll(() => page.locator('#bulk-form [data-result]').textContent()).not.toBe('');
    });
    await check(a, '/recovery', found);
    // After five minutes the console asks for the passkey again.
    runtime.clock.advance(6 * 60);
    await check(a, '/admin/people', found);

    expect(found, `axe-core and the page checks found:\n${report(found)}`).toEqual({});
    for (const person of [admin, officer, member, visitor]) {
      expect(person.problems).toEqual([]);
      await person.context.close();
    }
  }, 240_000);

  it('a person signs in, enrolls, redeems a recovery code, and an officer opens a case, with the keyboard alone and the focus always visible', async () => {
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Keyboards', policy: { recoveryDesks: DESKS } });
    const invite = (displayName: string, email: string, role: 'member' | 'recovery_officer') => createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName, email, role });
    const beata = await enrollFromInvitation((await invite('Beata Zielińska', 'beata.zielinska@example.gov', 'recovery_officer')).link);
    const lostLaptop = await enrollFromInvitation((await invite('Piotr Wiśniewski', 'piotr.wisniewski@example.gov', 'member')).link);
    const piotr = await runtime.db.selectFrom('users').selectAll().where('username', '=', 'piotr.wisniewski@example.gov').executeTakeFirstOrThrow();
    const found: Record<string, string[]> = {};

    // An officer enrolls from their invitation: no click from here on, only keys.
    const adam = await newPerson(chromium);
    const a = adam.page;
    await a.goto((await invite('Adam Nowicki', 'adam.nowicki@example.gov', 'recovery_officer')).link);
    await expect.poll(() => a.locator('#create-passkey').isEnabled()).toBe(true);
    await tabTo(a, '#passkey-name');
    await a.keyboard.type('Desk key');
    await tabTo(a, '#create-passkey');
    await expectVisibleFocus(a);
    await a.keyboard.press('Enter');
    await a.waitForURL(`${server.url}/account`);

    // Signs out, and in again with the passkey.
    await tabTo(a, 'form[action="/signout"] button');
    await expectVisibleFocus(a);
    await a.keyboard.press('Enter');
    await a.waitForURL(`${server.url}/signin`);
    await tabTo(a, '#passkey-signin');
    await expectVisibleFocus(a);
    await a.keyboard.press('Space');
    await a.waitForURL(`${server.url}/account`);

    // Finds the person in the recovery console and opens a case.
    await a.goto(`${server.url}/recovery`);
    await tabTo(a, '#q');
    await a.keyboard.type('Wiśniewski');
    await a.keyboard.press('Enter');
    await a.waitForURL(/\/recovery\?q=/);
    await tabTo(a, `a[href="/recovery/open?user=${piotr.id}"]`);
    await expectVisibleFocus(a);
    await a.keyboard.press('Enter');
    await a.waitForURL(/\/recovery\/open\?user=/);
    await tabTo(a, '#desk');
    await expectVisibleFocus(a);
    await a.keyboard.type('Warsaw HQ — Desk 1');
    expect(await a.locator('#desk').inputValue()).toBe(DESKS[0]);
    await tabTo(a, '#document_type');
    await a.keyboard.type('National');
    expect(await a.locator('#document_type').inputValue()).toBe('national_id');
    await tabTo(a, '#document_last4');
    await a.keyboard.type('4KX9');
    await tabTo(a, '#reason');
    await a.keyboard.type('Laptop stolen; no other passkey.');
    await tabTo(a, '#open-case-form button[type=submit]');
    await expectVisibleFocus(a);
    await a.keyboard.press('Enter');
    await a.waitForURL(/\/recovery\/cases\/[0-9a-f-]{36}\?done=opened$/);
    const caseId = /cases\/([0-9a-f-]{36})/.exec(a.url())![1]!;

    // A second officer approves (by mouse: not this test's subject) and the slip is checked too.
    const b = beata.page;
    await b.goto(`${server.url}/recovery/cases/${caseId}`);
    await b.locator('#approve-form select[name=desk]').selectOption(DESKS[1]!);
    await b.locator('#approve-form button[type=submit]').click();
    await b.waitForURL(`${server.url}/recovery/cases/${caseId}/approve`);
    const code = (await b.locator('#recovery-code').textContent())!.trim();
    await settle(b);
    found['slip (en)'] = await accessibilityProblems(b, 'en');

    // The person redeems the code on a new laptop and creates a new passkey.
    const newLaptop = await newPerson(chromium);
    const n = newLaptop.page;
    await n.goto(`${server.url}/recover`);
    await tabTo(n, '#username');
    await n.keyboard.type('piotr.wisniewski@example.gov');
    await tabTo(n, '#recovery-code');
    await n.keyboard.type(code);
    await tabTo(n, '#redeem-form button[type=submit]');
    await expectVisibleFocus(n);
    await n.keyboard.press('Enter');
    await expect.poll(() => n.locator('#recovery-enroll').isVisible()).toBe(true);
    // The form that had the focus is gone: the focus moves to what replaced it, not back to the top of the page.
    expect(await n.evaluate(() => document.activeElement?.id)).toBe('recovery-enroll-title');
    await settle(n);
    found['recover, code accepted (en)'] = await accessibilityProblems(n, 'en');
    await tabTo(n, '#recovery-passkey-form #passkey-name');
    await n.keyboard.type('New laptop');
    await tabTo(n, '#recovery-passkey-form button[type=submit]');
    await expectVisibleFocus(n);
    await n.keyboard.press('Enter');
    await n.waitForURL(`${server.url}/account`);
    expect(await newLaptop.authenticator.credentials()).toHaveLength(1);

    expect(Object.fromEntries(Object.entries(found).filter(([, problems]) => problems.length)), report(found)).toEqual({});
    for (const person of [adam, beata, lostLaptop, newLaptop]) {
      expect(person.problems).toEqual([]);
      await person.context.close();
    }
  }, 180_000);
});

/** Presses Tab until the focus is on `selector` (at most 60 times); fails with where the focus went. */
async function tabTo(page: Page, selector: string): Promise<void> {
  const visited: string[] = [];
  for (let presses = 0; presses < 60; presses++) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate((wanted) => {
      const active = document.activeElement;
      return { found: active?.matches(wanted) ?? false, what: active ? `${active.tagName.toLowerCase()}${active.id ? `#${active.id}` : ''} ${(active.textContent ?? '').trim().slice(0, 30)}` : 'nothing' };
    }, selector);
    if (here.found) return;
    visited.push(here.what);
  }
  expect.fail(`Tab never reached ${selector}; it went to:\n${visited.join('\n')}`);
}

/** The focused element draws a focus ring a sighted keyboard user sees. */
async function expectVisibleFocus(page: Page): Promise<void> {
  const ring = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement!);
    return { style: style.outlineStyle, width: Number.parseFloat(style.outlineWidth), focusVisible: document.activeElement!.matches(':focus-visible') };
  });
  expect(ring).toMatchObject({ focusVisible: true });
  expect(ring.style).not.toBe('none');
  expect(ring.width).toBeGreaterThanOrEqual(2);
}
