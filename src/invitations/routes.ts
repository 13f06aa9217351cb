import { createRoute, z } from '@hono/zod-openapi';
import type { Role } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { notFound } from '../errors.js';
import { auditContext } from '../http/context.js';
import { readJsonObject, requiredString } from '../http/json-body.js';
import { AUTHORITY_REFUSALS, ErrorBody, IdParam, jsonBody, jsonResponse, NOT_FOUND, UNSUPPORTED_MEDIA_TYPE, documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { approveInvitation, findUsableInvitation, invitationView, listInvitations, requestInvitation, revokeInvitation } from './service.js';
import type { Deps } from '../deps.js';

const InvitationRequest = z
  .object({
    display_name: z.string().min(1).max(200),
    email: z.string().max(254).nullish(),
    employee_id: z.string().max(64).nullish(),
    role: z.string().max(32).optional().openapi({ description: 'member (the default), recovery_officer or admin; a privileged role waits for a second admin', example: 'member' }),
    ttl_hours: z.number().int().optional().openapi({ description: 'How long the link stays usable; the organisation policy bounds it' }),
  })
  .openapi('InvitationRequest');

const Invitation = z
  .object({
    id: z.string(),
    organisation_id: z.string(),
    display_name: z.string(),
    email: z.string().nullable(),
    employee_id: z.string().nullable(),
    role: z.string(),
    status: z.string(),
    created_at: z.string(),
    expires_at: z.string(),
    redeemed_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .passthrough()
  .openapi('Invitation');

const IssuedInvitation = Invitation.extend({ link: z.string().nullable().optional().openapi({ description: 'The enrollment link, shown once; absent until a second admin approves a privileged invitation' }) }).openapi('IssuedInvitation');

const adminOnly = { tags: ['Invitations'], middleware: requireRole('admin') };

const createInvitationRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/invitations',
  summary: 'Invite a person into the admin\'s organisation',
  request: { body: jsonBody(InvitationRequest) },
  responses: {
    201: jsonResponse('Issued, with its link', IssuedInvitation),
    202: jsonResponse('A privileged invitation waiting for a second admin\'s approval (no link yet)', IssuedInvitation),
    ...AUTHORITY_REFUSALS,
    415: UNSUPPORTED_MEDIA_TYPE,
  },
});

const approveInvitationRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/invitations/{id}/approve',
  summary: 'Approve another admin\'s privileged invitation; the approver receives the link',
  request: { params: IdParam },
  responses: { 200: jsonResponse('Approved, with its link', IssuedInvitation), ...AUTHORITY_REFUSALS, 404: NOT_FOUND, 409: jsonResponse('Not waiting for approval, or the approver asked for it', ErrorBody) },
});

const listInvitationsRoute = createRoute({
  ...adminOnly,
  method: 'get',
  path: '/api/admin/invitations',
  summary: 'The organisation\'s invitations',
  responses: { 200: jsonResponse('The invitations', z.object({ invitations: z.array(Invitation) })), ...AUTHORITY_REFUSALS },
});

const revokeInvitationRoute = createRoute({
  ...adminOnly,
  method: 'delete',
  path: '/api/admin/invitations/{id}',
  summary: 'Revoke an invitation',
  request: { params: IdParam },
  responses: { 200: jsonResponse('Revoked', Invitation), ...AUTHORITY_REFUSALS, 404: NOT_FOUND },
});

/**
 * Admin API for invitations, scoped to the admin's own organisation, and the
 * invitee's look-up of their own invitation (the enrollment page calls it).
 */
export function invitationRoutes(deps: Deps) {
  const app = documentedRouter();

  // Every /api/admin/* route is guarded by requireAuthority in app.ts (a passkey re-verified within five minutes).
  app.openapi(createInvitationRoute, async (c) => {
    const admin = c.get('user')!;
    const body = c.req.valid('json');
    const issued = await requestInvitation(deps, auditContext(c), {
      organisationId: admin.organisation_id,
      displayName: body.display_name,
      email: body.email ?? null,
      employeeId: body.employee_id ?? null,
      role: (body.role ?? 'member') as Role,
      ...(body.ttl_hours === undefined ? {} : { ttlSeconds: body.ttl_hours * 3600 }),
      createdBy: admin.id,
    });
    // A privileged invitation has no link yet: 202, and the second admin's approval returns it.
    const view = { ...invitationView(issued.invitation, deps.clock.now()), link: issued.link };
    return issued.link ? c.json(view, 201) : c.json(view, 202);
  });

  // The approver, not the admin who asked, receives the link: neither alone holds a usable privileged invitation.
  app.openapi(approveInvitationRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!isUuid(id)) throw notFound('invitation_not_found', 'no such invitation');
    const approved = await approveInvitation(deps, auditContext(c), { id, approver: c.get('user')! });
    return c.json({ ...invitationView(approved.invitation, deps.clock.now()), link: approved.link }, 200);
  });

  app.openapi(listInvitationsRoute, async (c) => {
    const rows = await listInvitations(deps.db, c.get('user')!.organisation_id);
    return c.json({ invitations: rows.map((row) => invitationView(row, deps.clock.now())) }, 200);
  });

  app.openapi(revokeInvitationRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!isUuid(id)) throw notFound('invitation_not_found', 'no such invitation');
    const revoked = await revokeInvitation(deps, auditContext(c), { id, organisationId: c.get('user')!.organisation_id });
    return c.json(invitationView(revoked, deps.clock.now()), 200);
  });

  // POST so the token travels in the body, not in a URL that proxies log.
  app.post('/api/invitations/lookup', async (c) => {
    const token = requiredString(await readJsonObject(c), 'token', 128);
    const invitation = await findUsableInvitation(deps.db, deps.clock, token);
    const organisation = await deps.db.selectFrom('organisations').select('name').where('id', '=', invitation.organisation_id).executeTakeFirstOrThrow();
    return c.json({ display_name: invitation.display_name, organisation: organisation.name, role: invitation.role, expires_at: invitation.expires_at.toISOString() });
  });

  return app;
}
