import { describe, expect, it } from 'vitest';
import { createTestUser, sessionCookie } from '../support/runtime.js';
import { launchBrowser, startWartaServer } from '../support/browser.js';
import { registerWebClient, pkceRequest } from '../oidc/support.js';
import { startSession } from '../../src/sessions/service.js';
import { sessionCookieName } from '../../src/http/session-cookie.js';

const server = await startWartaServer();
const { runtime } = server;
const chromium = await launchBrowser();
const PIXEL_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36';

describe('devices and sessions on the account page, in a real browser', () => {
  it('lists devices, sessions and sign-ins, warns about the new device, signs a session out and then the device', async () => {
    const user = await createTestUser(runtime);
    // The phone: its own browser session, in which the messenger signed in as "Pixel 8".
    const phone = await startSession(runtime.db, runtime, { userId: user.id, amr: ['hwk', 'user'], ip: '203.0.113.10', userAgent: PIXEL_UA });
    const phoneCookie = `${sessionCookieName(runtime.config.secureCookies)}=${phone.token}`;
    const client = await registerWebClient(runtime, { client_name: 'Messenger' });
    const request = await pkceRequest(client, { device_name: 'Pixel 8' });
    const authorized = await fetch(`${server.url}/authorize?${new URLSearchParams(request.params)}`, { redirect: 'manual', headers: { cookie: phoneCookie, 'user-agent': PIXEL_UA } });
    expect(authorized.status).toBe(303);
    expect(new URL(authorized.headers.get('location')!).searchParams.has('code')).toBe(true);

    // The laptop: the browser under test.
    const [name, value] = (await sessionCookie(runtime, user)).split('=') as [string, string];
    const context = await chromium.newContext({ locale: 'en-GB' });
    await context.addCookies([{ name, value, url: server.url }]);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${server.url}/account`);
    const banner = page.locator('section.security-events');
    expect(await banner.textContent()).toContain('New device “Pixel 8” linked on');
    await banner.getByRole('link', { name: 'Revoke' }).click();
    expect(new URL(page.url()).hash).toMatch(/^#device-[0-9a-f-]{36}$/);

    const devices = page.locator('#devices li');
    expect(await devices.count()).toBe(1);
    expect(await devices.first().textContent()).toContain('Pixel 8');
    expect(await devices.first().textContent()).toContain('Messenger · Android');
    const sessions = page.locator('#sessions li[data-session-id]');
    expect(await sessions.count()).toBe(2);
    expect(await page.locator('#sessions li[data-current="true"]').textContent()).toContain('this browser');
    expect(await page.locator('#sessions li[data-current="false"]').textContent()).toContain('203.0.113.10');
    expect(await page.locator('#sign-ins h2').textContent()).toBe('Recent sign-ins');

    // Sign the phone's browser session out.
    await page.locator('#sessions li[data-current="false"]').getByRole('button', { name: /^Revoke the session/ }).click();
    await page.waitForURL(`${server.url}/account?done=session_revoked`);
    expect(await page.getByRole('status').filter({ hasText: 'Session signed out.' }).count()).toBe(1);
    expect(await page.locator('#sessions li[data-session-id]').count()).toBe(1);
    expect((await runtime.db.selectFrom('sessions').select('revoked_reason').where('id', '=', phone.session.id).executeTakeFirstOrThrow()).revoked_reason).toBe('revoked_by_user');
    // The messenger asked for offline_access: it outlives the browser session until signed out itself.
    expect(await page.locator('#devices li').count()).toBe(1);

    await page.getByRole('button', { name: 'Revoke “Pixel 8”', exact: true }).click();
    await page.waitForURL(`${server.url}/account?done=device_revoked`);
    expect(await page.getByRole('status').filter({ hasText: 'Device signed out.' }).count()).toBe(1);
    expect(await page.locator('#devices').textContent()).toContain('No device is signed in.');
    const events = await runtime.db.selectFrom('security_events').select('type').where('user_id', '=', user.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['device_linked', 'session_revoked', 'session_revoked']);

    // The messenger signs in through this very browser: signing that device out ends this session too, and the page says so before and after.
    const laptopCookie = `${name}=${value}`;
    const own = await pkceRequest(client, { device_name: 'Laptop messenger' });
    const linked = await fetch(`${server.url}/authorize?${new URLSearchParams(own.params)}`, { redirect: 'manual', headers: { cookie: laptopCookie } });
    expect(linked.status).toBe(303);
    await page.goto(`${server.url}/account`);
    const ownDevice = page.locator('#devices li', { hasText: 'Laptop messenger' });
    expect(await ownDevice.locator('.signs-out-here').textContent()).toBe('It signed in through this browser: revoking it signs you out here too.');
    expect(await page.locator('#sessions li[data-current="true"] .signs-out-here').textContent()).toBe('Revoking this session signs you out here.');
    await ownDevice.getByRole('button', { name: 'Revoke “Laptop messenger”', exact: true }).click();
    await page.waitForURL(`${server.url}/signin?signed_out=here`);
    expect(await page.locator('#signed-out-here').textContent()).toBe('Done: you signed this browser out. Sign in again to continue.');
    expect(problems).toEqual([]);
    await context.close();
  });
});
