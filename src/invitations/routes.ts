import { createRoute, z } from '@hono/zod-openapi';
import type { Role } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { notFound } from '../errors.js';
import { isPrivileged } from '../authority/role-grant.js';
import { requirePerson } from '../authority/person-required.js';
import { methodRefusal } from '../orgs/method-policy.js';
import { resolvePolicy } from '../orgs/policy.js';
import { adminActorOf, auditContext } from '../http/context.js';
import { readJsonObject, requiredString } from '../http/json-body.js';
import { AUTHORITY_REFUSALS, ErrorBody, IdParam, jsonBody, jsonResponse, NOT_FOUND, UNSUPPORTED_MEDIA_TYPE, documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { inviteInBulk } from './bulk.js';
import { parseInvitationCsv } from './csv.js';
import { resendInvitation } from './resend.js';
import { approveInvitation, findUsableInvitation, INVITATION_STATUSES, invitationView, listInvitations, requestInvitation, revokeInvitation } from './service.js';
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

const BulkInvitationRequest = z
  .object({
    csv: z.string().openapi({ description: 'A CSV file (RFC 4180) whose header names display_name, email, employee_id and role; at most 1000 rows', example: 'display_name,email,role\nAnna Nowak,anna.nowak@example.gov,member' }),
    dry_run: z.boolean().openapi({ description: 'true: check every row and write nothing; false: invite every row, or none if any is refused' }),
  })
  .openapi('BulkInvitationRequest');

const BulkInvitationRow = z
  .object({
    line: z.number().int(),
    username: z.string().nullable(),
    status: z.enum(['would_invite', 'invited', 'awaiting_approval', 'refused']),
    error: z.string().optional(),
    error_description: z.string().optional(),
    invitation_id: z.string().optional(),
    link: z.string().optional().openapi({ description: 'The enrollment link, shown once, only in the answer that invited the row' }),
  })
  .openapi('BulkInvitationRow');

const BulkInvitationResult = z
  .object({
    dry_run: z.boolean(),
    applied: z.boolean(),
    counts: z.object({ rows: z.number().int(), would_invite: z.number().int(), invited: z.number().int(), awaiting_approval: z.number().int(), refused: z.number().int() }),
    rows: z.array(BulkInvitationRow),
  })
  .openapi('BulkInvitationResult');

const BulkInvitationRefusal = ErrorBody.extend(BulkInvitationResult.shape).openapi('BulkInvitationRefusal');

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

const bulkInvitationRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/invitations/bulk',
  summary: 'Invite the people a CSV file names: a dry run to check, then all or none',
  request: { body: jsonBody(BulkInvitationRequest) },
  responses: {
    200: jsonResponse('The dry run: what each row would get; nothing written', BulkInvitationResult),
    201: jsonResponse('Every row invited, with its link once (none for a privileged row awaiting a second admin)', BulkInvitationResult),
    ...AUTHORITY_REFUSALS,
    422: jsonResponse('invitation_rows_refused: at least one row is refused, so none was invited; the rows say which and why', BulkInvitationRefusal),
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
  summary: 'The organisation\'s invitations, newest first, a page at a time',
  request: {
    query: z.object({
      status: z.enum(INVITATION_STATUSES).optional(),
      cursor: z.string().max(1000).optional().openapi({ description: 'next_cursor of the previous page' }),
      limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: '1 to 100, default 50' }),
    }),
  },
  responses: { 200: jsonResponse('The invitations and the cursor of the next page (null on the last)', z.object({ invitations: z.array(Invitation), next_cursor: z.string().nullable() })), ...AUTHORITY_REFUSALS },
});

const revokeInvitationRoute = createRoute({
  ...adminOnly,
  method: 'delete',
  path: '/api/admin/invitations/{id}',
  summary: 'Revoke an invitation',
  request: { params: IdParam },
  responses: { 200: jsonResponse('Revoked', Invitation), ...AUTHORITY_REFUSALS, 404: NOT_FOUND },
});

const resendInvitationRoute = createRoute({
  ...adminOnly,
  method: 'post',
  path: '/api/admin/invitations/{id}/resend',
  summary: 'A fresh link for a pending invitation; the old link stops working at once (a privileged invitation: only by its approver)',
  request: { params: IdParam },
  responses: {
    200: jsonResponse('Resent, with its new link', IssuedInvitation),
    ...AUTHORITY_REFUSALS,
    403: jsonResponse('forbidden, reauthentication_required, operator_required, invitation_resend_needs_approver', ErrorBody),
    404: NOT_FOUND,
    409: jsonResponse('invitation_revoked, invitation_used, invitation_expired, invitation_not_approved, invitation_changed', ErrorBody),
  },
});

/**
 * Admin API for invitations, scoped to the admin's own organisation, and the
 * invitee's look-up of their own invitation (the enrollment page calls it).
 */
