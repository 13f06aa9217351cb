import { Hono } from 'hono';
import type { Role } from '../db/schema.js';
import { type AppEnv, auditContext } from '../http/context.js';
import { WartaError } from '../errors.js';
import { optionalString, readJsonObject, requiredString } from '../http/json-body.js';
import { requireRole } from '../sessions/middleware.js';
import { approveInvitation, findUsableInvitation, invitationView, listInvitations, requestInvitation, revokeInvitation } from './service.js';
import type { Deps } from '../deps.js';

/**
 * Admin API for invitations, scoped to the admin's own organisation, and the
 * invitee's look-up of their own invitation (the enrollment page calls it).
 */
export function invitationRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  // Every /api/admin/* route is guarded by requireAuthority in app.ts (a passkey re-verified within five minutes).
  app.post('/api/admin/invitations', requireRole('admin'), async (c) => {
    const admin = c.get('user')!;
    const body = await readJsonObject(c);
    const ttlHours = body.ttl_hours;
    if (ttlHours !== undefined && (typeof ttlHours !== 'number' || !Number.isInteger(ttlHours))) throw new WartaError(400, 'invalid_request', 'ttl_hours must be a whole number');
    const issued = await requestInvitation(deps, auditContext(c), {
      organisationId: admin.organisation_id,
      displayName: requiredString(body, 'display_name', 200),
      email: optionalString(body, 'email', 254) ?? null,
      employeeId: optionalString(body, 'employee_id', 64) ?? null,
      role: (optionalString(body, 'role', 32) ?? 'member') as Role,
      ...(ttlHours === undefined ? {} : { ttlSeconds: (ttlHours as number) * 3600 }),
      createdBy: admin.id,
    });
    // A privileged invitation has no link yet: 202, and the second admin's approval returns it.
    return c.json({ ...invitationView(issued.invitation, deps.clock.now()), link: issued.link }, issued.link ? 201 : 202);
  });

  // The approver, not the admin who asked, receives the link: neither alone holds a usable privileged invitation.
  app.post('/api/admin/invitations/:id/approve', requireRole('admin'), async (c) => {
    const id = c.req.param('id');
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new WartaError(404, 'invitation_not_found', 'no such invitation');
    const approved = await approveInvitation(deps, auditContext(c), { id, approver: c.get('user')! });
    return c.json({ ...invitationView(approved.invitation, deps.clock.now()), link: approved.link });
  });

  app.get('/api/admin/invitations', requireRole('admin'), async (c) => {
    const rows = await listInvitations(deps.db, c.get('user')!.organisation_id);
    return c.json({ invitations: rows.map((row) => invitationView(row, deps.clock.now())) });
  });

  app.delete('/api/admin/invitations/:id', requireRole('admin'), async (c) => {
    const id = c.req.param('id');
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new WartaError(404, 'invitation_not_found', 'no such invitation');
    const revoked = await revokeInvitation(deps, auditContext(c), { id, organisationId: c.get('user')!.organisation_id });
    return c.json(invitationView(revoked, deps.clock.now()));
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
