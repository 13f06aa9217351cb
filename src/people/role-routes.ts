import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../deps.js';
import { requirePerson } from '../authority/person-required.js';
import { type AppContext, adminActorOf, auditContext } from '../http/context.js';
import { AUTHORITY_REFUSALS, ErrorBody, IdParam, jsonBody, jsonResponse, NOT_FOUND, UNSUPPORTED_MEDIA_TYPE, documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { approveRoleRequest } from './approve-request.js';
import type { PeopleActor } from '../authority/people.js';
import { listRoleRequests } from './role-requests.js';
import { grantRole, revokeRole } from './roles.js';

/**
 * Admin API for a person's roles and the requests that wait for a second
 * admin. Behind requireAuthority (app.ts) like every /api/admin/* route.
 */
const adminOnly = { tags: ['People'], middleware: requireRole('admin') };
const reason = z.string().min(1).max(500).openapi({ description: 'why, kept in the audit log' });
const roleName = z.string().max(32).openapi({ description: 'recovery_officer or admin (operator only through the operator’s CLI)', example: 'recovery_officer' });

const RoleRequest = z
  .object({
    id: z.string(),
    kind: z.enum(['grant', 'enable']),
    person_id: z.string(),
    role: z.string().nullable(),
    reason: z.string(),
    requested_by: z.string(),
    requested_at: z.string(),
    expires_at: z.string(),
    status: z.enum(['pending', 'approved', 'expired']),
    decided_by: z.string().nullable(),
    decided_at: z.string().nullable(),
  })
  .openapi('RoleRequest');

const RoleChange = z.object({ id: z.string(), username: z.string(), role: z.string(), status: z.string(), roles: z.array(z.string()).optional(), request: RoleRequest.optional() }).passthrough().openapi('RoleChange');

const refusals = {
  ...AUTHORITY_REFUSALS,
  403: jsonResponse('forbidden, reauthentication_required, cannot_act_on_self, operator_required, role_request_self_approval, role_request_about_self', ErrorBody),
  404: NOT_FOUND,
  409: jsonResponse('person_not_active, role_already_held, role_not_held, role_request_pending, last_admin, role_request_not_pending, role_request_requester_not_admin', ErrorBody),
};

const grantRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/people/{id}/roles',
  summary: 'Ask to give a person recovery_officer or admin: a request a different admin approves',
  request: { params: IdParam, body: jsonBody(z.object({ role: roleName, reason })) },
  responses: { 202: jsonResponse('Waiting for a second admin: {status: awaiting_approval, request}', RoleChange), ...refusals, 415: UNSUPPORTED_MEDIA_TYPE },
});

const revokeRoute = createRoute({
  ...adminOnly,
  method: 'delete',
  path: '/api/admin/people/{id}/roles/{role}',
  summary: 'Take a role away at once (never the organisation’s last active admin, never your own); announced to the other admins and sent as role_revoked',
  request: {
    params: z.object({ id: IdParam.shape.id, role: z.string().openapi({ param: { name: 'role', in: 'path' }, example: 'recovery_officer' }) }),
    body: jsonBody(z.object({ reason })),
  },
  responses: { 200: jsonResponse('Revoked: {id, username, role, status, roles, reason}', RoleChange), ...refusals, 415: UNSUPPORTED_MEDIA_TYPE },
});

const listRequestsRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/role-requests',
  summary: 'Role grants and privileged re-enables waiting for a second admin',
  responses: { 200: jsonResponse('The pending requests, oldest first', z.object({ role_requests: z.array(RoleRequest) })), ...AUTHORITY_REFUSALS },
});

const approveRequestRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/role-requests/{id}/approve',
  summary: 'Approve another admin’s request (not your own, not one about you); the change takes effect now',
  request: { params: IdParam },
  responses: {
    200: jsonResponse('Approved and applied: {request, person}', z.object({ request: RoleRequest, person: z.object({ id: z.string(), username: z.string(), status: z.string(), roles: z.array(z.string()) }) })),
    ...refusals,
    410: jsonResponse('role_request_expired', ErrorBody),
  },
});

export function roleRoutes(deps: Deps) {
  const app = documentedRouter();
  // Role changes are acts of one admin judged by another: an admin client takes no part in them (person_required, audited).
  const actorOf = async (c: AppContext, act: string): Promise<PeopleActor> => ({ kind: 'admin', userId: (await requirePerson(deps, auditContext(c), adminActorOf(c), act)).id });

  app.openapi(grantRoute, async (c) => {
    const body = c.req.valid('json');
    return c.json(await grantRole(deps, auditContext(c), { actor: await actorOf(c, 'role.grant'), personId: c.req.valid('param').id, role: body.role, reason: body.reason }), 202);
  });
  app.openapi(revokeRoute, async (c) => {
    const param = c.req.valid('param');
    return c.json(await revokeRole(deps, auditContext(c), { actor: await actorOf(c, 'role.revoke'), personId: param.id, role: param.role, reason: c.req.valid('json').reason }), 200);
  });
  app.openapi(listRequestsRoute, async (c) => c.json({ role_requests: await listRoleRequests(deps.db, deps.clock, adminActorOf(c).organisationId) }, 200));
  app.openapi(approveRequestRoute, async (c) => c.json(await approveRoleRequest(deps, auditContext(c), { approver: await actorOf(c, 'role_request.approve'), requestId: c.req.valid('param').id }), 200));
  return app;
}
