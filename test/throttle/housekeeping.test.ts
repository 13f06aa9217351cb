import { describe, expect, it } from 'vitest';
import { PER_IP_POLICY, recordFailure, SIGN_IN_POLICY } from '../../src/throttle/counters.js';
import { purgeExpiredRateLimits } from '../../src/throttle/housekeeping.js';
import { createTestRuntime } from '../support/runtime.js';

const runtime = await createTestRuntime();
const keys = async () => (await runtime.db.selectFrom('rate_limits').select('key').orderBy('key').execute()).map((row) => row.key);

describe('rate limit housekeeping', () => {
  it('deletes counters whose window is over and whose block has ended, and keeps the rest', async () => {
    const policy = { ...SIGN_IN_POLICY, freeAttempts: 0, baseDelaySeconds: 1, maxDelaySeconds: 1, lockAfter: 3, lockSeconds: 7200 };
    await recordFailure(runtime.db, runtime.clock, 'test:old', PER_IP_POLICY);
    await recordFailure(runtime.db, runtime.clock, 'test:backed-off', policy);
    for (let i = 0; i < 3; i++) await recordFailure(runtime.db, runtime.clock, 'test:locked', policy);
    runtime.clock.advance(3599);
    await recordFailure(runtime.db, runtime.clock, 'test:recent', PER_IP_POLICY);
    runtime.clock.advance(2);

    expect(await purgeExpiredRateLimits(runtime)).toBe(2);
    // Still locked for another hour: deleting it would lift the lock.
    expect(await keys()).toEqual(['test:locked', 'test:recent']);

    runtime.clock.advance(7200);
    expect(await purgeExpiredRateLimits(runtime)).toBe(2);
    expect(await keys()).toEqual([]);
  });
});
