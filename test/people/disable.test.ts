/**
 * Disabling, enabling and offboarding a person through the admin API, over real
 * HTTP, with the person signed in to a relying party: one request ends
 * everything they hold, and only an admin of their organisation may make it.
 */
import { describe, expect, it } from 'vitest';
import { addReceiver } from '../../src/events/receivers.js';
import { createInvitation } from '../../src/invitations/service.js';
import { registerWebClient } from '../oidc/support.js';
import { startReceiver } from '../support/receiver-server.js';
import { browser, signIn } from '../webauthn/ceremony.js';
import { oidcCalls, registerServiceClient, RESOURCE_AUDIENCE, signInTo } from '../incident/support.js';
import { auditOf, peopleServer, userRow } from './support.js';

const { server, runtime, enroll, organisation, admin, secondAdmin, officer, otherAdmin } = await peopleServer();
const resource = await registerServiceClient(runtime);
const call = oidcCalls(server, resource);
const portal = await registerWebClient(runtime, { backchannel_logout_uri: 'http://127.0.0.1:8765/backchannel', access_token_audience: RESOURCE_AUDIENCE });
const receiver = await startReceiver();
const siem = await addReceiver(runtime, { actor: 'test' }, { organisationId: organisation.id, url: receiver.url, audience: 'siem' });

const act = (who: typeof admin, verb: 'disable' | 'enable' | 'offboard', personId: string, body: Record<string, unknown> = { reason: 'left the ministry' }) =>
  who.client.post(`/api/admin/people/${personId}/${verb}`, body);
const passkeySignIn = (person: typeof admin) => signIn(runtime, browser(runtime, { baseUrl: server.issuer }), person.authenticator);

async function signedInMember() {
  const person = await enroll(organisation.id, 'member');
  return { person, signedIn: await signInTo(server, portal, person.user) };
}

async function liveState(userId: string) {
  const sessions = await runtime.db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  const grants = await runtime.db.selectFrom('oauth_grants').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  return { status: (await userRow(runtime, userId)).status, sessions: sessions.length, grants: grants.length };
}

