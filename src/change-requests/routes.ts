import { createRoute, z } from '@hono/zod-openapi';
import { requirePerson } from '../authority/person-required.js';
import type { Deps } from '../deps.js';
import { type AppContext, adminActorOf, auditContext } from '../http/context.js';
import { AUTHORITY_REFUSALS, ErrorBody, IdParam, jsonResponse, NOT_FOUND, documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { approveChangeRequest, type ChangeRequestDecider, rejectChangeRequest } from './approve.js';
import { listChangeRequests } from '../authority/change-requests.js';

/**
 * Admin API for the changes to sensitive groups and attributes that wait for a
 * second admin (area `people`). Behind requireAuthority (app.ts) like every
 * /api/admin/* route; deciding one is a person's act, never an admin client's.
 */
const adminOnly = { tags: ['People'], middleware: requireRole('admin') };

const ChangeRequest = z
  .object({
    id: z.string(),
    kind: z.enum(['attribute.set', 'attribute.unflag', 'group.add_member', 'group.remove_member', 'group.unflag', 'group.move']),
    person_id: z.string().nullable(),
    group_id: z.string().nullable(),
    attribute: z.string().nullable(),
    change: z.record(z.string(), z.unknown()).openapi({ description: 'attribute.set: {value}; group.move: {parent_id, name, old_path, new_path}; otherwise {}' }),
    reason: z.string().nullable(),
    requested_by: z.string(),
    requested_at: z.string(),
    expires_at: z.string(),
    status: z.enum(['pending', 'approved', 'rejected', 'expired']),
    decided_by: z.string().nullable(),
    decided_at: z.string().nullable(),
  })
  .openapi('ChangeRequest');

const refusals = {
  ...AUTHORITY_REFUSALS,
  403: jsonResponse('forbidden, person_required, change_request_self_approval, change_request_about_self', ErrorBody),
  404: NOT_FOUND,
  409: jsonResponse('change_request_not_pending, change_request_requester_not_admin, or the change’s own conflict (group_exists, group_cycle …)', ErrorBody),
  410: jsonResponse('change_request_expired', ErrorBody),
};

const listRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/change-requests',
  summary: 'Changes to sensitive groups and attributes waiting for a second admin',
  responses: { 200: jsonResponse('The pending requests, oldest first', z.object({ change_requests: z.array(ChangeRequest) })), ...AUTHORITY_REFUSALS },
});

const approveRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/change-requests/{id}/approve',
  summary: 'Approve another admin’s request (not your own, not one about you); the change takes effect now, audited with both admins',
  request: { params: IdParam },
  responses: { 200: jsonResponse('Approved and applied: {request, result}', z.object({ request: ChangeRequest, result: z.unknown().optional() })), ...refusals },
});

const rejectRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/change-requests/{id}/reject',
  summary: 'Reject a request (the admin who asked may withdraw it); nothing changes',
  request: { params: IdParam },
  responses: { 200: jsonResponse('Rejected: {request}', z.object({ request: ChangeRequest })), ...refusals },
});

export function changeRequestRoutes(deps: Deps) {
  const app = documentedRouter();
  // Deciding is one admin judging another's ask: an admin client takes no part (person_required, audited).
  const deciderOf = async (c: AppContext, act: string): Promise<ChangeRequestDecider> => ({ kind: 'admin', userId: (await requirePerson(deps, auditContext(c), adminActorOf(c), act)).id });

  app.openapi(listRoute, async (c) => c.json({ change_requests: await listChangeRequests(deps.db, deps.clock, adminActorOf(c).organisationId) }, 200));
  app.openapi(approveRoute, async (c) => c.json(await approveChangeRequest(deps, auditContext(c), { approver: await deciderOf(c, 'change_request.approve'), requestId: c.req.valid('param').id }), 200));
  app.openapi(rejectRoute, async (c) => c.json(await rejectChangeRequest(deps, auditContext(c), { decider: await deciderOf(c, 'change_request.reject'), requestId: c.req.valid('param').id }), 200));
  return app;
}
