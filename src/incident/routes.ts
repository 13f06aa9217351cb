import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../deps.js';
import { auditContext } from '../http/context.js';
import { AUTHORITY_REFUSALS, IdParam, jsonBody, jsonResponse, NOT_FOUND, UNSUPPORTED_MEDIA_TYPE, documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { endOrganisationSessions } from './end-organisation-sessions.js';
import { resumeClient, suspendClient } from './suspend-client.js';
import { emergencyRotateSigningKey } from './withdraw-signing-key.js';

// The reason is checked by the acts themselves (the CLI calls them too), which answer 400 invalid_reason.
const ReasonBody = z
  .object({ reason: z.unknown().optional().openapi({ type: 'string', description: '1 to 500 printable characters saying why; kept in the audit log', example: 'client secret found in a public repository' }) })
  .openapi('IncidentReason');

// The privilege hold after a recovery applies here as on the admin routes.
const operatorOnly = { tags: ['Operator'], middleware: requireRole('operator') };
const Result = z.object({}).passthrough();

const suspendClientRoute = createRoute({
  ...operatorOnly,
  method: 'post',
  path: '/api/operator/clients/{id}/suspend',
  summary: 'Suspend a client: its tokens stop working, it gets no new ones',
  request: { params: IdParam, body: jsonBody(ReasonBody) },
  responses: { 200: jsonResponse('Suspended', Result), ...AUTHORITY_REFUSALS, 404: NOT_FOUND, 415: UNSUPPORTED_MEDIA_TYPE },
});

const resumeClientRoute = createRoute({
  ...operatorOnly,
  method: 'post',
  path: '/api/operator/clients/{id}/resume',
  summary: 'Resume a suspended client',
  request: { params: IdParam, body: jsonBody(ReasonBody) },
  responses: { 200: jsonResponse('Resumed', Result), ...AUTHORITY_REFUSALS, 404: NOT_FOUND, 415: UNSUPPORTED_MEDIA_TYPE },
});

const endSessionsRoute = createRoute({
  ...operatorOnly,
  method: 'post',
  path: '/api/operator/organisations/{id}/end-sessions',
  summary: 'End every session and refresh token of an organisation\'s people',
  request: { params: IdParam, body: jsonBody(ReasonBody) },
  responses: { 200: jsonResponse('Ended', Result), ...AUTHORITY_REFUSALS, 404: NOT_FOUND, 415: UNSUPPORTED_MEDIA_TYPE },
});

const emergencyRotationRoute = createRoute({
  ...operatorOnly,
  method: 'post',
  path: '/api/operator/signing-keys/emergency-rotation',
  summary: 'Withdraw the current signing key at once and sign with a new one',
  request: { body: jsonBody(ReasonBody) },
  responses: { 200: jsonResponse('Rotated', Result), ...AUTHORITY_REFUSALS, 415: UNSUPPORTED_MEDIA_TYPE },
});

/**
 * The operator API: incident response, for holders of the `operator` role. The
 * app mounts requireAuthority(deps, 'operator') over `/api/operator/*` (a passkey
 * session re-verified in the last five minutes; refusals audited); only a browser
 * session reaches it, never an access token. Each act takes a `reason`.
 */
export function operatorRoutes(deps: Deps) {
  const app = documentedRouter();

  app.openapi(suspendClientRoute, async (c) => {
    const clientId = c.req.valid('param').id;
    const suspended = await suspendClient(deps, auditContext(c), { clientId, reason: c.req.valid('json').reason });
    deps.clients.forget(clientId);
    return c.json(suspended, 200);
  });

  app.openapi(resumeClientRoute, async (c) => {
    const clientId = c.req.valid('param').id;
    const resumed = await resumeClient(deps, auditContext(c), { clientId, reason: c.req.valid('json').reason });
    deps.clients.forget(clientId);
    return c.json(resumed, 200);
  });

  app.openapi(endSessionsRoute, async (c) => c.json(await endOrganisationSessions(deps, auditContext(c), { organisationId: c.req.valid('param').id, reason: c.req.valid('json').reason }), 200));

  app.openapi(emergencyRotationRoute, async (c) => c.json(await emergencyRotateSigningKey(deps, auditContext(c), { reason: c.req.valid('json').reason }), 200));

  return app;
}
