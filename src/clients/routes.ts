import { Hono } from 'hono';
import { type AppEnv, auditContext } from '../http/context.js';
import { readJsonObject } from '../http/json-body.js';
import { requireRole } from '../sessions/middleware.js';
import { deleteClient, getClient, clientView, listClients, registerClient, rotateClientSecret } from './service.js';
import type { Deps } from '../deps.js';

/**
 * Admin API for OAuth clients (relying parties). Clients belong to the whole
 * Warta instance, not to one organisation: any organisation's users may sign in
 * to them. Secrets appear in the response to create and rotate only.
 */
export function clientRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('/api/admin/clients', requireRole('admin'));
  app.use('/api/admin/clients/*', requireRole('admin'));

  app.post('/api/admin/clients', async (c) => {
    // An organisation admin, never the operator: reserved scopes are refused here.
    const created = await registerClient(deps, auditContext(c), await readJsonObject(c), { authority: 'admin' });
    return c.json(created, 201);
  });

  app.get('/api/admin/clients', async (c) => c.json({ clients: await listClients(deps.db) }));

  app.get('/api/admin/clients/:id', async (c) => c.json(clientView(await getClient(deps.db, c.req.param('id')))));

  app.post('/api/admin/clients/:id/rotate-secret', async (c) => c.json(await rotateClientSecret(deps, auditContext(c), c.req.param('id'))));

  app.delete('/api/admin/clients/:id', async (c) => {
    await deleteClient(deps, auditContext(c), c.req.param('id'));
    return c.body(null, 204);
  });

  return app;
}
