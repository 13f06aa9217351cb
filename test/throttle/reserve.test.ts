import { describe, expect, it } from 'vitest';
import { PER_IP_POLICY, reserveAttempts, SIGN_IN_POLICY } from '../../src/throttle/counters.js';
import { createTestRuntime } from '../support/runtime.js';

const runtime = await createTestRuntime();

let n = 0;
const keys = () => {
  n += 1;
  return { address: `test:reserve:ip:${n}`, account: `test:reserve:account:${n}` };
};
const failures = async (key: string) => (await runtime.db.selectFrom('rate_limits').select('failures').where('key', '=', key).executeTakeFirst())?.failures;
const block = (key: string) =>
  runtime.db.insertInto('rate_limits').values({ key, failures: 200, window_started_at: runtime.clock.now(), blocked_until: new Date(runtime.clock.now().getTime() + 60_000), updated_at: runtime.clock.now() }).execute();

describe('reserving an address and an account in one statement', () => {
  it('counts both', async () => {
    const { address, account } = keys();
    await reserveAttempts(runtime.db, runtime.clock, [address, PER_IP_POLICY], [account, SIGN_IN_POLICY]);
    const [ip, user] = await reserveAttempts(runtime.db, runtime.clock, [address, PER_IP_POLICY], [account, SIGN_IN_POLICY]);
    expect([ip.failures, user.failures]).toEqual([2, 2]);
    expect([await failures(address), await failures(account)]).toEqual([2, 2]);
  });

  it('refuses a blocked address with 429 and counts nothing against the account', async () => {
    const { address, account } = keys();
    await block(address);
    await expect(reserveAttempts(runtime.db, runtime.clock, [address, PER_IP_POLICY], [account, SIGN_IN_POLICY])).rejects.toMatchObject({ status: 429, code: 'too_many_attempts' });
    expect([await failures(address), await failures(account)]).toEqual([200, undefined]);
  });

  it('refuses a blocked account with 429 saying how long, and gives the address its count back', async () => {
    const { address, account } = keys();
    await reserveAttempts(runtime.db, runtime.clock, [address, PER_IP_POLICY], [`${account}:other`, SIGN_IN_POLICY]);
    await block(account);
    const refusal = reserveAttempts(runtime.db, runtime.clock, [address, PER_IP_POLICY], [account, SIGN_IN_POLICY]);
    await expect(refusal).rejects.toMatchObject({ status: 429, code: 'too_many_attempts', headers: { 'Retry-After': '60' } });
    expect([await failures(address), await failures(account)]).toEqual([1, 200]);
  });

  it('brings back what the attempt is checked against, read in the same statement, and nothing when it finds no row', async () => {
    const { address, account } = keys();
    const read = (key: string) => runtime.db.selectFrom('rate_limits').select(['key as read_key', 'failures as read_failures']).where('key', '=', key);
    const [, , found] = await reserveAttempts(runtime.db, runtime.clock, [address, PER_IP_POLICY], [account, SIGN_IN_POLICY], read(address));
    // Read as the rows were when the statement began: the address row this reservation inserts is not there yet.
    expect(found).toBeUndefined();
    const [ip, , again] = await reserveAttempts(runtime.db, runtime.clock, [address, PER_IP_POLICY], [account, SIGN_IN_POLICY], read(address));
    expect(ip.failures).toBe(2);
    expect(again).toEqual({ read_key: address, read_failures: 1 });
    const [, , none] = await reserveAttempts(runtime.db, runtime.clock, [address, PER_IP_POLICY], [account, SIGN_IN_POLICY], read(`${address}:none`));
    expect(none).toBeUndefined();
    expect([await failures(address), await failures(account)]).toEqual([3, 3]);
  });
});
