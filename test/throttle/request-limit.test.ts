import { describe, expect, it } from 'vitest';
import { basicAuth, pkceRequest, registerWebClient } from '../oidc/support.js';
import { freshIp } from '../passwords/support.js';
import { createTestRuntime, testClient, testConfig } from '../support/runtime.js';
import { inviteTo } from '../webauthn/ceremony.js';

/**
 * Attack 6 of issue 11: anonymous endpoints that store a row (a WebAuthn
 * enrollment challenge, an authorization request) let anyone fill the database as
 * fast as they can send. Each address gets WARTA_ANONYMOUS_REQUESTS_PER_MINUTE per
 * endpoint. Passkey sign-in options store nothing (a sealed challenge) and are not counted.
 */
const PER_MINUTE = 3;
const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true', WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: String(PER_MINUTE) } });
const { request } = testClient(runtime);

const challenges = async () => (await runtime.db.selectFrom('webauthn_challenges').select('id').execute()).length;
const storedRequests = async () => (await runtime.db.selectFrom('oauth_authorization_requests').select('id_hash').execute()).length;
/** The first refusal of an address's minute is counted into the anonymous-failure audit window of its endpoint. */
const limitCounts = (endpoint: string) => runtime.db.selectFrom('anonymous_failure_counts').select(['count', 'last_ip']).where('action', '=', 'throttle.request_limit_reached').where('key', '=', endpoint).execute();

async function expectTooManyRequests(response: Response) {
  expect(response.status).toBe(429);
  expect(await response.json()).toMatchObject({ error: 'too_many_requests' });
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(60);
}

describe('per-address limits on anonymous endpoints that store rows', () => {
  it('refuses passkey enrollment options past the limit with 429 and Retry-After, storing no challenge, and counts the first refusal for the audit log', async () => {
    const ip = freshIp();
    const countedBefore = (await limitCounts('webauthn-options')).reduce((sum, row) => sum + Number(row.count), 0);
    const { token } = await inviteTo(runtime);
    const options = (from = ip) => request('/api/webauthn/enrollment/options', { method: 'POST', json: { invitation: token }, headers: { 'x-forwarded-for': from } });
    for (let i = 0; i < PER_MINUTE; i++) expect((await options()).status).toBe(200);
    const before = await challenges();
    await expectTooManyRequests(await options());
    await expectTooManyRequests(await options());
    expect(await challenges()).toBe(before);
    expect(await limitCounts('webauthn-options')).toEqual([{ count: countedBefore + 1, last_ip: ip }]);
    // Another address has its own budget; this one gets a new budget when the minute is over.
    expect((await options(freshIp())).status).toBe(200);
    runtime.clock.advance(60);
    expect((await options()).status).toBe(200);
  });

  // Premise changed on purpose: sign-in options used to store a challenge and were limited here; the challenge is now
  // sealed, not stored (src/webauthn/sealed-challenge.ts), so they write nothing and count nothing.
  it('does not count passkey sign-in options, which store nothing: no challenge, no counter', async () => {
    const ip = freshIp();
    const counters = () => runtime.db.selectFrom('rate_limits').select('key').where('key', 'like', `requests:%:ip:${ip}`).execute();
    const before = await challenges();
    for (let i = 0; i < PER_MINUTE * 3; i++) {
      const reply = await request('/api/webauthn/authentication/options', { method: 'POST', json: i % 2 ? { username: 'nobody@example.gov' } : {}, headers: { 'x-forwarded-for': ip } });
      expect(reply.status).toBe(200);
    }
    expect(await challenges()).toBe(before);
    expect(await counters()).toEqual([]);
    // The other limited endpoints still count this address (an unknown invitation is counted before it is refused).
    for (let i = 0; i < PER_MINUTE; i++) expect((await request('/api/webauthn/enrollment/options', { method: 'POST', json: { invitation: 'x'.repeat(43) }, headers: { 'x-forwarded-for': ip } })).status).not.toBe(429);
    await expectTooManyRequests(await request('/api/webauthn/enrollment/options', { method: 'POST', json: { invitation: 'x'.repeat(43) }, headers: { 'x-forwarded-for': ip } }));
    expect(await counters()).toEqual([{ key: `requests:webauthn-options:ip:${ip}` }]);
  });

  it('refuses /authorize past the limit, storing no authorization request', async () => {
    const client = await registerWebClient(runtime);
    const ip = freshIp();
    const authorize = async () => request(`/authorize?${new URLSearchParams((await pkceRequest(client)).params)}`, { headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < PER_MINUTE; i++) expect((await authorize()).status).toBe(303);
    const before = await storedRequests();
    await expectTooManyRequests(await authorize());
    expect(await storedRequests()).toBe(before);
  });

  it('refuses /par past the limit, storing no pushed request', async () => {
    const client = await registerWebClient(runtime);
    const ip = freshIp();
    const push = async () =>
      request('/par', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, ...basicAuth(client) }, body: new URLSearchParams((await pkceRequest(client)).params).toString() });
    for (let i = 0; i < PER_MINUTE; i++) expect((await push()).status).toBe(201);
    const before = await storedRequests();
    await expectTooManyRequests(await push());
    expect(await storedRequests()).toBe(before);
  });

  it('allows 120 requests a minute by default, raised with WARTA_ANONYMOUS_REQUESTS_PER_MINUTE (benchmarks on loopback)', () => {
    expect(testConfig({ WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '' }).throttle.anonymousRequestsPerMinute).toBe(120);
    expect(testConfig({ WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '1000000' }).throttle.anonymousRequestsPerMinute).toBe(1_000_000);
    expect(() => testConfig({ WARTA_ANONYMOUS_REQUESTS_PER_MINUTE: '0' })).toThrow(/WARTA_ANONYMOUS_REQUESTS_PER_MINUTE/);
  });
});
