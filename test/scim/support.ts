/**
 * A SCIM directory over real HTTP: a client of an organisation that the operator
 * allowed `scim`, its client-credentials token, and calls to /scim/v2 with it.
 */
import { randomUUID } from 'node:crypto';
import { setEmailDomains } from '../../src/authority/email-domains.js';
import { setClientScim } from '../../src/clients/scim-client.js';
import { type ClientView, organisationAdmin, registerClient } from '../../src/clients/service.js';
import { basicAuth, type OidcTestServer, postForm } from '../oidc/support.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export interface ScimReply {
  status: number;
  body: Record<string, any>;
  headers: Headers;
}

/** A client of `organisationId`, registered by its admin, that the operator made a SCIM client (unless `scim: false`). */
export async function scimClient(server: OidcTestServer, organisationId: string, options: { scim?: boolean } = {}): Promise<ClientView> {
  const client = await registerClient(server.runtime, { actor: 'test' }, { client_name: `Directory ${randomUUID().slice(0, 8)}`, grant_types: ['client_credentials'], scope: 'directory:read' }, { authority: organisationAdmin(organisationId) });
  if (options.scim !== false) await setClientScim(server.runtime, { actor: 'cli' }, { clientId: client.client_id, allowed: true });
  return client;
}

export async function clientToken(server: OidcTestServer, client: ClientView, scope: string): Promise<string> {
  const issued = await postForm(server.url('/token'), { grant_type: 'client_credentials', scope }, basicAuth(client));
  if (issued.status !== 200) throw new Error(`token: ${JSON.stringify(issued.body)}`);
  return issued.body.access_token as string;
}

/** A directory of `organisationId` (whose e-mail domain becomes `domain`), ready to call /scim/v2. */
export async function directory(server: OidcTestServer, organisationId: string, domain = 'example.gov') {
  await setEmailDomains(server.runtime, { actor: 'test' }, { organisationId, domains: [domain] });
  const client = await scimClient(server, organisationId);
  const token = await clientToken(server, client, 'scim');
  return { client, token, call: (method: string, path: string, init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => scimCall(server, token, method, path, init) };
}

export async function scimCall(server: OidcTestServer, token: string | undefined, method: string, path: string, init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<ScimReply> {
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), accept: 'application/scim+json', ...init.headers };
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  if (body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/scim+json';
  const response = await fetch(server.url(`/scim/v2${path}`), { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
}
