/** Who is sent a security event: one rule, whether the event is raised on its own or as steps of a larger statement (src/events/raise.ts). */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import type { User } from '../../src/db/schema.js';
import { lockedSubjectStep, type RaiseSecurityEventInput, raiseSecurityEvent, raiseSecurityEventSteps, type SecurityEventStepInput } from '../../src/events/raise.js';
import { addReceiver, removeReceiver } from '../../src/events/receivers.js';
import { issueAuthorizationCode } from '../../src/oidc/authorize/issue-code.js';
import { startSession } from '../../src/sessions/service.js';
import { createTestRuntime, createTestUser } from '../support/runtime.js';

const runtime = await createTestRuntime();

/** A user whose organisation has receivers for every type, for credential changes, for device links, and a removed one; and a receiver of another organisation. */
async function userWithReceivers() {
  const user = await createTestUser(runtime);
  const stranger = await createTestUser(runtime);
  const add = (owner: User, name: string, events?: string[]) =>
    addReceiver(runtime, { actor: 'test' }, { organisationId: owner.organisation_id, url: `http://127.0.0.1:9/${name}`, audience: name, ...(events ? { events } : {}) });
  const receivers = {
    everything: await add(user, 'everything'),
    credentials: await add(user, 'credentials', ['credential_change']),
    devices: await add(user, 'devices', ['device_linked']),
    removed: await add(user, 'removed'),
    otherOrganisation: await add(stranger, 'other-organisation'),
  };
  await removeReceiver(runtime, { actor: 'test' }, { id: receivers.removed.id, organisationId: user.organisation_id });
  return { user, receivers };
}

const raiseAlone = (input: RaiseSecurityEventInput) => runtime.db.transaction().execute(async (trx) => (await raiseSecurityEvent(trx, runtime.clock, input)).id);

/** The steps in a statement of this test's own, as the authorization code's statement uses them; undefined when nothing was raised. */
async function raiseAsSteps(input: RaiseSecurityEventInput, holds = true): Promise<string | undefined> {
  const { userId, organisationId: _, ...event } = input;
  const { rows } = await sql<{ id: string }>`
    with subject as (${lockedSubjectStep(userId, sql<boolean>`true`)}),
    ${raiseSecurityEventSteps({ subject: 'subject', event: 'raised', sets: 'raised_sets' }, runtime.clock, event as SecurityEventStepInput, holds ? sql<boolean>`exists (select from subject)` : sql<boolean>`false`)}
    select id from raised`.execute(runtime.db);
  return rows[0]?.id;
}

/** The event as stored, but for what tells two events apart (id, order). */
async function storedEvent(eventId: string) {
  const { id: _, seq: __, ...event } = await runtime.db.selectFrom('security_events').selectAll().where('id', '=', eventId).executeTakeFirstOrThrow();
  return event;
}

/** The SETs queued for the event, in outbox order, but for what tells two SETs apart (id, jti, event). */
async function queuedSets(eventId: string) {
  const rows = await runtime.db.selectFrom('set_outbox').selectAll().where('event_id', '=', eventId).orderBy('id').execute();
  for (const row of rows) expect(row.jti).toMatch(/^[0-9a-f-]{36}$/);
  return rows.map(({ id: _, jti: __, event_id: ___, ...row }) => row);
}

