import { Hono } from 'hono';
import type { Deps } from '../deps.js';
import { type AppEnv, auditContext } from '../http/context.js';
import { readJsonObject } from '../http/json-body.js';
import { requireRole } from '../sessions/middleware.js';
import { endOrganisationSessions } from './end-organisation-sessions.js';
import { resumeClient, suspendClient } from './suspend-client.js';
import { emergencyRotateSigningKey } from './withdraw-signing-key.js';

/**
 * The operator API: incident response, for holders of the `operator` role. The
 * app mounts requireAuthority(deps, 'operator') over `/api/operator/*` (a passkey
 * session re-verified in the last five minutes; refusals audited); only a browser
 * session reaches it, never an access token. Each act takes a `reason`.
 */
export function operatorRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  // The privilege hold after a recovery applies here as on the admin routes.
  app.use('/api/operator/*', requireRole('operator'));

  app.post('/api/operator/clients/:id/suspend', async (c) => {
    const clientId = c.req.param('id');
    const suspended = await suspendClient(deps, auditContext(c), { clientId, reason: (await readJsonObject(c)).reason });
    deps.clients.forget(clientId);
    return c.json(suspended);
  });

  app.post('/api/operator/clients/:id/resume', async (c) => {
    const clientId = c.req.param('id');
    const resumed = await resumeClient(deps, auditContext(c), { clientId, reason: (await readJsonObject(c)).reason });
    deps.clients.forget(clientId);
    return c.json(resumed);
  });

  app.post('/api/operator/organisations/:id/end-sessions', async (c) =>
    c.json(await endOrganisationSessions(deps, auditContext(c), { organisationId: c.req.param('id'), reason: (await readJsonObject(c)).reason })),
  );

  app.post('/api/operator/signing-keys/emergency-rotation', async (c) => c.json(await emergencyRotateSigningKey(deps, auditContext(c), { reason: (await readJsonObject(c)).reason })));

  return app;
}
