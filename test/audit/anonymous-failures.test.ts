import { describe, expect, it } from 'vitest';
import { auditClosedFailureWindows, FAILURE_WINDOW_GRACE_SECONDS, MAX_FAILURE_KEY_LENGTH, recordAnonymousFailure } from '../../src/audit/anonymous-failures.js';
import { sealAuditLog, verifyAuditChain } from '../../src/audit/audit.js';
import type { HashGate } from '../../src/passwords/hash-gate.js';
import { givePassword } from '../passwords/support.js';
import { createTestRuntime, createTestUser, testClient } from '../support/runtime.js';

/**
 * Anonymous input must not grow the audit log for ever: a botnet or a rotating
 * IPv6 prefix trying made-up usernames used to add one audit entry per request.
 */
const WINDOW_SECONDS = 300;
const runtime = await createTestRuntime({ env: { WARTA_TRUST_PROXY: 'true', WARTA_AUDIT_ANONYMOUS_WINDOW_SECONDS: String(WINDOW_SECONDS) } });
// What is audited does not depend on the argon2 answer, and 1,000 real hashes would take over a minute:
// every password is simply wrong here.
Object.assign(runtime, { passwordHashing: { run: async () => false } as unknown as HashGate });
const { request } = testClient(runtime);

const signIn = (username: string, ip: string) => request('/api/signin/password', { method: 'POST', json: { username, password: 'guess', code: '123456' }, headers: { 'x-forwarded-for': ip } });
const auditRows = async () => Number((await runtime.db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const counters = (action: string) => runtime.db.selectFrom('anonymous_failure_counts').selectAll().where('action', '=', action).execute();
const aggregated = (action: string) => runtime.db.selectFrom('audit_log').selectAll().where('action', '=', `${action}.aggregated`).orderBy('id').execute();

/** Moves the clock to the start of the next aggregation window, so what a test sends falls in one window. */
function startOfNextWindow(): Date {
  const windowMs = WINDOW_SECONDS * 1000;
  runtime.clock.set(new Date((Math.floor(runtime.clock.now().getTime() / windowMs) + 1) * windowMs));
  return runtime.clock.now();
}
const closeWindow = () => runtime.clock.advance(WINDOW_SECONDS + FAILURE_WINDOW_GRACE_SECONDS);

describe('anonymous failures', () => {
  // A thousand sequential requests (the last address is asserted): about 10 s alone, three times that beside the other suite.
  it('1,000 failed sign-ins for made-up usernames from rotating addresses add no entry until the window closes, then one with the count', { timeout: 120_000 }, async () => {
    const windowStart = startOfNextWindow();
    const before = await auditRows();
    for (let i = 0; i < 1000; i++) {
      const ip = i % 2 ? `2001:db8:${i.toString(16)}::1` : `198.51.${Math.floor(i / 250)}.${i % 250}`;
      const response = await signIn(`nobody-${i}@example.gov`, ip);
      expect(response.status).toBe(401);
      if (i % 100 === 0) runtime.clock.advance(1);
    }
    expect(await auditRows()).toBe(before);
    expect(await counters('signin.failed')).toEqual([expect.objectContaining({ key: 'password:unknown_account', count: 1000, window_start: windowStart, last_ip: '2001:db8:3e7::1' })]);

    // Not before the window (and its grace) is over.
    runtime.clock.advance(WINDOW_SECONDS);
    expect(await auditClosedFailureWindows(runtime)).toBe(0);
    runtime.clock.advance(FAILURE_WINDOW_GRACE_SECONDS);
    expect(await auditClosedFailureWindows(runtime)).toBe(1);

    expect(await auditRows()).toBe(before + 1);
    const [entry, ...more] = await aggregated('signin.failed');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      actor: 'anonymous',
      subject: null,
      outcome: 'failure',
      details: { key: 'password:unknown_account', count: 1000, window_seconds: WINDOW_SECONDS, window_start: windowStart.toISOString(), first_at: windowStart.toISOString(), last_at: new Date(windowStart.getTime() + 10_000).toISOString() },
    });
    // The counter went with the entry; the table holds one row per key and open window at most.
    expect(await counters('signin.failed')).toEqual([]);
    while ((await sealAuditLog(runtime.db, runtime)) > 0);
    expect(await verifyAuditChain(runtime.db, runtime)).toMatchObject({ ok: true, unsealed: 0, refused: [] });
  });

  it('still audits every failed sign-in against an existing account, one entry each', async () => {
    startOfNextWindow();
    const user = await createTestUser(runtime);
    await givePassword(runtime, user);
    for (let i = 0; i < 3; i++) expect((await signIn(user.username, `2001:db8:77::${i}`)).status).toBe(401);
    const entries = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'signin.failed').where('subject', '=', `user:${user.id}`).execute();
    expect(entries.map((entry) => entry.details.reason)).toEqual(['wrong_password', 'wrong_password', 'wrong_password']);
    expect(await counters('signin.failed')).toEqual([]);
  });

  it('keeps one window per key: separate keys are separate entries, and a later window is a new one', async () => {
    startOfNextWindow();
    for (const key of ['a', 'b', 'a']) await recordAnonymousFailure(runtime.db, runtime, { action: 'test.failed', key });
    closeWindow();
    await recordAnonymousFailure(runtime.db, runtime, { action: 'test.failed', key: 'a' });
    expect(await auditClosedFailureWindows(runtime)).toBe(2);
    expect((await aggregated('test.failed')).map((entry) => [entry.details.key, entry.details.count])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(await counters('test.failed')).toEqual([expect.objectContaining({ key: 'a', count: 1 })]);
  });

  it('counts concurrent failures of one key into one row, race-free', async () => {
    startOfNextWindow();
    await Promise.all([recordAnonymousFailure(runtime.db, runtime, { action: 'race.failed', key: 'k' }), recordAnonymousFailure(runtime.db, runtime, { action: 'race.failed', key: 'k' })]);
    expect(await counters('race.failed')).toEqual([expect.objectContaining({ count: 2 })]);
  });

  it('cuts a long key, so the counter table stays small', async () => {
    startOfNextWindow();
    await recordAnonymousFailure(runtime.db, runtime, { action: 'long.failed', key: 'x'.repeat(10_000), ip: 'y'.repeat(10_000) });
    const [row] = await counters('long.failed');
    expect(row!.key).toHaveLength(MAX_FAILURE_KEY_LENGTH);
    expect(row!.last_ip!.length).toBeLessThanOrEqual(100);
  });
});