describe('raising a security event, alone or as steps of a larger statement', () => {
  it.each([
    ['credential_change', 'subscribed receivers only', ['everything', 'credentials']],
    ['account_recovered', 'every receiver of the organisation, whatever it subscribed to', ['everything', 'credentials', 'devices']],
    ['organisation_changed', 'no receiver (shown on the banner only)', []],
  ] as const)('queues %s for %s, the same SETs either way', async (type, _who, expected) => {
    const { user, receivers } = await userWithReceivers();
    const details = {
      credential_change: { changeType: 'create', credentialType: 'fido2-roaming', friendlyName: 'YubiKey 5C' },
      account_recovered: { caseId: crypto.randomUUID() },
      organisation_changed: { change: 'policy_set', changedBy: null, members: ['sessionIdleMinutes'] },
    }[type];
    const input = { type, userId: user.id, organisationId: user.organisation_id, details, initiatingEntity: 'admin', txn: 'req-7', ip: '192.0.2.7' } as RaiseSecurityEventInput;

    const alone = await raiseAlone(input);
    const asSteps = (await raiseAsSteps(input))!;

    expect(await storedEvent(asSteps)).toEqual(await storedEvent(alone));
    const sets = await queuedSets(alone);
    expect(await queuedSets(asSteps)).toEqual(sets);
    expect(sets.map((set) => set.receiver_id)).toEqual(expected.map((name) => receivers[name].id).sort());
    expect(sets.every((set) => set.user_id === user.id && set.status === 'pending' && set.attempts === 0 && set.locked_until === null && set.claim_id === null)).toBe(true);
  });

  it('queues device_linked from the authorization code’s statement exactly as raiseSecurityEvent does', async () => {
    const { user, receivers } = await userWithReceivers();
    const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Messenger', grant_types: ['authorization_code'], redirect_uris: ['https://messenger.example.gov/cb'], first_party: true }, { authority: OPERATOR });
    const { session } = await startSession(runtime.db, runtime, { userId: user.id, amr: ['hwk', 'user'], ip: '192.0.2.7', userAgent: 'vitest' });
    const request = { clientId: client.client_id, redirectUri: 'https://messenger.example.gov/cb', scopes: ['openid'], nonce: undefined, codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', dpopJkt: undefined, deviceName: 'Work phone' };
    await issueAuthorizationCode(runtime, { actor: 'anonymous', ip: '192.0.2.7', userAgent: 'vitest' }, { request, clientName: client.client_name, session, pendingRequestId: undefined });
    const inStatement = await runtime.db.selectFrom('security_events').selectAll().where('user_id', '=', user.id).where('type', '=', 'device_linked').executeTakeFirstOrThrow();

    const alone = await raiseAlone({
      type: 'device_linked',
      userId: user.id,
      organisationId: user.organisation_id,
      details: inStatement.details as { deviceId: string; deviceName: string },
      ip: inStatement.ip,
      initiatingEntity: 'user',
    });

    expect(await storedEvent(alone)).toEqual(await storedEvent(inStatement.id));
    const sets = await queuedSets(alone);
    expect(await queuedSets(inStatement.id)).toEqual(sets);
    expect(sets.map((set) => set.receiver_id)).toEqual([receivers.everything.id, receivers.devices.id].sort());
  });

  it('raises nothing as steps when the larger statement’s condition does not hold', async () => {
    const { user } = await userWithReceivers();
    expect(await raiseAsSteps({ type: 'account_enabled', userId: user.id, organisationId: user.organisation_id, details: {} }, false)).toBeUndefined();
    expect(await runtime.db.selectFrom('security_events').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
    expect(await runtime.db.selectFrom('set_outbox').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
  });

  it('holds the subject’s order lock until the caller’s transaction ends, so events of one user commit in outbox order', async () => {
    const { user } = await userWithReceivers();
    const subjectLocks = sql<{ n: number }>`select count(*)::int as n from pg_locks
      where locktype = 'advisory' and objsubid = 2 and objid = hashtext(${user.id}::text)::oid and pid = pg_backend_pid() and granted`;
    const held = await runtime.db.transaction().execute(async (trx) => {
      await raiseSecurityEvent(trx, runtime.clock, { type: 'account_enabled', userId: user.id, organisationId: user.organisation_id, details: {} });
      return (await subjectLocks.execute(trx)).rows[0]!.n;
    });
    expect(held).toBe(1);
    expect((await subjectLocks.execute(runtime.db)).rows[0]!.n).toBe(0);
  });
});
