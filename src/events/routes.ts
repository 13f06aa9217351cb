import { Hono } from 'hono';
import { type AppEnv, auditContext } from '../http/context.js';
import { optionalString, readJsonObject, requiredString } from '../http/json-body.js';
import { requireRole } from '../sessions/middleware.js';
import { addReceiver, listReceivers, receiverView, removeReceiver } from './receivers.js';
import type { Deps } from '../deps.js';

/** Admin API for Security Event Token receivers, scoped to the admin's own organisation. */
export function eventReceiverRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.post('/api/admin/event-receivers', requireRole('admin'), async (c) => {
    const body = await readJsonObject(c);
    const bearerToken = optionalString(body, 'bearer_token', 4096);
    const receiver = await addReceiver(deps, auditContext(c), {
      organisationId: c.get('user')!.organisation_id,
      url: requiredString(body, 'url', 2048),
      audience: requiredString(body, 'audience', 512),
      events: body.events,
      ...(bearerToken === undefined ? {} : { bearerToken }),
    });
    return c.json(receiverView(receiver), 201);
  });

  app.get('/api/admin/event-receivers', requireRole('admin'), async (c) => {
    const receivers = await listReceivers(deps.db, c.get('user')!.organisation_id);
    return c.json({ receivers: receivers.map(receiverView) });
  });

  app.delete('/api/admin/event-receivers/:id', requireRole('admin'), async (c) => {
    const removed = await removeReceiver(deps, auditContext(c), { id: c.req.param('id'), organisationId: c.get('user')!.organisation_id });
    return c.json(receiverView(removed));
  });

  return app;
}
