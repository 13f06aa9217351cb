/** Session lifetimes: the server's settings, shortened per organisation by its policy (never lengthened). */
import { describe, expect, it } from 'vitest';
import { checkPolicy } from '../../src/orgs/policy-check.js';
import { resumeSignedIn, startSession } from '../../src/sessions/service.js';
import { createTestRuntime, createTestUser } from '../support/runtime.js';

// The server: 30 minutes idle, 12 hours in all.
const runtime = await createTestRuntime({ env: { WARTA_SESSION_IDLE_MINUTES: '30', WARTA_SESSION_ABSOLUTE_HOURS: '12' } });
const minutes = (from: Date, to: Date) => Math.round((to.getTime() - from.getTime()) / 60_000);

async function sessionIn(policy: Record<string, unknown>) {
  const user = await createTestUser(runtime, { policy });
  return startSession(runtime.db, runtime, { userId: user.id, amr: ['hwk', 'user'], ip: null, userAgent: null });
}

describe('session lifetimes', () => {
  it('follows the server without an organisation setting', async () => {
    const { session } = await sessionIn({});
    expect(minutes(session.created_at, session.idle_expires_at)).toBe(30);
    expect(minutes(session.created_at, session.expires_at)).toBe(12 * 60);
  });

  it("takes the organisation's shorter idle time and maximum, and keeps the idle time on every slide", async () => {
    const { token, session } = await sessionIn({ sessionIdleMinutes: 10, sessionMaxHours: 2 });
    expect(minutes(session.created_at, session.idle_expires_at)).toBe(10);
    expect(minutes(session.created_at, session.expires_at)).toBe(120);
    runtime.clock.advance(9 * 60);
    const slid = (await resumeSignedIn(runtime, token))?.session;
    expect(minutes(slid!.last_seen_at, slid!.idle_expires_at)).toBe(10);
    runtime.clock.advance(11 * 60);
    expect(await resumeSignedIn(runtime, token)).toBeUndefined();
  });

  it('reads the session with its user and roles, and signs nobody in once the user is no longer active', async () => {
    const user = await createTestUser(runtime, { role: 'admin' });
    const { token, session } = await startSession(runtime.db, runtime, { userId: user.id, amr: ['hwk', 'user'], ip: null, userAgent: null });
    const signedIn = await resumeSignedIn(runtime, token);
    expect(signedIn).toMatchObject({ session: { id: session.id }, user: { id: user.id, created_at: user.created_at }, roles: expect.arrayContaining(['admin']) });
    await runtime.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', user.id).execute();
    expect(await resumeSignedIn(runtime, token)).toBeUndefined();
  });

  it("never lengthens the server's lifetimes", async () => {
    const { session } = await sessionIn({ sessionIdleMinutes: 600, sessionMaxHours: 48 });
    expect(minutes(session.created_at, session.idle_expires_at)).toBe(30);
    expect(minutes(session.created_at, session.expires_at)).toBe(12 * 60);
  });

  it('refuses lifetimes out of bounds, naming the member', () => {
    expect(() => checkPolicy({ sessionIdleMinutes: 2 })).toThrow(/sessionIdleMinutes/);
    expect(() => checkPolicy({ sessionMaxHours: 0 })).toThrow(/sessionMaxHours/);
    expect(() => checkPolicy({ sessionMaxHours: '8' })).toThrow(/sessionMaxHours/);
    expect(checkPolicy({ sessionIdleMinutes: null, sessionMaxHours: 8 })).toEqual({ sessionIdleMinutes: null, sessionMaxHours: 8 });
  });
});