describe('disabling a person', () => {
  it('ends their sessions, refresh tokens and access tokens within the one request, queues a back-channel logout and an account_disabled SET', async () => {
    const { person, signedIn } = await signedInMember();
    expect(await call.introspect(signedIn.access_token)).toMatchObject({ active: true });

    const disabled = await act(admin, 'disable', person.user.id);
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect(disabled.body).toMatchObject({ id: person.user.id, status: 'disabled', grants: 1, backchannel_logouts: 1 });

    expect((await call.refresh(portal, signedIn.refresh_token)).status).toBe(400);
    expect((await call.userinfo(signedIn.access_token)).status).toBe(401);
    expect(await call.introspect(signedIn.access_token)).toEqual({ active: false });
    expect(await call.introspect(signedIn.refresh_token)).toEqual({ active: false });
    expect((await call.account(signedIn.cookie)).status).toBe(401);
    expect((await person.client.get('/api/account/devices')).status).toBe(401);
    expect(await liveState(person.user.id)).toEqual({ status: 'disabled', sessions: 0, grants: 0 });

    const logouts = await runtime.db.selectFrom('backchannel_logouts').select('user_id').where('client_id', '=', portal.client_id).where('user_id', '=', person.user.id).execute();
    expect(logouts).toHaveLength(1);
    const sets = await runtime.db
      .selectFrom('set_outbox as o')
      .innerJoin('security_events as e', 'e.id', 'o.event_id')
      .select(['e.type', 'o.receiver_id'])
      .where('o.user_id', '=', person.user.id)
      .execute();
    expect(sets).toContainEqual({ type: 'account_disabled', receiver_id: siem.id });
    expect(await auditOf(runtime, 'person.disabled', `user:${person.user.id}`)).toEqual([
      expect.objectContaining({ actor: `user:${admin.user.id}`, outcome: 'success', details: expect.objectContaining({ reason: 'left the ministry', grants: 1 }) }),
    ]);
    expect((await userRow(runtime, person.user.id)).disabled_by).toBe(`user:${admin.user.id}`);
  });

  it('refuses their passkey sign-in with account_disabled', async () => {
    const { person } = await signedInMember();
    expect((await passkeySignIn(person)).status).toBe(200);
    expect((await act(admin, 'disable', person.user.id)).status).toBe(200);
    const refused = await passkeySignIn(person);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('account_disabled');
  });

  it('the sign-in page has a clear message for account_disabled, in English and Polish', async () => {
    const messages = async (language: string) => {
      const html = (await browser(runtime).get('/signin', { 'accept-language': language })).body.text as string;
      const encoded = /data-messages="([^"]*)"/.exec(html)![1]!.replaceAll('&quot;', '"').replaceAll('&amp;', '&');
      return JSON.parse(encoded) as Record<string, string>;
    };
    expect((await messages('en')).account_disabled).toMatch(/disabled by an administrator/);
    expect((await messages('pl')).account_disabled).toMatch(/wyłączone przez administratora/);
  });

  it('enable lets them sign in again, but nothing the disable ended comes back', async () => {
    const { person, signedIn } = await signedInMember();
    expect((await act(admin, 'disable', person.user.id)).status).toBe(200);
    const enabled = await act(admin, 'enable', person.user.id, { reason: 'came back from leave' });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    expect((await passkeySignIn(person)).status).toBe(200);
    expect((await call.refresh(portal, signedIn.refresh_token)).status).toBe(400);
    expect((await call.userinfo(signedIn.access_token)).status).toBe(401);
    expect((await call.account(signedIn.cookie)).status).toBe(401);
    const events = await runtime.db.selectFrom('security_events').select('type').where('user_id', '=', person.user.id).orderBy('seq').execute();
    expect(events.map((e) => e.type).filter((t) => t.startsWith('account_'))).toEqual(['account_disabled', 'account_enabled']);
    expect((await act(admin, 'enable', person.user.id)).body.error).toBe('person_not_disabled');
  });

  it('one admin may disable a privileged person; re-enabling them waits for a second admin', async () => {
    const privileged = await enroll(organisation.id, 'recovery_officer');
    expect((await act(admin, 'disable', privileged.user.id)).status).toBe(200);
    const asked = await act(admin, 'enable', privileged.user.id);
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: 'awaiting_approval', request: { kind: 'enable' } });
    expect((await userRow(runtime, privileged.user.id)).status).toBe('disabled');
    expect(await auditOf(runtime, 'person.enabled', `user:${privileged.user.id}`)).toEqual([]);
    expect(await auditOf(runtime, 'role_request.opened', `user:${privileged.user.id}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}`, details: expect.objectContaining({ kind: 'enable', roles: ['recovery_officer'] }) })]);
    // Taking power away needs only one admin, so every other admin is told.
    const told = await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', secondAdmin.user.id).where('type', '=', 'organisation_changed').execute();
    expect(told.map((event) => event.details)).toContainEqual({ change: 'privileged_person_removed', personName: privileged.user.display_name, roles: ['recovery_officer'], status: 'disabled', changedBy: admin.user.display_name });
  });

  it('disabling a member is not announced to the admins', async () => {
    const member = await enroll(organisation.id, 'member');
    expect((await act(admin, 'disable', member.user.id)).status).toBe(200);
    const told = await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', secondAdmin.user.id).where('type', '=', 'organisation_changed').execute();
    expect(told.map((event) => event.details)).not.toContainEqual(expect.objectContaining({ personName: member.user.display_name }));
  });
});

