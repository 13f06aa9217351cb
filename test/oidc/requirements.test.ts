/** A client's required groups and attributes: who may sign in to it at all. */
import { describe, expect, it } from 'vitest';
import { defineAttribute, setAttribute } from '../../src/attributes/service.js';
import { findClient, OPERATOR, organisationAdmin, updateClient } from '../../src/clients/service.js';
import { recordConsent } from '../../src/oidc/authorize/interaction.js';
import { approveChangeRequest } from '../../src/change-requests/approve.js';
import { isAwaitingApproval } from '../../src/authority/change-requests.js';
import { addGroupMember, createGroup, removeGroupMember } from '../../src/groups/service.js';
import { unmetRequirement } from '../../src/oidc/checks/requirements.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { createTestUser } from '../support/runtime.js';
import { rejectionFrom } from './expect-error.js';
import { authorizeWithSession, basicAuth, browserGet, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server = await startOidcServer();
const { runtime } = server;
const actor = { actor: 'test' };
const organisation = await createOrganisation(runtime, actor, { name: 'Ministry of Requirements' });
const organisationId = organisation.id;
const department = await createGroup(runtime, actor, { organisationId, name: 'Intelligence' });
const unit = await createGroup(runtime, actor, { organisationId, name: 'Analysis', parentId: department.id });
await defineAttribute(runtime, actor, { organisationId, name: 'clearance_level', type: 'enum', allowedValues: ['restricted', 'secret', 'top_secret'] });

const client = await registerWebClient(
  runtime,
  { client_name: 'Secret archive', first_party: false, required_groups: ['/Intelligence'], required_attributes: { clearance_level: ['secret', 'top_secret'] } },
  { authority: organisationAdmin(organisationId) },
);

async function person(options: { inUnit: boolean; clearance?: string }) {
  const signedIn = await signedInUser(runtime, undefined, { organisationId });
  if (options.inUnit) await addGroupMember(runtime, actor, { actor: { kind: 'cli' }, organisationId, groupId: unit.id, userId: signedIn.user.id });
  if (options.clearance) await setAttribute(runtime, actor, { actor: { kind: 'cli' }, organisationId, userId: signedIn.user.id, name: 'clearance_level', value: options.clearance });
  // Consented before: the requirements are checked whether or not a consent page comes.
  await recordConsent(runtime, actor, signedIn.user, (await findClient(runtime.db, client.client_id))!, ['openid', 'offline_access']);
  return signedIn;
}

const authorizeAs = async (cookie: string) => {
  const request = await pkceRequest(client, { scope: 'openid offline_access' });
  const response = await browserGet(`${server.url('/authorize')}?${new URLSearchParams(request.params)}`, cookie);
  return { request, location: new URL(response.headers.get('location')!) };
};

describe('required groups and attributes', () => {
  it('signs in a person in a unit under the required group with a required clearance', async () => {
    const { cookie } = await person({ inUnit: true, clearance: 'top_secret' });
    const { location } = await authorizeAs(cookie);
    expect(location.searchParams.get('error')).toBeNull();
    expect(location.searchParams.get('code')).not.toBeNull();
  });

  it('refuses with access_denied at the redirect URI, saying what is missing, and audits it', async () => {
    for (const [options, missing] of [
      [{ inUnit: false, clearance: 'secret' }, 'membership of /Intelligence'],
      [{ inUnit: true, clearance: 'restricted' }, 'clearance_level "secret" or "top_secret"'],
      [{ inUnit: true }, 'clearance_level'],
    ] as const) {
      const { user, cookie } = await person(options);
      const { request, location } = await authorizeAs(cookie);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('state')).toBe(request.state);
      expect(location.searchParams.get('error_description')).toContain(missing);
      expect(location.searchParams.get('code')).toBeNull();
      const audit = await runtime.db.selectFrom('audit_log').select(['outcome', 'details']).where('action', '=', 'oidc.requirement_refused').where('subject', '=', `client:${client.client_id}`).execute();
      expect(audit.some((entry) => (entry.details as { user_id?: string }).user_id === user.id)).toBe(true);
    }
  });

  it('stops refreshing once the person no longer meets them', async () => {
    const { user, cookie } = await person({ inUnit: true, clearance: 'secret' });
    const request = await pkceRequest(client, { scope: 'openid offline_access' });
    const callback = await authorizeWithSession(server, request.params, cookie);
    const tokens = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
    expect(tokens.status).toBe(200);
    const refreshed = await postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string }, basicAuth(client));
    expect(refreshed.status).toBe(200);
    await removeGroupMember(runtime, actor, { actor: { kind: 'cli' }, organisationId, groupId: unit.id, userId: user.id });
    const refused = await postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token as string }, basicAuth(client));
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_grant' });
  });

  it('lets a person in only once a second admin approves the membership one admin asked for (principle 8)', async () => {
    const asker = await createTestUser(runtime, { role: 'admin', organisationId });
    const approver = await createTestUser(runtime, { role: 'admin', organisationId });
    const { user, cookie } = await person({ inUnit: false, clearance: 'secret' });
    // The unit is under the group the client requires: joining it is sensitive, so one admin's ask changes nothing.
    const asked = await addGroupMember(runtime, { actor: `user:${asker.id}` }, { actor: { kind: 'admin', userId: asker.id }, organisationId, groupId: unit.id, userId: user.id });
    if (!isAwaitingApproval(asked)) throw new Error('expected a change request');
    expect((await authorizeAs(cookie)).location.searchParams.get('error')).toBe('access_denied');
    await approveChangeRequest(runtime, { actor: `user:${approver.id}` }, { approver: { kind: 'admin', userId: approver.id }, requestId: asked.request.id });
    const { location } = await authorizeAs(cookie);
    expect(location.searchParams.get('error')).toBeNull();
    expect(location.searchParams.get('code')).not.toBeNull();
  });

  it('checks the requirements as a rule: any required group, every required attribute', () => {
    const rules = { required_groups: ['/A/B', '/C'], required_attributes: { level: [2, 3], active: [true] } };
    expect(unmetRequirement(rules, { groups: ['/C'], attributes: { level: 3, active: true } })).toBeUndefined();
    expect(unmetRequirement(rules, { groups: ['/a', '/a/b'], attributes: { level: 2, active: true } })).toBeUndefined();
    expect(unmetRequirement(rules, { groups: ['/A'], attributes: { level: 2, active: true } })).toContain('membership');
    expect(unmetRequirement(rules, { groups: ['/C'], attributes: { level: 1, active: true } })).toContain('level');
    expect(unmetRequirement(rules, { groups: ['/C'], attributes: { level: 2 } })).toContain('active');
    expect(unmetRequirement({ required_groups: [], required_attributes: {} }, { groups: [], attributes: {} })).toBeUndefined();
  });

  it('refuses malformed requirements at registration and update', async () => {
    for (const bad of [{ required_groups: ['Intelligence'] }, { required_groups: 'x' }, { required_attributes: { Clearance: ['secret'] } }, { required_attributes: { clearance_level: [] } }, { required_attributes: { clearance_level: [{}] } }]) {
      expect(await rejectionFrom(registerWebClient(runtime, bad as never))).toMatchObject({ code: 'invalid_client_metadata' });
    }
    const updated = await updateClient(runtime, actor, client.client_id, { required_groups: ['/Intelligence/Analysis'] }, { authority: OPERATOR });
    expect(updated).toMatchObject({ required_groups: ['/Intelligence/Analysis'], required_attributes: { clearance_level: ['secret', 'top_secret'] } });
  });

  it('lets an organisation admin put requirements on a client, but not change or lift them (principle 8)', async () => {
    const admin = organisationAdmin(organisationId);
    const open = await registerWebClient(runtime, { client_name: 'Open archive', first_party: false }, { authority: admin });
    // Requiring lets fewer people in: one admin may.
    expect(await updateClient(runtime, actor, open.client_id, { required_groups: ['/Intelligence'] }, { authority: admin })).toMatchObject({ required_groups: ['/Intelligence'] });
    // Pointing the service at a group nobody requires yet (which one admin fills alone), or lifting the requirement, is the operator's.
    const requirementsBefore = (({ required_groups, required_attributes }) => ({ required_groups, required_attributes }))((await findClient(runtime.db, client.client_id))!);
    const before = await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'client.operator_setting_refused').execute();
    for (const change of [{ required_groups: ['/Elsewhere'] }, { required_groups: [] }, { required_attributes: { clearance_level: ['restricted'] } }]) {
      expect(await rejectionFrom(updateClient(runtime, actor, client.client_id, change, { authority: admin }))).toMatchObject({ status: 403, code: 'operator_only_setting' });
    }
    expect(await rejectionFrom(updateClient(runtime, actor, open.client_id, { required_groups: [] }, { authority: admin }))).toMatchObject({ code: 'operator_only_setting' });
    const after = await runtime.db.selectFrom('audit_log').select('id').where('action', '=', 'client.operator_setting_refused').execute();
    expect(after.length - before.length).toBe(4);
    expect((await findClient(runtime.db, client.client_id))!).toMatchObject(requirementsBefore);
  });
});
