/** Pairwise subject identifiers (OIDC Core §8.1): one `sub` per person and sector, the same in every token and answer. */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { OPERATOR, organisationAdmin, registerClient, updateClient } from '../../src/clients/service.js';
import { setClientAdminScopes } from '../../src/clients/admin-client.js';
import { securityEventOutbox } from '../../src/events/deliver.js';
import { raiseSecurityEvent } from '../../src/events/raise.js';
import { addReceiver } from '../../src/events/receivers.js';
import { deliverPendingLogouts } from '../../src/oidc/logout/backchannel.js';
import { rejectionFrom } from './expect-error.js';

async function expectWartaError(promise: Promise<unknown>, status: number, code: string) {
  expect(await rejectionFrom(promise)).toMatchObject({ status, code });
}
import { authorizeWithSession, basicAuth, browserGet, pkceRequest, postForm, REDIRECT_URI, registerWebClient, signedInUser, startOidcServer } from './support.js';

const server = await startOidcServer({ WARTA_OUTBOUND_ALLOW: '*.example.gov,127.0.0.0/8' });
const { runtime } = server;

const publicClient = await registerWebClient(runtime, { client_name: 'Messenger' });
// Sector 127.0.0.1: the one host of the redirect URIs.
const portal = await registerWebClient(runtime, { client_name: 'Portal', subject_type: 'pairwise' });
const portalTwin = await registerWebClient(runtime, { client_name: 'Portal, second client', subject_type: 'pairwise' });
// Another sector, named by the operator.
const archive = await registerWebClient(runtime, { client_name: 'Archive', subject_type: 'pairwise', sector_identifier: 'archive.example.gov' });

async function tokensOf(client: { client_id: string; client_secret?: string }, cookie: string) {
  const request = await pkceRequest(client);
  const callback = await authorizeWithSession(server, request.params, cookie);
  const reply = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: request.verifier }, basicAuth(client));
  expect(reply.status).toBe(200);
  return reply.body as { access_token: string; refresh_token: string; id_token: string };
}

