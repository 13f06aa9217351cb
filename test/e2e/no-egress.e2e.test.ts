/** The browser the tests drive resolves no outside host name, so a page under test cannot load anything from elsewhere unnoticed. */
import { describe, expect, it } from 'vitest';
import { launchBrowser, startWartaServer } from '../support/browser.js';

describe('the test browser', () => {
  it('reaches Warta on localhost and 127.0.0.1, and no other host', async () => {
    const server = await startWartaServer();
    const browser = await launchBrowser();
    const page = await browser.newPage();
    expect((await page.goto(`${server.url}/healthz`))?.status()).toBe(200);
    expect((await page.goto(`http://127.0.0.1:${server.port}/healthz`))?.status()).toBe(200);
    await expect(page.goto('https://fonts.googleapis.com/css2?family=Inter')).rejects.toThrow(/ERR_NAME_NOT_RESOLVED/);
  });
});
