/**
 * Browser test helpers shared by the page tests: a separate device (its own
 * browser context, cookies and virtual authenticator), and screenshots for docs/images.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { addVirtualAuthenticator } from './browser.js';

const IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));

/** A new browser (its own cookies and its own authenticator), as a separate device would be; `problems` collects page errors. */
export async function newDevice(chromium: Browser, options: { locale?: string } = {}) {
  const context = await chromium.newContext({ locale: options.locale ?? 'en-GB', timezoneId: 'UTC', viewport: { width: 800, height: 600 } });
  const page = await context.newPage();
  const problems: string[] = [];
  // Refusals the pages handle (a stale re-authentication, a revoked passkey) are logged by Chromium too; anything else is a problem.
  page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
  page.on('pageerror', (error) => problems.push(error.message));
  const authenticator = await addVirtualAuthenticator(page);
  return { context, page, authenticator, problems };
}

/**
 * For docs/images: no focus ring, the whole page (by default), `mask` hidden
 * (codes, random ids), and the test server's address (a random port) shown as
 * a real deployment's, so the picture only changes when the page does.
 */
export async function screenshot(page: Page, serverUrl: string, file: string, options: { mask?: Locator[]; fullPage?: boolean } = {}) {
  mkdirSync(IMAGES, { recursive: true });
  await page.evaluate(([from, to]) => {
    (document.activeElement as HTMLElement | null)?.blur();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) node.nodeValue = node.nodeValue!.replaceAll(from!, to!);
  }, [serverUrl, 'https://id.example.gov']);
  await page.screenshot({ path: `${IMAGES}${file}.png`, fullPage: options.fullPage ?? true, animations: 'disabled', caret: 'hide', mask: options.mask ?? [], maskColor: '#1b1f24' });
}

/** Someone on their own device follows their invitation link and creates a passkey; they end on /account, signed in. */
export async function enrollInBrowser(chromium: Browser, serverUrl: string, link: string, passkeyName: string, options: { locale?: string } = {}) {
  const person = await newDevice(chromium, options);
  await person.page.goto(link);
  await expect.poll(() => person.page.locator('#invitation-summary').textContent()).toContain('This invitation is for');
  await person.page.getByLabel('Name for this passkey (optional)').fill(passkeyName);
  await person.page.getByRole('button', { name: 'Create my passkey' }).click();
  await person.page.waitForURL(`${serverUrl}/account`);
  return person;
}
