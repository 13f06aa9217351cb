/**
 * Addresses and user agents on kept records are forgotten after the retention:
 * ended sessions, devices unused since, old security events. Live records and
 * recent ones keep theirs; audit entries are never touched and the chain still
 * verifies.
 */
import { describe, expect, it } from 'vitest';
import { appendAudit, sealAuditLog, verifyAuditChain } from '../../src/audit/audit.js';
import { OPERATOR } from '../../src/clients/service.js';
import { createGrant, revokeGrant } from '../../src/grants/service.js';
import { raiseSecurityEvent } from '../../src/events/raise.js';
import { blankExpiredPersonalData, RETENTION_BATCH } from '../../src/privacy/retention.js';
import { revokeSession, startSession } from '../../src/sessions/service.js';
import { registerWebClient } from '../oidc/support.js';
import { createTestRuntime, createTestUser } from '../support/runtime.js';

const DAY = 86400;
const runtime = await createTestRuntime({ env: { WARTA_PERSONAL_DATA_RETENTION_DAYS: '30', WARTA_SESSION_ABSOLUTE_HOURS: '12' } });
const client = await registerWebClient(runtime, {}, { authority: OPERATOR });

/** A signed-in person with a session, a device and a security event, all carrying the address they came from. */
async function personWithTraces(ip: string) {
  const user = await createTestUser(runtime);
  const { session } = await startSession(runtime.db, runtime, { userId: user.id, amr: ['hwk', 'user'], ip, userAgent: `Browser from ${ip}` });
  const grant = await createGrant(runtime.db, runtime.clock, { clientId: client.client_id, session, scope: 'openid offline_access', dpopJkt: null, lifetimeSeconds: 365 * DAY });
  const now = runtime.clock.now();
  await runtime.db.insertInto('devices').values({ grant_id: grant.id, user_id: user.id, name: 'Portal', platform: 'Linux', user_agent: `Device from ${ip}`, first_ip: ip, last_ip: ip, created_at: now, last_used_at: now }).execute();
  const event = await runtime.db.transaction().execute((trx) => raiseSecurityEvent(trx, runtime.clock, { type: 'account_disabled', userId: user.id, organisationId: user.organisation_id, details: {}, ip }));
  await appendAudit(runtime.db, runtime, { actor: `user:${user.id}`, ip, userAgent: `Browser from ${ip}` }, { action: 'signin.succeeded', subject: `user:${user.id}`, details: {} });
  return { user, session, grant, event };
}

async function traces(person: Awaited<ReturnType<typeof personWithTraces>>) {
  const { db } = runtime;
  return {
    session: await db.selectFrom('sessions').select(['ip', 'user_agent']).where('id', '=', person.session.id).executeTakeFirstOrThrow(),
    device: await db.selectFrom('devices').select(['first_ip', 'last_ip', 'user_agent']).where('grant_id', '=', person.grant.id).executeTakeFirstOrThrow(),
    event: await db.selectFrom('security_events').select(['ip']).where('id', '=', person.event.id).executeTakeFirstOrThrow(),
    audit: await db.selectFrom('audit_log').select(['ip', 'user_agent']).where('subject', '=', `user:${person.user.id}`).where('action', '=', 'signin.succeeded').executeTakeFirstOrThrow(),
  };
}

describe('personal data retention', () => {
  it('blanks addresses and user agents older than the retention, keeps newer ones and every audit entry', async () => {
    const old = await personWithTraces('198.51.100.1');
    await revokeSession(runtime.db, runtime.clock, old.session.id, 'signed_out');
    await revokeGrant(runtime.db, runtime.clock, old.grant.id, 'signed_out');
    runtime.clock.advance(31 * DAY);
    const recent = await personWithTraces('198.51.100.2');

    const blanked = await blankExpiredPersonalData(runtime);
    expect(blanked).toEqual({ sessions: 1, devices: 1, security_events: 1 });

    expect(await traces(old)).toEqual({
      session: { ip: null, user_agent: null },
      device: { first_ip: null, last_ip: null, user_agent: null },
      event: { ip: null },
      audit: { ip: '198.51.100.1', user_agent: 'Browser from 198.51.100.1' },
    });
    expect(await traces(recent)).toEqual({
      session: { ip: '198.51.100.2', user_agent: 'Browser from 198.51.100.2' },
      device: { first_ip: '198.51.100.2', last_ip: '198.51.100.2', user_agent: 'Device from 198.51.100.2' },
      event: { ip: '198.51.100.2' },
      audit: { ip: '198.51.100.2', user_agent: 'Browser from 198.51.100.2' },
    });
    // The rows themselves stay: only the addresses go.
    expect(await runtime.db.selectFrom('sessions').select('revoked_reason').where('id', '=', old.session.id).executeTakeFirstOrThrow()).toEqual({ revoked_reason: 'signed_out' });

    await sealAuditLog(runtime.db, runtime);
    expect((await verifyAuditChain(runtime.db, runtime)).ok).toBe(true);
    expect(await blankExpiredPersonalData(runtime)).toEqual({ sessions: 0, devices: 0, security_events: 0 });
  });

  it('blanks a session that expired (not revoked) once its expiry is past the retention, not while it is within it', async () => {
    const person = await personWithTraces('198.51.100.3');
    // Expired 12 hours in, which is 29.5 days before "now": still within 30 days.
    runtime.clock.advance(30 * DAY);
    await blankExpiredPersonalData(runtime);
    expect((await traces(person)).session).toEqual({ ip: '198.51.100.3', user_agent: 'Browser from 198.51.100.3' });
    runtime.clock.advance(DAY);
    await blankExpiredPersonalData(runtime);
    expect((await traces(person)).session).toEqual({ ip: null, user_agent: null });
  });

  it('blanks a session revoked before the retention even while its expiry is still ahead', async () => {
    const person = await personWithTraces('198.51.100.4');
    const later = new Date(runtime.clock.now().getTime() + 80 * DAY * 1000);
    await runtime.db.updateTable('sessions').set({ expires_at: later, idle_expires_at: later }).where('id', '=', person.session.id).execute();
    await revokeSession(runtime.db, runtime.clock, person.session.id, 'signed_out');
    runtime.clock.advance(31 * DAY);
    await blankExpiredPersonalData(runtime);
    expect((await traces(person)).session).toEqual({ ip: null, user_agent: null });
  });

  it('works in batches until everything old is blank, and stops between batches when asked', async () => {
    const user = await createTestUser(runtime);
    const now = runtime.clock.now();
    const rows = Array.from({ length: RETENTION_BATCH + 3 }, () => ({ id: crypto.randomUUID(), organisation_id: user.organisation_id, user_id: user.id, type: 'credential_change', details: '{}', initiating_entity: null, txn: null, ip: '198.51.100.9', occurred_at: now }));
    await runtime.db.insertInto('security_events').values(rows).execute();
    runtime.clock.advance(31 * DAY);

    expect(await blankExpiredPersonalData(runtime, () => true)).toEqual({ sessions: 0, devices: 0, security_events: 0 });
    expect((await blankExpiredPersonalData(runtime)).security_events).toBe(RETENTION_BATCH + 3);
    expect(await runtime.db.selectFrom('security_events').select('id').where('user_id', '=', user.id).where('ip', 'is not', null).execute()).toEqual([]);
  });
});