describe('pairwise subject identifiers', () => {
  it('gives clients of different sectors different subs, clients of one sector the same, and public clients the user id', async () => {
    const { user, cookie } = await signedInUser(runtime);
    const subOf = async (client: typeof portal) => decodeJwt((await tokensOf(client, cookie)).id_token).sub;
    const [atPortal, atTwin, atArchive, atMessenger] = [await subOf(portal), await subOf(portalTwin), await subOf(archive), await subOf(publicClient)];
    expect(atMessenger).toBe(user.id);
    expect(atPortal).toBe(atTwin);
    expect(atPortal).not.toBe(user.id);
    expect(atArchive).not.toBe(atPortal);
    expect(atArchive).not.toBe(user.id);
    expect(atPortal).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Another person of the same sector has another sub.
    const other = await signedInUser(runtime);
    expect(decodeJwt((await tokensOf(portal, other.cookie)).id_token).sub).not.toBe(atPortal);
  });

  it('uses the same sub in the ID token, access token, userinfo, introspection, refreshed tokens and the back-channel logout token', async () => {
    const { user, cookie } = await signedInUser(runtime);
    const tokens = await tokensOf(portal, cookie);
    const sub = decodeJwt(tokens.id_token).sub!;
    expect(sub).not.toBe(user.id);
    expect(decodeJwt(tokens.access_token).sub).toBe(sub);
    const userinfo = (await (await fetch(server.url('/userinfo'), { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as Record<string, unknown>;
    expect(userinfo).toMatchObject({ sub, preferred_username: user.username });
    const introspected = await postForm(server.url('/introspect'), { token: tokens.access_token }, basicAuth(portal));
    expect(introspected.body).toMatchObject({ active: true, sub });
    const refreshIntrospected = await postForm(server.url('/introspect'), { token: tokens.refresh_token, token_type_hint: 'refresh_token' }, basicAuth(portal));
    expect(refreshIntrospected.body).toMatchObject({ active: true, sub });
    const refreshed = await postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basicAuth(portal));
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.id_token as string).sub).toBe(sub);
    expect(decodeJwt(refreshed.body.access_token as string).sub).toBe(sub);
  });

  it('names the person by the pairwise sub in back-channel logout tokens, and takes a pairwise id_token_hint as naming the session', async () => {
    const received: string[] = [];
    const rp = await registerWebClient(runtime, { client_name: 'Logout RP', subject_type: 'pairwise', backchannel_logout_uri: 'http://127.0.0.1:9/backchannel' });
    const { user, cookie } = await signedInUser(runtime);
    const tokens = await tokensOf(rp, cookie);
    const sub = decodeJwt(tokens.id_token).sub;
    // The hint names this session under its pairwise sub: signed out at once, no confirmation page.
    await browserGet(`${server.url('/end_session')}?${new URLSearchParams({ id_token_hint: tokens.id_token })}`, cookie);
    const session = await runtime.db.selectFrom('sessions').select('revoked_at').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(session.revoked_at).not.toBeNull();
    await deliverPendingLogouts(runtime, {
      fetchImpl: async (_url, init) => {
        received.push(String(init?.body));
        return new Response(null, { status: 200 });
      },
    });
    expect(received).toHaveLength(1);
    expect(decodeJwt(new URLSearchParams(received[0]).get('logout_token')!).sub).toBe(sub);
  });

  it('names the person by the pairwise sub in Security Event Tokens for a receiver whose audience is that client', async () => {
    const { user, cookie } = await signedInUser(runtime);
    const sub = decodeJwt((await tokensOf(archive, cookie)).id_token).sub;
    const pairwiseReceiver = await addReceiver(runtime, { actor: 'test' }, { organisationId: user.organisation_id, url: 'https://archive.example.gov/events', audience: archive.client_id });
    const publicReceiver = await addReceiver(runtime, { actor: 'test' }, { organisationId: user.organisation_id, url: 'https://messenger.example.gov/events', audience: publicClient.client_id });
    const event = await runtime.db.transaction().execute((trx) =>
      raiseSecurityEvent(trx, runtime.clock, { type: 'device_linked', userId: user.id, organisationId: user.organisation_id, details: { deviceId: crypto.randomUUID(), deviceName: 'Phone' } }),
    );
    const queued = await runtime.db.selectFrom('set_outbox').select(['id', 'jti', 'receiver_id', 'event_id', 'user_id', 'attempts', 'created_at']).where('event_id', '=', event.id).execute();
    const messages = await securityEventOutbox(runtime).dispatch(queued.map((row) => ({ ...row, id: Number(row.id), type: 'device_linked' })));
    const subjectAt = async (receiverId: string) => {
      const message = messages.find((m) => m.endpoint === receiverId)!;
      if (!('send' in message) || !message.send) throw new Error('not sent');
      const { body } = await message.send();
      return (decodeJwt(body) as { sub_id: { sub: string } }).sub_id.sub;
    };
    expect(await subjectAt(pairwiseReceiver.id)).toBe(sub);
    expect(await subjectAt(publicReceiver.id)).toBe(user.id);
  });
});

describe('pairwise registration', () => {
  it('needs a sector: redirect URIs of one host, or the operator’s sector_identifier', async () => {
    const attempt = registerWebClient(runtime, { subject_type: 'pairwise', redirect_uris: [REDIRECT_URI, 'https://portal.example.gov/cb'] });
    await expectWartaError(attempt, 400, 'invalid_client_metadata');
    const named = await registerWebClient(runtime, { subject_type: 'pairwise', sector_identifier: 'portal.example.gov', redirect_uris: [REDIRECT_URI, 'https://portal.example.gov/cb'] });
    expect(named).toMatchObject({ subject_type: 'pairwise', sector_identifier: 'portal.example.gov' });
  });

  it('refuses sector_identifier without pairwise, and pairwise with scopes that act at Warta', async () => {
    await expectWartaError(registerWebClient(runtime, { sector_identifier: 'x.example.gov' }), 400, 'invalid_client_metadata');
    await expectWartaError(registerWebClient(runtime, { subject_type: 'pairwise', scope: 'openid warta:account' }), 400, 'invalid_client_metadata');
    const admin = await registerWebClient(runtime, { subject_type: 'pairwise', grant_types: ['authorization_code'] });
    await runtime.db.updateTable('oauth_clients').set({ organisation_id: (await signedInUser(runtime)).user.organisation_id }).where('client_id', '=', admin.client_id).execute();
    await expectWartaError(setClientAdminScopes(runtime, { actor: 'test' }, { clientId: admin.client_id, scopes: ['warta:admin:people'] }), 400, 'invalid_request');
  });

  it('lets an organisation admin make a client pairwise by its own host, but not name another sector', async () => {
    const { user } = await signedInUser(runtime);
    const mine = await registerClient(runtime, { actor: 'test' }, { client_name: 'Org portal', redirect_uris: [REDIRECT_URI] }, { authority: organisationAdmin(user.organisation_id) });
    const updated = await updateClient(runtime, { actor: 'test' }, mine.client_id, { subject_type: 'pairwise' }, { authority: organisationAdmin(user.organisation_id) });
    expect(updated.subject_type).toBe('pairwise');
    await expectWartaError(updateClient(runtime, { actor: 'test' }, mine.client_id, { sector_identifier: 'archive.example.gov' }, { authority: organisationAdmin(user.organisation_id) }), 403, 'operator_only_setting');
    expect((await updateClient(runtime, { actor: 'test' }, mine.client_id, { sector_identifier: 'archive.example.gov' }, { authority: OPERATOR })).sector_identifier).toBe('archive.example.gov');
  });

  it('is announced in discovery', async () => {
    const discovery = (await (await fetch(server.url('/.well-known/openid-configuration'))).json()) as { subject_types_supported: string[] };
    expect(discovery.subject_types_supported).toEqual(['public', 'pairwise']);
  });
});
