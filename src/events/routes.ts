import { createRoute, z } from '@hono/zod-openapi';
import { adminActorOf, auditContext } from '../http/context.js';
import { AUTHORITY_REFUSALS, IdParam, jsonBody, jsonResponse, NOT_FOUND, UNSUPPORTED_MEDIA_TYPE, documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { addReceiver, listReceivers, receiverView, removeReceiver } from './receivers.js';
import { DELIVERABLE_EVENT_TYPES } from './types.js';
import type { Deps } from '../deps.js';

const ReceiverRequest = z
  .object({
    url: z.string().min(1).max(2048).openapi({ description: 'An https URL on an allowed destination', example: 'https://messenger.example.gov/events' }),
    audience: z.string().min(1).max(512),
    // The list is checked by addReceiver (the CLI calls it too), with its own error code.
    events: z.unknown().optional().openapi({ type: 'array', items: { type: 'string', enum: [...DELIVERABLE_EVENT_TYPES] }, description: 'Event types to deliver; left out: every type' }),
    bearer_token: z.string().max(4096).nullish().openapi({ description: 'Sent as Authorization: Bearer on each delivery; stored encrypted, never shown again' }),
  })
  .openapi('EventReceiverRequest');

const Receiver = z
  .object({ id: z.string(), organisation_id: z.string(), url: z.string(), audience: z.string(), events: z.array(z.string()).nullable(), has_bearer_token: z.boolean(), created_at: z.string(), removed_at: z.string().nullable() })
  .passthrough()
  .openapi('EventReceiver');

const adminOnly = { tags: ['Event receivers'], middleware: requireRole('admin') };

const addReceiverRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/event-receivers',
  summary: 'Add a Security Event Token receiver',
  request: { body: jsonBody(ReceiverRequest) },
  responses: { 201: jsonResponse('Added', Receiver), ...AUTHORITY_REFUSALS, 415: UNSUPPORTED_MEDIA_TYPE },
});

const listReceiversRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/event-receivers',
  summary: 'The organisation\'s receivers and their delivery health',
  responses: { 200: jsonResponse('The receivers', z.object({ receivers: z.array(Receiver) })), ...AUTHORITY_REFUSALS },
});

const removeReceiverRoute = createRoute({
  ...adminOnly,
  method: 'delete',
  path: '/api/admin/event-receivers/{id}',
  summary: 'Remove a receiver',
  request: { params: IdParam },
  responses: { 200: jsonResponse('Removed', Receiver), ...AUTHORITY_REFUSALS, 404: NOT_FOUND },
});

/** Admin API for Security Event Token receivers, scoped to the admin's own organisation. */
export function eventReceiverRoutes(deps: Deps) {
  const app = documentedRouter();

  app.openapi(addReceiverRoute, async (c) => {
    const body = c.req.valid('json');
    const receiver = await addReceiver(deps, auditContext(c), {
      organisationId: adminActorOf(c).organisationId,
      url: body.url,
      audience: body.audience,
      events: body.events,
      ...(body.bearer_token == null ? {} : { bearerToken: body.bearer_token }),
    });
    return c.json(receiverView(receiver), 201);
  });

  app.openapi(listReceiversRoute, async (c) => {
    const receivers = await listReceivers(deps.db, adminActorOf(c).organisationId);
    return c.json({ receivers: receivers.map(receiverView) }, 200);
  });

  app.openapi(removeReceiverRoute, async (c) => {
    const removed = await removeReceiver(deps, auditContext(c), { id: c.req.valid('param').id, organisationId: adminActorOf(c).organisationId });
    return c.json(receiverView(removed), 200);
  });

  return app;
}
