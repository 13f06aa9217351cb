import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { isAwaitingApproval } from '../authority/change-requests.js';
import type { Deps } from '../deps.js';
import { invalidRequest } from '../errors.js';
import { adminActorOf, auditContext } from '../http/context.js';
import { peopleActorOf } from '../authority/people-actor.js';
import { documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { setGroupSensitive } from './flag.js';
import { moveGroup } from './move.js';
import { sensitiveGroupsAmong } from './sensitive.js';
import { addGroupMember, createGroup, deleteGroup, listGroups, removeGroupMember } from './service.js';

/**
 * Admin API for the groups of the admin's own organisation (area `people`: a token
 * needs warta:admin:people). Another organisation's group or person answers 404.
 * A change to a sensitive group (groups/sensitive.ts) answers 202 with a change
 * request a different admin approves (/api/admin/change-requests); an admin client
 * cannot ask for one (person_required).
 */
const json = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const groupParam = z.object({ id: z.string().min(1).max(300).openapi({ description: 'the group’s id or path' }) });
const reason = z.string().min(1).max(500).optional().openapi({ description: 'why, for the second admin and the audit log (a sensitive change)' });
const refusals = {
  400: { description: 'invalid_request' },
  403: { description: 'forbidden (not an admin), reauthentication_required, person_required (a sensitive change by an admin client)' },
  404: { description: 'group_not_found, parent_not_found, person_not_found' },
};
const awaiting = { 202: { description: 'sensitive: nothing changed yet; {status: awaiting_approval, request} waits for a second admin' } };

const list = createRoute({
  method: 'get',
  path: '/api/admin/groups',
  summary: "The organisation's groups, by path",
  responses: { 200: { description: '{groups: [{id, name, path, parent_id, external_id, sensitive, needs_second_admin, members}]}' }, 403: refusals[403] },
});

const create = createRoute({
  method: 'post',
  path: '/api/admin/groups',
  summary: 'Create a group, under a parent of the same organisation or at the top, optionally flagged sensitive (audited as group.created)',
  request: json(z.object({ name: z.string().min(1).max(100), parent_id: z.string().max(64).nullable().optional(), external_id: z.string().max(200).nullable().optional(), sensitive: z.boolean().optional() })),
  responses: { 201: { description: 'the group' }, ...refusals, 409: { description: 'group_exists' } },
});

const change = createRoute({
  method: 'patch',
  path: '/api/admin/groups/{id}',
  summary:
    'Move (parent_id, null for the top) or rename (name) a group, audited with the old and new path as group.moved or group.renamed; or flag it sensitive (at once) or clear the flag (a second admin approves). A move or rename that touches a sensitive group answers 202.',
  request: {
    params: groupParam,
    ...json(z.object({ parent_id: z.string().max(64).nullable().optional(), name: z.string().min(1).max(100).optional(), sensitive: z.boolean().optional(), reason })),
  },
  responses: { 200: { description: 'the group' }, ...awaiting, ...refusals, 409: { description: 'group_exists, group_cycle, change_request_pending' } },
});

const remove = createRoute({
  method: 'delete',
  path: '/api/admin/groups/{id}',
  summary: 'Delete a group with no groups under it; its members leave it (audited as group.deleted, and group.member_removed for each member). A sensitive group is the operator\'s to delete (warta group delete).',
  request: { params: groupParam },
  responses: { 200: { description: '{id, path, deleted, members}' }, ...refusals, 403: { description: 'forbidden (not an admin), reauthentication_required, operator_required or person_required (a sensitive group)' }, 409: { description: 'group_has_children' } },
});

const addMember = createRoute({
  method: 'post',
  path: '/api/admin/groups/{id}/members',
  summary: 'Add a person of the organisation to the group (audited as group.member_added); for a sensitive group, a request a second admin approves',
  request: { params: groupParam, ...json(z.object({ user_id: z.string().min(1).max(64), reason })) },
  responses: { 200: { description: '{group, user_id, added}' }, ...awaiting, ...refusals, 409: { description: 'change_request_pending' } },
});

const removeMember = createRoute({
  method: 'delete',
  path: '/api/admin/groups/{id}/members/{user_id}',
  summary: 'Remove a person from the group (audited as group.member_removed); for a sensitive group, a request a second admin approves',
  request: { params: groupParam.extend({ user_id: z.string().min(1).max(64) }) },
  responses: { 200: { description: '{group, user_id, removed}' }, ...awaiting, ...refusals, 409: { description: 'change_request_pending' } },
});

export function groupRoutes(deps: Deps) {
  const app = documentedRouter();
  app.use('/api/admin/groups', requireRole('admin'));
  app.use('/api/admin/groups/*', requireRole('admin'));
  app.openapi(list, async (c) => {
    const organisationId = adminActorOf(c).organisationId;
    const groups = await listGroups(deps.db, organisationId);
    const sensitive = await sensitiveGroupsAmong(deps.db, organisationId, groups);
    return c.json({ groups: groups.map((g) => ({ ...g, needs_second_admin: sensitive.has(g.id) })) }, 200);
  });
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    return c.json(await createGroup(deps, auditContext(c), { organisationId: adminActorOf(c).organisationId, name: body.name, parentId: body.parent_id ?? null, externalId: body.external_id ?? null, sensitive: body.sensitive === true }), 201);
  });
  app.openapi(change, async (c) => {
    const body = c.req.valid('json');
    const moves = body.parent_id !== undefined || body.name !== undefined;
    if (moves === (body.sensitive !== undefined)) throw invalidRequest('give parent_id and/or name (a move or rename), or sensitive alone');
    const target = { actor: peopleActorOf(c), organisationId: adminActorOf(c).organisationId, groupId: c.req.valid('param').id, reason: body.reason ?? null };
    const result = moves
      ? await moveGroup(deps, auditContext(c), { ...target, ...(body.parent_id !== undefined ? { parentId: body.parent_id } : {}), ...(body.name !== undefined ? { name: body.name } : {}) })
      : await setGroupSensitive(deps, auditContext(c), { ...target, sensitive: body.sensitive! });
    return isAwaitingApproval(result) ? c.json(result, 202) : c.json(result, 200);
  });
  app.openapi(remove, async (c) => c.json(await deleteGroup(deps, auditContext(c), { actor: peopleActorOf(c), organisationId: adminActorOf(c).organisationId, groupId: c.req.valid('param').id }), 200));
  app.openapi(addMember, async (c) => {
    const body = c.req.valid('json');
    const result = await addGroupMember(deps, auditContext(c), { actor: peopleActorOf(c), organisationId: adminActorOf(c).organisationId, groupId: c.req.valid('param').id, userId: body.user_id, reason: body.reason ?? null });
    return isAwaitingApproval(result) ? c.json(result, 202) : c.json(result, 200);
  });
  app.openapi(removeMember, async (c) => {
    const params = c.req.valid('param');
    const result = await removeGroupMember(deps, auditContext(c), { actor: peopleActorOf(c), organisationId: adminActorOf(c).organisationId, groupId: params.id, userId: params.user_id });
    return isAwaitingApproval(result) ? c.json(result, 202) : c.json(result, 200);
  });
  return app;
}
