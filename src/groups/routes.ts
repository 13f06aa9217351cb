import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { adminActorOf, auditContext } from '../http/context.js';
import { documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { addGroupMember, createGroup, listGroups, removeGroupMember } from './service.js';

/**
 * Admin API for the groups of the admin's own organisation (area `people`: a token
 * needs warta:admin:people). Another organisation's group or person answers 404.
 */
const json = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const groupParam = z.object({ id: z.string().min(1).max(300).openapi({ description: 'the group’s id or path' }) });
const refusals = {
  400: { description: 'invalid_request' },
  403: { description: 'forbidden (not an admin), reauthentication_required' },
  404: { description: 'group_not_found, parent_not_found, person_not_found' },
};

const list = createRoute({
  method: 'get',
  path: '/api/admin/groups',
  summary: "The organisation's groups, by path",
  responses: { 200: { description: '{groups: [{id, name, path, parent_id, external_id, members}]}' }, 403: refusals[403] },
});

const create = createRoute({
  method: 'post',
  path: '/api/admin/groups',
  summary: 'Create a group, under a parent of the same organisation or at the top (audited as group.created)',
  request: json(z.object({ name: z.string().min(1).max(100), parent_id: z.string().max(64).nullable().optional(), external_id: z.string().max(200).nullable().optional() })),
  responses: { 201: { description: 'the group' }, ...refusals, 409: { description: 'group_exists' } },
});

const addMember = createRoute({
  method: 'post',
  path: '/api/admin/groups/{id}/members',
  summary: 'Add a person of the organisation to the group (audited as group.member_added)',
  request: { params: groupParam, ...json(z.object({ user_id: z.string().min(1).max(64) })) },
  responses: { 200: { description: '{group, user_id, added}' }, ...refusals },
});

const removeMember = createRoute({
  method: 'delete',
  path: '/api/admin/groups/{id}/members/{user_id}',
  summary: 'Remove a person from the group (audited as group.member_removed)',
  request: { params: groupParam.extend({ user_id: z.string().min(1).max(64) }) },
  responses: { 200: { description: '{group, user_id, removed}' }, ...refusals },
});

export function groupRoutes(deps: Deps) {
  const app = documentedRouter();
  app.use('/api/admin/groups', requireRole('admin'));
  app.use('/api/admin/groups/*', requireRole('admin'));
  app.openapi(list, async (c) => c.json({ groups: await listGroups(deps.db, adminActorOf(c).organisationId) }, 200));
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    return c.json(await createGroup(deps, auditContext(c), { organisationId: adminActorOf(c).organisationId, name: body.name, parentId: body.parent_id ?? null, externalId: body.external_id ?? null }), 201);
  });
  app.openapi(addMember, async (c) =>
    c.json(await addGroupMember(deps, auditContext(c), { organisationId: adminActorOf(c).organisationId, groupId: c.req.valid('param').id, userId: c.req.valid('json').user_id }), 200),
  );
  app.openapi(removeMember, async (c) => {
    const params = c.req.valid('param');
    return c.json(await removeGroupMember(deps, auditContext(c), { organisationId: adminActorOf(c).organisationId, groupId: params.id, userId: params.user_id }), 200);
  });
  return app;
}
