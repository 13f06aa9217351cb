import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/crypto/random.js';
import { safeReturnPath } from '../../src/webauthn/return-path.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';
import { browser, enroll, lastAudit, TEST_ENV } from './ceremony.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

describe('start page', () => {
  it('sends visitors to sign in and signed-in users to their account', async () => {
    const anonymous = await browser(runtime).get('/');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/signin');
    const { client } = await enroll(runtime);
    expect((await client.get('/')).headers.get('location')).toBe('/account');
  });
});

describe('sign-in page', () => {
  it('offers a passkey button, a username field with passkey autofill, and the password route, under the never-ask warning', async () => {
    const reply = await browser(runtime).get('/signin');
    expect(reply.status).toBe(200);
    const html = reply.body.text as string;
    expect(html).toContain('id="passkey-signin"');
    expect(html).toMatch(/<input id="username"[^>]*autocomplete="username webauthn"/);
    expect(html).toContain('href="/signin/password"');
    expect(html).toContain('Warta staff will never ask you for a code, a PIN or to scan a QR code.');
    expect(html).toContain('<script src="/static/vendor/simplewebauthn-browser.js" defer=""></script>');
    expect(html).toContain('<script src="/static/webauthn-signin.js" defer=""></script>');
    expect(html.match(/<script[^>]*>/g)!.every((tag) => / src="\/static\//.test(tag))).toBe(true);
    expect(html).toMatch(/<label for="username">/);
    expect(html).toContain('role="status"');
  });

  it('is in Polish for a Polish browser, with a switch back to English', async () => {
    const reply = await browser(runtime).get('/signin', { 'accept-language': 'pl,en;q=0.5' });
    const html = reply.body.text as string;
    expect(html).toContain('<html lang="pl">');
    expect(html).toContain('Zaloguj się kluczem dostępu');
    expect(html).toContain('Pracownicy Warty nigdy nie poproszą Cię o kod');
    expect(html).toContain('href="/signin?lang=en"');
    const english = await browser(runtime).get('/signin?lang=en', { 'accept-language': 'pl' });
    expect(english.body.text).toContain('Sign in with a passkey');
  });

  it('keeps a local return path and drops one to another site', async () => {
    const local = await browser(runtime).get('/signin?return_to=%2Fauthorize%3Fclient_id%3Dx');
    expect(local.body.text).toContain('data-return-to="/authorize?client_id=x"');
    expect(local.body.text).toContain('href="/signin/password?return_to=%2Fauthorize%3Fclient_id%3Dx"');
    const foreign = await browser(runtime).get('/signin?return_to=%2F%2Fevil.example%2F');
    expect(foreign.body.text).toContain('data-return-to="/account"');
  });

  it('sends a signed-in user on to where they were going', async () => {
    const { client } = await enroll(runtime);
    const reply = await client.get('/signin');
    expect(reply.status).toBe(303);
    expect(reply.headers.get('location')).toBe('/account');
  });

  it('asks a signed-in user to sign in again when a client demands a fresh sign-in (prompt=login)', async () => {
    const { client } = await enroll(runtime);
    const reply = await client.get('/signin?return_to=%2Faccount&prompt=login');
    expect(reply.status).toBe(200);
    expect(reply.body.text).toContain('id="passkey-signin"');
  });

  it('steps a password+TOTP session up to a passkey when a client demands phishing resistance, offering no password route', async () => {
    const user = await createTestUser(runtime);
    const cookie = await sessionCookie(runtime, user, ['pwd', 'otp', 'mfa']);
    const { request } = testClient(runtime);
    const stepUp = await request('/signin?return_to=%2Fauthorize%2Fresume&acr=phishing-resistant', { cookie });
    expect(stepUp.status).toBe(200);
    expect(await stepUp.text()).not.toContain('/signin/password');
    const passkeyCookie = await sessionCookie(runtime, user, ['hwk', 'user']);
    const satisfied = await request('/signin?return_to=%2Fauthorize%2Fresume&acr=phishing-resistant', { cookie: passkeyCookie });
    expect(satisfied.status).toBe(303);
    expect(satisfied.headers.get('location')).toBe('/authorize/resume');
  });
});

describe('safeReturnPath', () => {
  it.each([
    ['/account', '/account'],
    ['/authorize?x=1', '/authorize?x=1'],
    ['//evil.example', '/account'],
    ['/\\evil.example', '/account'],
    ['https://evil.example/', '/account'],
    ['javascript:alert(1)', '/account'],
    ['/a\nb', '/account'],
    [undefined, '/account'],
  ])('%s → %s', (raw, expected) => {
    expect(safeReturnPath(raw)).toBe(expected);
  });
});

describe('enrollment page', () => {
  it('explains what is about to happen and has the script read the invitation from the fragment', async () => {
    const reply = await browser(runtime).get('/enroll');
    const html = reply.body.text as string;
    expect(reply.status).toBe(200);
    expect(html).toContain('Set up your passkey');
    expect(html).toContain('works only on localhost:3000');
    expect(html).toContain('<script src="/static/webauthn-enroll.js" defer=""></script>');
    expect(html).toContain('Warta staff will never ask you');
  });
});

describe('sign-out', () => {
  it('ends the session, clears the cookie, audits it, and goes back to sign-in', async () => {
    const { client, user } = await enroll(runtime);
    const token = client.state.cookie!;
    const reply = await client.post('/signout', '', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(reply.status).toBe(303);
    expect(reply.headers.get('location')).toBe('/signin');
    expect(reply.headers.get('set-cookie')).toMatch(/warta_session=;.*Max-Age=0/);
    const session = await runtime.db.selectFrom('sessions').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirstOrThrow();
    expect(session.revoked_reason).toBe('signed_out');
    expect(await lastAudit(runtime, 'signout')).toMatchObject({ subject: `user:${user.id}` });
    client.state.cookie = token;
    expect((await client.get('/account')).status).toBe(303);
  });

  it('accepts the `Origin: null` a browser sends on a same-origin form post under no-referrer, only when Sec-Fetch-Site vouches for it', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' };
    const { client } = await enroll(runtime);
    expect((await client.post('/signout', '', { ...form, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await client.post('/signout', '', form)).status).toBe(403);
    expect((await client.get('/account')).status).toBe(200);
    expect((await client.post('/signout', '', { ...form, 'sec-fetch-site': 'same-origin' })).status).toBe(303);
  });

  it('refuses a sign-out posted from another site', async () => {
    const { client } = await enroll(runtime);
    const reply = await client.post('/signout', '', { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' });
    expect(reply.status).toBe(403);
    expect((await client.get('/account')).status).toBe(200);
  });
});

describe('static assets', () => {
  it('serves the page scripts and the @simplewebauthn/browser bundle from Warta itself', async () => {
    for (const path of ['/static/vendor/simplewebauthn-browser.js', '/static/webauthn-common.js', '/static/webauthn-signin.js', '/static/webauthn-enroll.js', '/static/account.js']) {
      const reply = await browser(runtime).get(path);
      expect(reply.status, path).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/javascript/);
    }
  });
});
