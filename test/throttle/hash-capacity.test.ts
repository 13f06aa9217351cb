import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createTestRuntime, createTestUser, testClient, testConfig } from '../support/runtime.js';
import { codeAt, freshIp, GOOD_PASSWORD, givePasswordAndTotp } from '../passwords/support.js';

const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true', WARTA_HASH_CONCURRENCY: '1', WARTA_HASH_QUEUE: '0' } });
const { request } = testClient(runtime);

describe('argon2 capacity per instance', () => {
  it('defaults to one hash per core and a short queue, both configurable', () => {
    expect(testConfig().passwords.hashing).toEqual({ concurrency: availableParallelism(), queue: 4 * availableParallelism() });
    expect(testConfig({ WARTA_HASH_CONCURRENCY: '3', WARTA_HASH_QUEUE: '5' }).passwords.hashing).toEqual({ concurrency: 3, queue: 5 });
    expect(() => testConfig({ WARTA_HASH_CONCURRENCY: '0' })).toThrow(/WARTA_HASH_CONCURRENCY/);
  });

  it('answers a sign-in with 503 temporarily_unavailable and Retry-After when every slot is busy, counting nothing', async () => {
    const user = await createTestUser(runtime);
    const { secret } = await givePasswordAndTotp(runtime, user);
    const ip = freshIp();
    let release!: () => void;
    const busy = runtime.passwordHashing.run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      const res = await request('/api/signin/password', { method: 'POST', json: { username: user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) }, headers: { 'x-forwarded-for': ip } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      release();
      await busy;
    }
    // Not evaluated, so not counted against the address or the account.
    const counters = await runtime.db.selectFrom('rate_limits').select(['key', 'failures']).where('failures', '>', 0).where((eb) => eb.or([eb('key', '=', `signin:ip:${ip}`), eb('key', 'like', 'signin:account:%')])).execute();
    expect(counters).toEqual([]);
    expect(await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
    // With the slot free again the same sign-in goes through.
    const again = await request('/api/signin/password', { method: 'POST', json: { username: user.username, password: GOOD_PASSWORD, code: codeAt(secret, runtime.clock) }, headers: { 'x-forwarded-for': ip } });
    expect(again.status).toBe(200);
  });
});
