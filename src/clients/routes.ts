import { Hono } from 'hono';
import { type AppContext, type AppEnv, auditContext } from '../http/context.js';
import { readJsonObject } from '../http/json-body.js';
import { requireRole } from '../sessions/middleware.js';
import { deleteClient, getClient, clientView, listClients, organisationAdmin, registerClient, rotateClientSecret, updateClient } from './service.js';
import type { Deps } from '../deps.js';

/**
 * Admin API for OAuth clients (relying parties). An admin manages the clients of
 * their own organisation only: another organisation's client, or the operator's,
 * answers 404 as if it did not exist. Settings that reach beyond the organisation
 * (first_party, another audience, cross-organisation sign-in, the owner) are the
 * operator's, through the `warta` CLI. Every route sits behind requireAuthority
 * (app.ts): a person with a passkey used in the last five minutes, never a
 * machine token. Secrets appear in the response to create and rotate only.
 */
export function clientRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.use('/api/admin/clients', requireRole('admin'));
  app.use('/api/admin/clients/*', requireRole('admin'));

  const authorityOf = (c: AppContext) => organisationAdmin(c.get('user')!.organisation_id);

  app.post('/api/admin/clients', async (c) => {
    const created = await registerClient(deps, auditContext(c), await readJsonObject(c), { authority: authorityOf(c) });
    return c.json(created, 201);
  });

  app.get('/api/admin/clients', async (c) => c.json({ clients: await listClients(deps.db, authorityOf(c)) }));

  app.get('/api/admin/clients/:id', async (c) => c.json(clientView(await getClient(deps.db, c.req.param('id'), authorityOf(c)))));

  // RFC 7592 §2.2 replaces the whole record; members left out here keep their value (a merge), so an admin cannot clear an operator setting by omission.
  app.patch('/api/admin/clients/:id', async (c) => c.json(await updateClient(deps, auditContext(c), c.req.param('id'), await readJsonObject(c), { authority: authorityOf(c) })));

  app.post('/api/admin/clients/:id/rotate-secret', async (c) => c.json(await rotateClientSecret(deps, auditContext(c), c.req.param('id'), authorityOf(c))));

  app.delete('/api/admin/clients/:id', async (c) => {
    await deleteClient(deps, auditContext(c), c.req.param('id'), authorityOf(c));
    return c.body(null, 204);
  });

  return app;
}
