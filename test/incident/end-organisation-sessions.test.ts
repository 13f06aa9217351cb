/**
 * Ending every session and grant of one organisation, over real HTTP: its
 * users' cookies and refresh tokens stop working; another organisation's do not.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { endOrganisationSessionsCommand } from '../../src/cli/commands/incident.js';
import { addReceiver } from '../../src/events/receivers.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { registerWebClient } from '../oidc/support.js';
import { createTestUser } from '../support/runtime.js';
import { incidentServer, oidcCalls, refusals, registerServiceClient, signInTo } from './support.js';

const { server, runtime, operator, admin, letOperatorGoStale } = await incidentServer();
const cli = { runtime: async () => runtime as Runtime, write: () => {} };
const call = oidcCalls(server, await registerServiceClient(runtime));
const portal = await registerWebClient(runtime, { backchannel_logout_uri: 'http://127.0.0.1:8765/backchannel' });

/** An organisation with two users signed in to the portal, and a receiver of its security events. */
async function breachedOrganisation() {
  const organisation = await createOrganisation(runtime, { actor: 'test' }, { name: `Breached ${randomBytes(3).toString('hex')}` });
  const receiver = await addReceiver(runtime, { actor: 'test' }, { organisationId: organisation.id, url: 'http://127.0.0.1:8765/events', audience: 'siem' });
  const users = [await signInTo(server, portal, await createTestUser(runtime, { organisationId: organisation.id })), await signInTo(server, portal, await createTestUser(runtime, { organisationId: organisation.id }))];
  const bystander = await signInTo(server, portal, await createTestUser(runtime));
  return { organisation, receiver, users, bystander };
}

const endSessions = (organisationId: string, reason = 'session cookies exfiltrated from the help desk') => operator.client.post(`/api/operator/organisations/${organisationId}/end-sessions`, { reason });
const liveSessions = async (userId: string) => (await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute()).length;

describe("ending an organisation's sessions", () => {
  it('is refused to an admin without the operator role, and to a stale operator: 403, audited, every session still live', async () => {
    const { organisation, users } = await breachedOrganisation();
    const byAdmin = await admin.client.post(`/api/operator/organisations/${organisation.id}/end-sessions`, { reason: 'x' });
    expect(byAdmin.status).toBe(403);
    expect((await refusals(runtime, admin.user.id)).at(-1)).toMatchObject({ details: { role: 'operator', reason: 'forbidden' } });
    const renew = await letOperatorGoStale();
    const stale = await endSessions(organisation.id);
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe('reauthentication_required');
    expect((await refusals(runtime, operator.user.id)).at(-1)).toMatchObject({ details: { role: 'operator', reason: 'reauthentication_required' } });
    for (const { user, cookie } of users) {
      expect(await liveSessions(user.id)).toBe(1);
      expect((await call.account(cookie)).status).toBe(200);
    }
    expect(await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'organisation.sessions_ended').where('subject', '=', `org:${organisation.id}`).execute()).toEqual([]);
    await renew();
  });

  it("from the operator API: its users' cookies, refresh and access tokens fail; another organisation's keep working", async () => {
    const { organisation, receiver, users, bystander } = await breachedOrganisation();
    const ended = await endSessions(organisation.id);
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect(ended.body).toMatchObject({ organisation_id: organisation.id, users: 2, sessions: 2, grants: 2, backchannel_logouts: 2, security_events: 2, sets_queued: 2 });

    for (const { user, cookie, refresh_token, access_token } of users) {
      expect((await call.account(cookie)).status).toBe(401);
      expect((await call.refresh(portal, refresh_token)).body.error).toBe('invalid_grant');
      expect((await call.userinfo(access_token)).status).toBe(401);
      const events = await runtime.db.selectFrom('security_events').select(['type', 'initiating_entity']).where('user_id', '=', user.id).where('type', '=', 'sessions_revoked').execute();
      expect(events).toEqual([{ type: 'sessions_revoked', initiating_entity: 'admin' }]);
    }
    expect((await call.account(bystander.cookie)).status).toBe(200);
    const refreshed = await call.refresh(portal, bystander.refresh_token);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect((await call.userinfo(refreshed.body.access_token as string)).status).toBe(200);

    const queued = await runtime.db
      .selectFrom('set_outbox as o')
      .innerJoin('security_events as e', 'e.id', 'o.event_id')
      .select('o.user_id')
      .where('o.receiver_id', '=', receiver.id)
      .where('e.type', '=', 'sessions_revoked')
      .orderBy('o.user_id')
      .execute();
    expect(queued.map((row) => row.user_id)).toEqual(users.map((u) => u.user.id).sort());
    const logouts = await runtime.db.selectFrom('backchannel_logouts').select('user_id').where('user_id', 'in', users.map((u) => u.user.id)).execute();
    expect(logouts).toHaveLength(2);
    const audit = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'organisation.sessions_ended').where('subject', '=', `org:${organisation.id}`).execute();
    expect(audit).toEqual([expect.objectContaining({ actor: `user:${operator.user.id}`, details: expect.objectContaining({ reason: 'session cookies exfiltrated from the help desk', sessions: 2, grants: 2, users: 2 }) })]);
  });

  it('an unknown organisation is 404 and a missing reason 400, changing nothing', async () => {
    const { organisation, users } = await breachedOrganisation();
    expect((await endSessions('not-a-uuid')).status).toBe(404);
    expect((await endSessions('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await operator.client.post(`/api/operator/organisations/${organisation.id}/end-sessions`, {})).body.error).toBe('invalid_reason');
    expect(await liveSessions(users[0]!.user.id)).toBe(1);
  });

  it('from the CLI, by organisation name', async () => {
    const { organisation, users, bystander } = await breachedOrganisation();
    const result = await endOrganisationSessionsCommand.run({ org: organisation.name, reason: 'incident 7' }, cli);
    expect(result).toMatchObject({ users: 2, sessions: 2, grants: 2 });
    for (const { cookie, refresh_token } of users) {
      expect((await call.account(cookie)).status).toBe(401);
      expect((await call.refresh(portal, refresh_token)).body.error).toBe('invalid_grant');
    }
    expect((await call.account(bystander.cookie)).status).toBe(200);
    expect((await call.refresh(portal, bystander.refresh_token)).status).toBe(200);
    const audit = await runtime.db.selectFrom('audit_log').select('actor').where('action', '=', 'organisation.sessions_ended').where('subject', '=', `org:${organisation.id}`).execute();
    expect(audit).toEqual([{ actor: 'cli' }]);
  });
});
