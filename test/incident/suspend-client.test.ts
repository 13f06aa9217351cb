/**
 * Suspending a client: one audited act of the operator (CLI or operator API)
 * after which none of the client's tokens works, over real HTTP.
 */
import { clientView, getClient, OPERATOR, organisationAdmin, registerClient } from '../../src/clients/service.js';
import { describe, expect, it } from 'vitest';
import { resumeClientCommand, suspendClientCommand } from '../../src/cli/commands/incident.js';
import type { Runtime } from '../../src/runtime.js';
import { basicAuth, browserGet, pkceRequest, postForm, registerWebClient } from '../oidc/support.js';
import { createTestUser } from '../support/runtime.js';
import { incidentServer, oidcCalls, refusals, registerServiceClient, RESOURCE_AUDIENCE, signInTo } from './support.js';

const { server, runtime, operator, admin, letOperatorGoStale } = await incidentServer();
const cli = { runtime: async () => runtime as Runtime, write: () => {} };
const resource = await registerServiceClient(runtime);
const call = oidcCalls(server, resource);
const BACKCHANNEL = 'http://127.0.0.1:8765/backchannel';

const suspend = (clientId: string, reason = 'client secret leaked in a public repository') => operator.client.post(`/api/operator/clients/${clientId}/suspend`, { reason });
const clientRow = (clientId: string) => runtime.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirstOrThrow();
const liveGrants = async (clientId: string) => (await runtime.db.selectFrom('oauth_grants').select('id').where('client_id', '=', clientId).where('revoked_at', 'is', null).execute()).length;
const clientCredentials = (client: { client_id: string; client_secret?: string }) => postForm(server.url('/token'), { grant_type: 'client_credentials', scope: 'api' }, basicAuth(client));

async function portalWithUser() {
  const portal = await registerWebClient(runtime, { backchannel_logout_uri: BACKCHANNEL, access_token_audience: RESOURCE_AUDIENCE });
  const signedIn = await signInTo(server, portal, await createTestUser(runtime));
  return { portal, signedIn };
}

