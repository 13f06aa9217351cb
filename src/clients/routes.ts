import { createRoute, z } from '@hono/zod-openapi';
import { type AppContext, adminActorOf, auditContext } from '../http/context.js';
import { AUTHORITY_REFUSALS, IdParam, jsonBody, jsonResponse, NOT_FOUND, UNSUPPORTED_MEDIA_TYPE, documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { deleteClient, getClient, clientView, listClientPage, organisationAdmin, registerClient, rotateClientSecret, updateClient } from './service.js';
import type { Deps } from '../deps.js';

// The members are checked by validateClientMetadata (the CLI registers clients too), which answers 400 invalid_client_metadata naming the member.
const ClientMetadata = z.record(z.string(), z.unknown()).openapi('ClientMetadata', {
  description: 'RFC 7591 client metadata: client_name, redirect_uris, grant_types, token_endpoint_auth_method, scope, post_logout_redirect_uris, backchannel_logout_uri, security_profile (baseline or fapi2: FAPI 2.0, docs/oidc.md), require_pushed_authorization_requests, … A refused member: 400 invalid_client_metadata.',
  example: { client_name: 'Payroll', redirect_uris: ['https://payroll.example.gov/callback'] },
});

const Client = z.object({ client_id: z.string(), client_name: z.string() }).passthrough().openapi('Client', { description: 'The registered client; client_secret only in the answers to create and rotate-secret' });

const adminOnly = { tags: ['Clients'], middleware: requireRole('admin') };
const INVALID_METADATA = jsonResponse('invalid_client_metadata (or invalid_request): a refused member', z.object({ error: z.string(), error_description: z.string() }));

const registerClientRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/clients',
  summary: 'Register an OAuth client owned by the admin\'s organisation',
  request: { body: jsonBody(ClientMetadata) },
  responses: { 201: jsonResponse('Registered, with its secret (shown this once)', Client), ...AUTHORITY_REFUSALS, 400: INVALID_METADATA, 415: UNSUPPORTED_MEDIA_TYPE },
});

const listClientsRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/clients',
  summary: 'The organisation\'s clients, oldest first, a page at a time',
  request: {
    query: z.object({
      cursor: z.string().max(1000).optional().openapi({ description: 'next_cursor of the previous page' }),
      limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: '1 to 100, default 50' }),
    }),
  },
  responses: { 200: jsonResponse('The clients and the cursor of the next page (null on the last)', z.object({ clients: z.array(Client), next_cursor: z.string().nullable() })), ...AUTHORITY_REFUSALS },
});

const getClientRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/clients/{id}',
  summary: 'One client',
  request: { params: IdParam },
  responses: { 200: jsonResponse('The client', Client), ...AUTHORITY_REFUSALS, 404: NOT_FOUND },
});

const updateClientRoute = createRoute({
  ...adminOnly,
  method: 'patch',
  path: '/api/admin/clients/{id}',
  summary: 'Change a client\'s metadata; members left out keep their value',
  request: { params: IdParam, body: jsonBody(ClientMetadata) },
  responses: { 200: jsonResponse('The changed client', Client), ...AUTHORITY_REFUSALS, 400: INVALID_METADATA, 404: NOT_FOUND, 415: UNSUPPORTED_MEDIA_TYPE },
});

const rotateSecretRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/clients/{id}/rotate-secret',
  summary: 'Replace a confidential client\'s secret',
  request: { params: IdParam },
  responses: { 200: jsonResponse('The client with its new secret (shown this once)', Client), ...AUTHORITY_REFUSALS, 404: NOT_FOUND },
});

const deleteClientRoute = createRoute({
  ...adminOnly,
  method: 'delete',
  path: '/api/admin/clients/{id}',
  summary: 'Delete a client; its tokens stop working',
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...AUTHORITY_REFUSALS, 404: NOT_FOUND },
});

/**
 * Admin API for OAuth clients (relying parties). An admin manages the clients of
 * their own organisation only: another organisation's client, or the operator's,
 * answers 404 as if it did not exist. Settings that reach beyond the organisation
 * (first_party, another audience, cross-organisation sign-in, the owner) are the
 * operator's, through the `warta` CLI, and so is every client holding an admin
 * scope (admin-client.ts). Every route sits behind requireAdminAuthority (app.ts):
 * a person with a passkey used in the last five minutes, or a DPoP-bound token
 * with warta:admin:clients. Secrets appear in the response to create and rotate only.
 */
export function clientRoutes(deps: Deps) {
  const app = documentedRouter();

  const authorityOf = (c: AppContext) => organisationAdmin(adminActorOf(c).organisationId);

  app.openapi(registerClientRoute, async (c) => c.json(await registerClient(deps, auditContext(c), c.req.valid('json'), { authority: authorityOf(c) }), 201));

  app.openapi(listClientsRoute, async (c) => c.json(await listClientPage(deps.db, authorityOf(c), c.req.valid('query')), 200));

  app.openapi(getClientRoute, async (c) => c.json(clientView(await getClient(deps.db, c.req.valid('param').id, authorityOf(c))), 200));

  // RFC 7592 §2.2 replaces the whole record; members left out here keep their value (a merge), so an admin cannot clear an operator setting by omission.
  app.openapi(updateClientRoute, async (c) => c.json(await updateClient(deps, auditContext(c), c.req.valid('param').id, c.req.valid('json'), { authority: authorityOf(c) }), 200));

  app.openapi(rotateSecretRoute, async (c) => c.json(await rotateClientSecret(deps, auditContext(c), c.req.valid('param').id, authorityOf(c)), 200));

  app.openapi(deleteClientRoute, async (c) => {
    await deleteClient(deps, auditContext(c), c.req.valid('param').id, authorityOf(c));
    return c.body(null, 204);
  });

  return app;
}