export function invitationRoutes(deps: Deps) {
  const app = documentedRouter();

  // Every /api/admin/* route is guarded by requireAdminAuthority in app.ts (a passkey re-verified within five minutes, or a token on its terms).
  app.openapi(createInvitationRoute, async (c) => {
    const actor = adminActorOf(c);
    const body = c.req.valid('json');
    const role = (body.role ?? 'member') as Role;
    // A privileged invitation waits for a second admin: a machine cannot be the first of the two either.
    const requester = isPrivileged(role) ? { createdBy: (await requirePerson(deps, auditContext(c), actor, 'invitation.requested')).id } : actor.kind === 'person' ? { createdBy: actor.user.id } : { createdByClient: actor.clientId };
    const issued = await requestInvitation(deps, auditContext(c), {
      organisationId: actor.organisationId,
      displayName: body.display_name,
      email: body.email ?? null,
      employeeId: body.employee_id ?? null,
      role,
      ...(body.ttl_hours === undefined ? {} : { ttlSeconds: body.ttl_hours * 3600 }),
      ...requester,
    });
    // A privileged invitation has no link yet: 202, and the second admin's approval returns it.
    const view = { ...invitationView(issued.invitation, deps.clock.now()), link: issued.link };
    return issued.link ? c.json(view, 201) : c.json(view, 202);
  });

  app.openapi(bulkInvitationRoute, async (c) => {
    const actor = adminActorOf(c);
    const body = c.req.valid('json');
    const rows = parseInvitationCsv(body.csv, { maxBytes: deps.config.http.bodyLimitBytes });
    const inviter = actor.kind === 'person' ? { kind: 'admin' as const, userId: actor.user.id } : { kind: 'client' as const, clientId: actor.clientId };
    const result = await inviteInBulk(deps, auditContext(c), { organisationId: actor.organisationId, actor: inviter, rows, dryRun: body.dry_run });
    if (result.dry_run) return c.json(result, 200);
    if (result.applied) return c.json(result, 201);
    const lines = result.rows.filter((row) => row.status === 'refused').map((row) => row.line);
    return c.json({ error: 'invitation_rows_refused', error_description: `nothing was invited: line${lines.length > 1 ? 's' : ''} ${lines.slice(0, 20).join(', ')}${lines.length > 20 ? ', …' : ''} refused`, ...result }, 422);
  });

  // The approver, not the admin who asked, receives the link: neither alone holds a usable privileged invitation.
  app.openapi(approveInvitationRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!isUuid(id)) throw notFound('invitation_not_found', 'no such invitation');
    const approver = await requirePerson(deps, auditContext(c), adminActorOf(c), 'invitation.approved');
    const approved = await approveInvitation(deps, auditContext(c), { id, approver });
    return c.json({ ...invitationView(approved.invitation, deps.clock.now()), link: approved.link }, 200);
  });

  app.openapi(listInvitationsRoute, async (c) => {
    const now = deps.clock.now();
    const page = await listInvitations(deps.db, now, adminActorOf(c).organisationId, c.req.valid('query'));
    return c.json({ invitations: page.invitations.map((row) => invitationView(row, now)), next_cursor: page.next_cursor }, 200);
  });

  app.openapi(revokeInvitationRoute, async (c) => {
    const { id } = c.req.valid('param');
    if (!isUuid(id)) throw notFound('invitation_not_found', 'no such invitation');
    const revoked = await revokeInvitation(deps, auditContext(c), { id, organisationId: adminActorOf(c).organisationId });
    return c.json(invitationView(revoked, deps.clock.now()), 200);
  });

  // The resender receives the link: for a privileged invitation, only the approver, who held it already.
  app.openapi(resendInvitationRoute, async (c) => {
    const admin = await requirePerson(deps, auditContext(c), adminActorOf(c), 'invitation.resend');
    const resent = await resendInvitation(deps, auditContext(c), { id: c.req.valid('param').id, admin });
    return c.json({ ...invitationView(resent.invitation, deps.clock.now()), link: resent.link }, 200);
  });

  // POST so the token travels in the body, not in a URL that proxies log.
  app.post('/api/invitations/lookup', async (c) => {
    const token = requiredString(await readJsonObject(c), 'token', 128);
    const invitation = await findUsableInvitation(deps.db, deps.clock, token);
    const organisation = await deps.db.selectFrom('organisations').select(['name', 'policy']).where('id', '=', invitation.organisation_id).executeTakeFirstOrThrow();
    // The ways this person may enrol: the page offers each, the passkey first.
    const roles: Role[] = invitation.grants_operator ? [invitation.role, 'operator'] : [invitation.role];
    const methods = methodRefusal('password', resolvePolicy(organisation.policy), roles) ? ['passkey'] : ['passkey', 'password'];
    return c.json({ display_name: invitation.display_name, organisation: organisation.name, role: invitation.role, expires_at: invitation.expires_at.toISOString(), methods });
  });

  return app;
}
