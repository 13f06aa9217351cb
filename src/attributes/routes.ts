import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { adminActorOf, auditContext } from '../http/context.js';
import { documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { defineAttribute, listAttributeDefinitions, setAttribute } from './service.js';

/**
 * Admin API for the typed attributes of the admin's own organisation (area `people`:
 * a token needs warta:admin:people). Another organisation's person answers 404.
 */
const json = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const refusals = {
  400: { description: 'invalid_request, invalid_attribute_value' },
  403: { description: 'forbidden (not an admin), reauthentication_required' },
  404: { description: 'attribute_not_found, person_not_found' },
};

const list = createRoute({
  method: 'get',
  path: '/api/admin/attributes',
  summary: "The organisation's attribute definitions",
  responses: { 200: { description: '{attributes: [{name, type, allowed_values?}]}' }, 403: refusals[403] },
});

const define = createRoute({
  method: 'post',
  path: '/api/admin/attributes',
  summary: 'Define a typed attribute: string, integer, boolean, or enum with its allowed values (audited as attribute.defined)',
  request: json(z.object({ name: z.string().min(1).max(64), type: z.string().max(16), allowed_values: z.array(z.string().max(100)).max(50).optional() })),
  responses: { 201: { description: '{name, type, allowed_values?}' }, ...refusals, 409: { description: 'attribute_exists' } },
});

const set = createRoute({
  method: 'put',
  path: '/api/admin/attributes/{name}/values/{user_id}',
  summary: "Set a person's value (null clears it), checked against the attribute's type (audited as attribute.set)",
  request: {
    params: z.object({ name: z.string().min(1).max(64), user_id: z.string().min(1).max(64) }),
    ...json(z.object({ value: z.union([z.string(), z.number(), z.boolean(), z.null()]) })),
  },
  responses: { 200: { description: '{user_id, name, value}' }, ...refusals },
});

export function attributeRoutes(deps: Deps) {
  const app = documentedRouter();
  app.use('/api/admin/attributes', requireRole('admin'));
  app.use('/api/admin/attributes/*', requireRole('admin'));
  app.openapi(list, async (c) => c.json({ attributes: await listAttributeDefinitions(deps.db, adminActorOf(c).organisationId) }, 200));
  app.openapi(define, async (c) => {
    const body = c.req.valid('json');
    return c.json(await defineAttribute(deps, auditContext(c), { organisationId: adminActorOf(c).organisationId, name: body.name, type: body.type, allowedValues: body.allowed_values }), 201);
  });
  app.openapi(set, async (c) => {
    const params = c.req.valid('param');
    return c.json(await setAttribute(deps, auditContext(c), { organisationId: adminActorOf(c).organisationId, userId: params.user_id, name: params.name, value: c.req.valid('json').value }), 200);
  });
  return app;
}
