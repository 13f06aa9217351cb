import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { adminActorOf, auditContext } from '../http/context.js';
import { peopleActorOf } from '../authority/people-actor.js';
import { documentedRouter } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { disablePerson } from './disable.js';
import { enablePerson } from './enable.js';
import { exportPerson } from './export.js';
import { listPeople, MAX_PAGE } from './list.js';
import { offboardPerson } from './offboard.js';
import { viewPerson } from './show.js';

/**
 * Admin API for the people of the admin's own organisation: list, view and
 * export (both audited), disable, enable, offboard. Another organisation's person answers 404 as if
 * absent. Every route sits behind requireAdminAuthority (app.ts): a passkey session
 * re-verified in the last five minutes, or an access token with warta:admin:people
 * (an admin client acts on members only: authority.ts).
 */
const params = z.object({ id: z.string().min(1).max(64).openapi({ description: 'the person’s id' }) });
const reason = z.string().min(1).max(500).openapi({ description: 'why, kept in the audit log' });
const json = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const refusals = {
  400: { description: 'invalid_request, invalid_reason' },
  403: { description: 'forbidden (not an admin), cannot_act_on_self, operator_required, reauthentication_required' },
  404: { description: 'person_not_found: no such person in your organisation' },
  409: { description: 'person_not_active, person_not_disabled, person_offboarded, last_admin' },
};

const list = createRoute({
  method: 'get',
  path: '/api/admin/people',
  summary: "The organisation's people, a page at a time",
  request: {
    query: z.object({
      q: z.string().max(100).optional().openapi({ description: 'part of a name, e-mail or employee id (case-insensitive)' }),
      role: z.enum(['member', 'recovery_officer', 'admin', 'operator']).optional(),
      status: z.enum(['active', 'disabled', 'offboarded']).optional(),
      cursor: z.string().max(500).optional().openapi({ description: 'next_cursor of the previous page' }),
      limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
    }),
  },
  responses: { 200: { description: '{people: [{id, display_name, username, email, employee_id, roles, status, last_sign_in, methods}], next_cursor}' }, 400: refusals[400], 403: refusals[403] },
});

const show = createRoute({
  method: 'get',
  path: '/api/admin/people/{id}',
  summary: 'One person: passkeys, TOTP, devices, sessions, recent sign-ins and security events, recovery cases (audited as person.viewed)',
  request: { params },
  responses: { 200: { description: 'the person' }, 403: refusals[403], 404: refusals[404] },
});

const exportData = createRoute({
  method: 'get',
  path: '/api/admin/people/{id}/export',
  summary: 'Subject-access export: everything held about the person as one JSON document, no secret or hash (audited as person.exported)',
  request: { params },
  responses: { 200: { description: '{format, organisation, profile, passkeys, password, totp, sessions, devices, consents, security_events, recovery_cases, invitations, audit, exported_at, exported_by}' }, 403: refusals[403], 404: refusals[404] },
});

const disable = createRoute({
  method: 'post',
  path: '/api/admin/people/{id}/disable',
  summary: 'Disable: every session, grant, refresh and access token ends now; account_disabled is raised',
  request: { params, ...json(z.object({ reason })) },
  responses: { 200: { description: '{id, username, status, reason, sessions, grants, backchannel_logouts}' }, ...refusals },
});

const enable = createRoute({
  method: 'post',
  path: '/api/admin/people/{id}/enable',
  summary: 'Enable a disabled person; for a privileged one this opens a request a second admin approves (POST /api/admin/role-requests/{id}/approve); nothing revoked comes back',
  request: { params, ...json(z.object({ reason })) },
  responses: { 200: { description: '{id, username, status, reason}' }, 202: { description: '{id, username, status: awaiting_approval, request}' }, ...refusals },
});

const offboard = createRoute({
  method: 'post',
  path: '/api/admin/people/{id}/offboard',
  summary: 'Offboard: disable and remove every credential; the username is never re-used',
  request: { params, ...json(z.object({ reason, confirm: z.literal(true) })) },
  responses: { 200: { description: 'what was ended and removed, in counts' }, ...refusals },
});

export function peopleRoutes(deps: Deps) {
  const app = documentedRouter();
  app.use('/api/admin/people', requireRole('admin'));
  app.use('/api/admin/people/*', requireRole('admin'));

  app.openapi(list, async (c) => {
    const query = c.req.valid('query');
    return c.json(await listPeople(deps.db, adminActorOf(c).organisationId, { query: query.q, role: query.role, status: query.status, cursor: query.cursor, limit: query.limit }), 200);
  });
  app.openapi(show, async (c) => c.json(await viewPerson(deps, auditContext(c), { actor: peopleActorOf(c), personId: c.req.valid('param').id }), 200));
  app.openapi(exportData, async (c) => {
    c.header('cache-control', 'no-store');
    return c.json(await exportPerson(deps, auditContext(c), { actor: peopleActorOf(c), personId: c.req.valid('param').id }), 200);
  });
  app.openapi(disable, async (c) => c.json(await disablePerson(deps, auditContext(c), { actor: peopleActorOf(c), personId: c.req.valid('param').id, reason: c.req.valid('json').reason }), 200));
  app.openapi(enable, async (c) => {
    const enabled = await enablePerson(deps, auditContext(c), { actor: peopleActorOf(c), personId: c.req.valid('param').id, reason: c.req.valid('json').reason });
    return enabled.status === 'awaiting_approval' ? c.json(enabled, 202) : c.json(enabled, 200);
  });
  app.openapi(offboard, async (c) => {
    const body = c.req.valid('json');
    return c.json(await offboardPerson(deps, auditContext(c), { actor: peopleActorOf(c), personId: c.req.valid('param').id, reason: body.reason, confirm: body.confirm }), 200);
  });
  return app;
}