describe('suspending a client', () => {
  it('is refused to an admin without the operator role: 403, audited, the client and its tokens untouched', async () => {
    const { portal, signedIn } = await portalWithUser();
    const refused = await admin.client.post(`/api/operator/clients/${portal.client_id}/suspend`, { reason: 'trying' });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('forbidden');
    expect((await refusals(runtime, admin.user.id)).at(-1)).toMatchObject({ outcome: 'failure', details: { role: 'operator', reason: 'forbidden', path: `/api/operator/clients/${portal.client_id}/suspend` } });
    expect((await clientRow(portal.client_id)).suspended_at).toBeNull();
    expect(await liveGrants(portal.client_id)).toBe(1);
    expect((await call.userinfo(signedIn.access_token)).status).toBe(200);
  });

  it('is refused to an operator whose passkey check is older than five minutes: 403, audited, nothing changed', async () => {
    const portal = await registerWebClient(runtime, { access_token_audience: RESOURCE_AUDIENCE });
    const renew = await letOperatorGoStale();
    const refused = await suspend(portal.client_id);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('reauthentication_required');
    expect((await refusals(runtime, operator.user.id)).at(-1)).toMatchObject({ details: { role: 'operator', reason: 'reauthentication_required' } });
    expect((await clientRow(portal.client_id)).suspended_at).toBeNull();
    await renew();
    expect((await suspend(portal.client_id)).status).toBe(200);
  });

  it('from the operator API: the refresh token, the access token at userinfo and introspection, and new sign-ins all fail at once', async () => {
    const { portal, signedIn } = await portalWithUser();
    expect(await call.introspect(signedIn.access_token)).toMatchObject({ active: true });

    const suspended = await suspend(portal.client_id);
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    expect(suspended.body).toMatchObject({ client_id: portal.client_id, grants_revoked: 1, backchannel_logouts: 1, reason: 'client secret leaked in a public repository' });

    const refreshed = await call.refresh(portal, signedIn.refresh_token);
    expect(refreshed.status).toBe(401);
    expect(refreshed.body.error).toBe('invalid_client');
    expect((await call.userinfo(signedIn.access_token)).status).toBe(401);
    expect(await call.introspect(signedIn.access_token)).toEqual({ active: false });
    expect(await call.introspect(signedIn.refresh_token)).toEqual({ active: false });

    // Not sent back to the client: the browser gets Warta's own error page.
    const authorize = await browserGet(`${server.url('/authorize')}?${new URLSearchParams((await pkceRequest(portal)).params)}`, signedIn.cookie);
    expect(authorize.status).toBe(400);
    expect(authorize.headers.get('location')).toBeNull();
    expect(await authorize.text()).toContain('unauthorized_client');

    const logouts = await runtime.db.selectFrom('backchannel_logouts').select(['user_id', 'session_id']).where('client_id', '=', portal.client_id).execute();
    expect(logouts).toEqual([{ user_id: signedIn.user.id, session_id: expect.any(String) }]);
    const audit = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'client.suspended').where('subject', '=', `client:${portal.client_id}`).execute();
    expect(audit).toEqual([expect.objectContaining({ actor: `user:${operator.user.id}`, outcome: 'success', details: expect.objectContaining({ reason: 'client secret leaked in a public repository', grants_revoked: 1 }) })]);
    // The operator's view of the client (an operator-owned client is not in any admin's list).
    expect(clientView(await getClient(runtime.db, portal.client_id, OPERATOR)).suspended).toEqual({ at: expect.any(String), reason: 'client secret leaked in a public repository' });
    expect((await suspend(portal.client_id)).body.error).toBe('client_already_suspended');
  });

  it('ends a machine client too: client_credentials is refused and the tokens it had are inactive', async () => {
    const backend = await registerServiceClient(runtime, 'Back end');
    const issued = await clientCredentials(backend);
    expect(issued.status).toBe(200);
    expect((await suspend(backend.client_id)).status).toBe(200);
    expect((await clientCredentials(backend)).body.error).toBe('invalid_client');
    // No grant behind this token: only the client's own state can end it.
    expect(await call.introspect(issued.body.access_token as string)).toEqual({ active: false });
  });

  it('resuming lets the client start over, while what the suspension revoked stays revoked', async () => {
    const { portal, signedIn } = await portalWithUser();
    expect((await suspend(portal.client_id)).status).toBe(200);
    const resumed = await operator.client.post(`/api/operator/clients/${portal.client_id}/resume`, { reason: 'secret rotated, repository cleaned' });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect((await call.refresh(portal, signedIn.refresh_token)).body.error).toBe('invalid_grant');
    expect((await call.userinfo(signedIn.access_token)).status).toBe(401);
    const again = await signInTo(server, portal, signedIn.user);
    expect((await call.userinfo(again.access_token)).status).toBe(200);
    expect((await operator.client.post(`/api/operator/clients/${portal.client_id}/resume`, { reason: 'again' })).body.error).toBe('client_not_suspended');
  });

  it('needs a reason, and an unknown client is 404', async () => {
    const portal = await registerWebClient(runtime, { access_token_audience: RESOURCE_AUDIENCE });
    expect((await operator.client.post(`/api/operator/clients/${portal.client_id}/suspend`, {})).body.error).toBe('invalid_reason');
    expect((await clientRow(portal.client_id)).suspended_at).toBeNull();
    expect((await suspend('no-such-client')).status).toBe(404);
  });

  it('from the CLI: the same, recorded as the operator on the host', async () => {
    const { portal, signedIn } = await portalWithUser();
    const result = await suspendClientCommand.run({ 'client-id': portal.client_id, reason: 'incident 42' }, cli);
    expect(result).toMatchObject({ client_id: portal.client_id, grants_revoked: 1 });
    expect((await call.refresh(portal, signedIn.refresh_token)).body.error).toBe('invalid_client');
    expect((await call.userinfo(signedIn.access_token)).status).toBe(401);
    expect(await call.introspect(signedIn.access_token)).toEqual({ active: false });
    const audit = await runtime.db.selectFrom('audit_log').select('actor').where('action', '=', 'client.suspended').where('subject', '=', `client:${portal.client_id}`).execute();
    expect(audit).toEqual([{ actor: 'cli' }]);
    await expect(resumeClientCommand.run({ 'client-id': portal.client_id, reason: ' ' }, cli)).rejects.toMatchObject({ code: 'invalid_reason' });
    expect(await resumeClientCommand.run({ 'client-id': portal.client_id, reason: 'cleared' }, cli)).toMatchObject({ client_id: portal.client_id });
    expect((await clientRow(portal.client_id)).suspended_at).toBeNull();
  });
});

describe('an organisation whose client the operator suspends', () => {
  it('is told on its admins’ account pages, when suspended and when resumed', async () => {
    const owned = await registerClient(runtime, { actor: 'test' }, { client_name: 'Ministry wiki', redirect_uris: ['https://wiki.example.gov/cb'] }, { authority: organisationAdmin(admin.user.organisation_id) });
    await suspendClientCommand.run({ 'client-id': owned.client_id, reason: 'incident 43' }, cli);
    await resumeClientCommand.run({ 'client-id': owned.client_id, reason: 'secret replaced' }, cli);
    const told = await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', admin.user.id).where('type', '=', 'client_changed').orderBy('seq').execute();
    expect(told.map((event) => event.details)).toEqual([
      expect.objectContaining({ clientId: owned.client_id, change: 'suspended' }),
      expect.objectContaining({ clientId: owned.client_id, change: 'resumed' }),
    ]);
  });
});
