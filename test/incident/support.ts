/**
 * An instance over real HTTP with an operator, an admin without the operator
 * role (each enrolled with a passkey over HTTP, signed in on their own client),
 * and users signed in to OIDC clients with real authorization codes.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { type ClientView, OPERATOR, registerClient } from '../../src/clients/service.js';
import type { Role, User } from '../../src/db/schema.js';
import { createInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { REAUTH_MAX_AGE_SECONDS } from '../../src/sessions/reauth.js';
import { authorizeWithSession, basicAuth, type OidcTestServer, pkceRequest, postForm, startOidcServer } from '../oidc/support.js';
import { sessionCookie } from '../support/runtime.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { type Browser, browser, origin, reauthenticate, TEST_ENV } from '../webauthn/ceremony.js';

export interface Person {
  user: User;
  client: Browser;
  authenticator: SoftAuthenticator;
}

export async function incidentServer() {
  const server = await startOidcServer(TEST_ENV);
  const { runtime } = server;
  const operatorsOrg = await createOrganisation(runtime, { actor: 'test' }, { name: `Operators ${randomBytes(3).toString('hex')}` });

  /** Enrolled with a passkey over HTTP: a fresh passkey session. */
  async function enroll(organisationId: string, role: Exclude<Role, 'operator'>, options: { operator?: boolean } = {}): Promise<Person> {
    const issued = await createInvitation(runtime, { actor: 'cli' }, { organisationId, displayName: `Person ${randomBytes(3).toString('hex')}`, email: `p${randomBytes(4).toString('hex')}@example.gov`, role });
    const token = new URL(issued.link).hash.replace('#invitation=', '');
    const client = browser(runtime, { baseUrl: server.issuer });
    const authenticator = new SoftAuthenticator();
    const options_ = await client.post('/api/webauthn/enrollment/options', { invitation: token });
    expect(options_.status, JSON.stringify(options_.body)).toBe(200);
    const reply = await client.post('/api/webauthn/enrollment/verify', { invitation: token, credential: authenticator.createCredential(options_.body as never, { origin: origin(runtime) }) });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    const user = await runtime.db.selectFrom('users').selectAll().where('id', '=', reply.body.user.id).executeTakeFirstOrThrow();
    if (options.operator) await runtime.db.insertInto('user_roles').values({ user_id: user.id, role: 'operator', granted_at: runtime.clock.now() }).execute();
    return { user, client, authenticator };
  }

  const operator = await enroll(operatorsOrg.id, 'admin', { operator: true });
  const admin = await enroll(operatorsOrg.id, 'admin');

  /** The operator's passkey check goes stale (the five minutes pass); returns a function that renews it. */
  async function letOperatorGoStale(): Promise<() => Promise<void>> {
    runtime.clock.advance(REAUTH_MAX_AGE_SECONDS + 1);
    return async () => {
      const renewed = await reauthenticate(runtime, operator.client, operator.authenticator);
      expect(renewed.status, JSON.stringify(renewed.body)).toBe(200);
    };
  }

  return { server, runtime, operator, admin, enroll, letOperatorGoStale };
}

export interface SignedIn {
  user: User;
  cookie: string;
  access_token: string;
  refresh_token: string;
  id_token: string;
}

/** `user` signs in to `client` through /authorize and the code is redeemed at /token, over HTTP. */
export async function signInTo(server: OidcTestServer, client: ClientView, user: User): Promise<SignedIn> {
  const cookie = await sessionCookie(server.runtime, user);
  const request = await pkceRequest(client);
  const callback = await authorizeWithSession(server, request.params, cookie);
  const reply = await postForm(server.url('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: request.params.redirect_uri!, code_verifier: request.verifier }, basicAuth(client));
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return { user, cookie, access_token: reply.body.access_token as string, refresh_token: reply.body.refresh_token as string, id_token: reply.body.id_token as string };
}

export function oidcCalls(server: OidcTestServer, resource: ClientView) {
  return {
    refresh: (client: ClientView, refreshToken: string) => postForm(server.url('/token'), { grant_type: 'refresh_token', refresh_token: refreshToken }, basicAuth(client)),
    userinfo: (accessToken: string) => fetch(server.url('/userinfo'), { headers: { authorization: `Bearer ${accessToken}` } }),
    /** Asked by a resource server (another client), as RFC 7662 intends. */
    introspect: async (token: string) => (await postForm(server.url('/introspect'), { token }, basicAuth(resource))).body,
    /** A cookie-authenticated API: 200 while the browser session lives. */
    account: (cookie: string) => fetch(server.url('/api/account/devices'), { headers: { cookie } }),
  };
}

/** The audience of the resource server's API: tokens of clients registered with it are the ones it may introspect. */
export const RESOURCE_AUDIENCE = 'https://api.resource.test';

/** A confidential client acting for itself (client_credentials) whose tokens are for RESOURCE_AUDIENCE: a resource server that introspects them, or a back end. */
export const registerServiceClient = (runtime: Runtime, name = 'Resource server') =>
  registerClient(runtime, { actor: 'test' }, { client_name: name, grant_types: ['client_credentials'], scope: 'api', access_token_audience: RESOURCE_AUDIENCE, introspection_audiences: [RESOURCE_AUDIENCE] }, { authority: OPERATOR });

export async function refusals(runtime: Runtime, userId: string) {
  return runtime.db.selectFrom('audit_log').select(['details', 'outcome']).where('action', '=', 'authority.refused').where('subject', '=', `user:${userId}`).orderBy('id').execute();
}
