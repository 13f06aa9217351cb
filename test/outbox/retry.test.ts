import { describe, expect, it } from 'vitest';
import { isTimeToGiveUp, retryDelaySeconds } from '../../src/outbox/retry.js';
import { testConfig } from '../support/runtime.js';

describe('outbox retry rules', () => {
  it('backs off exponentially with jitter, between the minimum and the maximum delay', () => {
    const settings = { retryMinSeconds: 5, retryMaxSeconds: 3600 };
    expect([retryDelaySeconds(1, settings, () => 0), retryDelaySeconds(1, settings, () => 0.999)]).toEqual([5, 5]);
    expect([retryDelaySeconds(2, settings, () => 0), retryDelaySeconds(2, settings, () => 0.999)]).toEqual([5, 10]);
    expect([retryDelaySeconds(5, settings, () => 0), retryDelaySeconds(5, settings, () => 0.999)]).toEqual([40, 80]);
    expect([retryDelaySeconds(40, settings, () => 0), retryDelaySeconds(40, settings, () => 0.999)]).toEqual([1800, 3598]);
  });

  it('gives up at the maximum age, or at the attempt limit of an outbox that has one', () => {
    const queuedAt = new Date('2030-01-01T00:00:00Z');
    const rules = { maxAgeSeconds: 3600 };
    expect(isTimeToGiveUp({ created_at: queuedAt, attempts: 50 }, new Date(queuedAt.getTime() + 3599_000), rules)).toBe(false);
    expect(isTimeToGiveUp({ created_at: queuedAt, attempts: 1 }, new Date(queuedAt.getTime() + 3600_000), rules)).toBe(true);
    expect(isTimeToGiveUp({ created_at: queuedAt, attempts: 2 }, queuedAt, { ...rules, maxAttempts: 3 })).toBe(false);
    expect(isTimeToGiveUp({ created_at: queuedAt, attempts: 3 }, queuedAt, { ...rules, maxAttempts: 3 })).toBe(true);
  });

  it('reads one set of rules for every outbox, still honouring the settings from when they were SET-only', () => {
    expect(testConfig().outbox).toEqual({ retryMinSeconds: 5, retryMaxSeconds: 3600, maxAgeSeconds: 72 * 3600 });
    expect(testConfig({ WARTA_SET_RETRY_MIN_SECONDS: '7', WARTA_SET_RETRY_MAX_SECONDS: '70', WARTA_SET_MAX_AGE_HOURS: '2' }).outbox).toEqual({ retryMinSeconds: 7, retryMaxSeconds: 70, maxAgeSeconds: 7200 });
    expect(testConfig({ WARTA_SET_RETRY_MIN_SECONDS: '7', WARTA_OUTBOX_RETRY_MIN_SECONDS: '9', WARTA_OUTBOX_MAX_AGE_HOURS: '1' }).outbox).toEqual({ retryMinSeconds: 9, retryMaxSeconds: 3600, maxAgeSeconds: 3600 });
    expect(() => testConfig({ WARTA_OUTBOX_RETRY_MIN_SECONDS: '60', WARTA_SET_RETRY_MAX_SECONDS: '30' })).toThrow(/WARTA_SET_RETRY_MAX_SECONDS.*must not be below WARTA_OUTBOX_RETRY_MIN_SECONDS/);
  });
});