describe('refused, audited, nothing changed', () => {
  it('a member or an officer calling: 403', async () => {
    const { person, signedIn } = await signedInMember();
    const member = await enroll(organisation.id, 'member');
    for (const caller of [member, officer]) {
      const refused = await act(caller, 'disable', person.user.id);
      expect(refused.status).toBe(403);
      expect((await caller.client.get('/api/admin/people')).status).toBe(403);
    }
    expect(await liveState(person.user.id)).toEqual({ status: 'active', sessions: 2, grants: 1 });
    expect((await call.userinfo(signedIn.access_token)).status).toBe(200);
  });

  it("another organisation's admin: 404 as if the person were absent", async () => {
    const { person } = await signedInMember();
    for (const verb of ['disable', 'enable', 'offboard'] as const) {
      const refused = await act(otherAdmin, verb, person.user.id, { reason: 'not mine', confirm: true });
      expect(refused.status).toBe(404);
      expect(refused.body.error).toBe('person_not_found');
    }
    expect((await otherAdmin.client.get(`/api/admin/people/${person.user.id}`)).status).toBe(404);
    expect((await act(otherAdmin, 'disable', '00000000-0000-4000-8000-000000000000')).body.error).toBe('person_not_found');
    expect(await liveState(person.user.id)).toEqual({ status: 'active', sessions: 2, grants: 1 });
    expect(await auditOf(runtime, 'person.disabled', `user:${person.user.id}`)).toEqual([
      expect.objectContaining({ actor: `user:${otherAdmin.user.id}`, outcome: 'failure', details: expect.objectContaining({ reason: 'person_not_found' }) }),
    ]);
  });

  it('oneself: refused', async () => {
    for (const verb of ['disable', 'offboard'] as const) {
      const refused = await act(secondAdmin, verb, secondAdmin.user.id, { reason: 'me', confirm: true });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('cannot_act_on_self');
    }
    expect((await userRow(runtime, secondAdmin.user.id)).status).toBe('active');
    expect((await secondAdmin.client.get('/api/admin/people')).status).toBe(200);
    expect((await auditOf(runtime, 'person.disabled', `user:${secondAdmin.user.id}`)).at(-1)).toMatchObject({ outcome: 'failure', details: { reason: 'cannot_act_on_self' } });
  });

  it('a reason is required', async () => {
    const { person } = await signedInMember();
    expect((await act(admin, 'disable', person.user.id, {})).status).toBe(400);
    expect((await act(admin, 'disable', person.user.id, { reason: '   ' })).body.error).toBe('invalid_reason');
    expect((await act(admin, 'offboard', person.user.id, { reason: 'left' })).status).toBe(400);
    expect(await liveState(person.user.id)).toEqual({ status: 'active', sessions: 2, grants: 1 });
  });
});

describe('offboarding a person', () => {
  it('removes every credential, ends everything, keeps the row, and the username cannot be invited again', async () => {
    const { person, signedIn } = await signedInMember();
    const pending = await createInvitation(runtime, { actor: 'test' }, { organisationId: organisation.id, displayName: 'Second copy', employeeId: `E-${person.user.id.slice(0, 8)}`, role: 'member' });
    await runtime.db.updateTable('users').set({ employee_id: `E-${person.user.id.slice(0, 8)}` }).where('id', '=', person.user.id).execute();

    const offboarded = await act(admin, 'offboard', person.user.id, { reason: 'contract ended', confirm: true });
    expect(offboarded.status, JSON.stringify(offboarded.body)).toBe(200);
    expect(offboarded.body).toMatchObject({ status: 'offboarded', passkeys: 1, grants: 1, backchannel_logouts: 1 });
    expect(await liveState(person.user.id)).toEqual({ status: 'offboarded', sessions: 0, grants: 0 });
    const passkeys = await runtime.db.selectFrom('webauthn_credentials').select('revoked_at').where('user_id', '=', person.user.id).execute();
    expect(passkeys.every((p) => p.revoked_at !== null)).toBe(true);
    expect((await runtime.db.selectFrom('invitations').select('revoked_at').where('id', '=', pending.invitation.id).executeTakeFirstOrThrow()).revoked_at).not.toBeNull();
    expect((await call.userinfo(signedIn.access_token)).status).toBe(401);
    expect((await passkeySignIn(person)).status).toBeGreaterThanOrEqual(400);

    await expect(createInvitation(runtime, { actor: 'test' }, { organisationId: organisation.id, displayName: 'Someone new', email: person.user.username, role: 'member' })).rejects.toMatchObject({ code: 'user_exists' });
    await expect(createInvitation(runtime, { actor: 'test' }, { organisationId: organisation.id, displayName: 'Someone new', email: person.user.username.toUpperCase(), role: 'member' })).rejects.toMatchObject({ code: 'user_exists' });
    expect((await act(admin, 'enable', person.user.id)).body.error).toBe('person_offboarded');
    expect(await auditOf(runtime, 'person.offboarded', `user:${person.user.id}`)).toEqual([expect.objectContaining({ outcome: 'success', details: expect.objectContaining({ reason: 'contract ended', passkeys: 1 }) })]);
  });
});
