import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { isAwaitingApproval } from '../authority/change-requests.js';
import { requirementsInForce } from '../authority/requirements-in-force.js';
import type { Deps } from '../deps.js';
import { adminActorOf, auditContext } from '../http/context.js';
import { peopleActorOf } from '../authority/people-actor.js';
import { documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { setAttributeSensitive } from './flag.js';
import { defineAttribute, listAttributeDefinitions, setAttribute } from './service.js';

/**
 * Admin API for the typed attributes of the admin's own organisation (area `people`:
 * a token needs warta:admin:people). Another organisation's person answers 404.
 * Setting a sensitive attribute (attributes/sensitive.ts) answers 202 with a change
 * request a different admin approves (/api/admin/change-requests); an admin client
 * cannot ask for one (person_required).
 */
const json = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const reason = z.string().min(1).max(500).optional().openapi({ description: 'why, for the second admin and the audit log (a sensitive change)' });
const refusals = {
  400: { description: 'invalid_request, invalid_attribute_value' },
  403: { description: 'forbidden (not an admin), reauthentication_required, person_required (a sensitive change by an admin client)' },
  404: { description: 'attribute_not_found, person_not_found' },
};
const awaiting = { 202: { description: 'sensitive: nothing changed yet; {status: awaiting_approval, request} waits for a second admin' } };

const list = createRoute({
  method: 'get',
  path: '/api/admin/attributes',
  summary: "The organisation's attribute definitions",
  responses: { 200: { description: '{attributes: [{name, type, allowed_values?, sensitive, needs_second_admin}]}' }, 403: refusals[403] },
});

const define = createRoute({
  method: 'post',
  path: '/api/admin/attributes',
  summary: 'Define a typed attribute: string, integer, boolean, or enum with its allowed values, optionally flagged sensitive (audited as attribute.defined)',
  request: json(z.object({ name: z.string().min(1).max(64), type: z.string().max(16), allowed_values: z.array(z.string().max(100)).max(50).optional(), sensitive: z.boolean().optional() })),
  responses: { 201: { description: '{name, type, allowed_values?, sensitive}' }, ...refusals, 409: { description: 'attribute_exists' } },
});

const flag = createRoute({
  method: 'patch',
  path: '/api/admin/attributes/{name}',
  summary: 'Flag an attribute sensitive (at once, audited as attribute.flagged_sensitive) or clear the flag (202: a second admin approves)',
  request: { params: z.object({ name: z.string().min(1).max(64) }), ...json(z.object({ sensitive: z.boolean(), reason })) },
  responses: { 200: { description: '{name, type, allowed_values?, sensitive}' }, ...awaiting, ...refusals, 409: { description: 'change_request_pending' } },
});

const set = createRoute({
  method: 'put',
  path: '/api/admin/attributes/{name}/values/{user_id}',
  summary: "Set a person's value (null clears it), checked against the attribute's type (audited as attribute.set); for a sensitive attribute, a request a second admin approves",
  request: {
    params: z.object({ name: z.string().min(1).max(64), user_id: z.string().min(1).max(64) }),
    ...json(z.object({ value: z.union([z.string(), z.number(), z.boolean(), z.null()]), reason })),
  },
  responses: { 200: { description: '{user_id, name, value}' }, ...awaiting, ...refusals, 409: { description: 'change_request_pending' } },
});

export function attributeRoutes(deps: Deps) {
  const app = documentedRouter();
  app.use('/api/admin/attributes', requireRole('admin'));
  app.use('/api/admin/attributes/*', requireRole('admin'));
  app.openapi(list, async (c) => {
    const organisationId = adminActorOf(c).organisationId;
    const required = (await requirementsInForce(deps.db, organisationId)).attributeNames;
    return c.json({ attributes: (await listAttributeDefinitions(deps.db, organisationId)).map((d) => ({ ...d, needs_second_admin: d.sensitive || required.has(d.name) })) }, 200);
  });
  app.openapi(define, async (c) => {
    const body = c.req.valid('json');
    return c.json(await defineAttribute(deps, auditContext(c), { organisationId: adminActorOf(c).organisationId, name: body.name, type: body.type, allowedValues: body.allowed_values, sensitive: body.sensitive === true }), 201);
  });
  app.openapi(flag, async (c) => {
    const body = c.req.valid('json');
    const result = await setAttributeSensitive(deps, auditContext(c), { actor: peopleActorOf(c), organisationId: adminActorOf(c).organisationId, name: c.req.valid('param').name, sensitive: body.sensitive, reason: body.reason ?? null });
    return isAwaitingApproval(result) ? c.json(result, 202) : c.json(result, 200);
  });
  app.openapi(set, async (c) => {
    const params = c.req.valid('param');
    const body = c.req.valid('json');
    const result = await setAttribute(deps, auditContext(c), { actor: peopleActorOf(c), organisationId: adminActorOf(c).organisationId, userId: params.user_id, name: params.name, value: body.value, reason: body.reason ?? null });
    return isAwaitingApproval(result) ? c.json(result, 202) : c.json(result, 200);
  });
  return app;
}
