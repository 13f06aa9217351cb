import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../deps.js';
import { requirePerson } from '../authority/person-required.js';
import { adminActorOf, auditContext } from '../http/context.js';
import { AUTHORITY_REFUSALS, documentedRouter, jsonBody, jsonResponse, UNSUPPORTED_MEDIA_TYPE } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { previewPolicyChange, setPolicy, showOrganisation } from './policy-admin.js';
import { PolicySchema } from './policy-check.js';

/**
 * The admin's own organisation: read it, preview a policy change, make it.
 * There is no organisation id in the paths: an admin only ever reaches the
 * organisation of their session. E-mail domains stay the operator's (warta org email-domains).
 */
const statusCounts = z.object({ active: z.number(), disabled: z.number(), offboarded: z.number() });
const Organisation = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.string().openapi({ description: 'fingerprint of the stored policy; send it back as expected_version' }),
    policy: PolicySchema,
    defaulted: z.array(z.string()).openapi({ description: 'members not set for this organisation, which follow the defaults' }),
    email_domains: z.array(z.string()),
    people: z.object({ total: z.number(), by_status: statusCounts, by_role: z.record(z.string(), statusCounts) }),
  })
  .openapi('Organisation');

const group = z.object({ count: z.number(), people: z.array(z.object({ id: z.string(), display_name: z.string(), username: z.string(), roles: z.array(z.string()) })) });
const Preview = z
  .object({
    version: z.string(),
    proposed: z.record(z.string(), z.unknown()).openapi({ description: 'the policy as it would be stored' }),
    policy: PolicySchema,
    changes: z.array(z.object({ member: z.string(), before: z.unknown(), after: z.unknown() })),
    lose_every_sign_in: group.openapi({ description: 'active people who could sign in and could not after the change (first 20 named)' }),
    lose_password_sign_in: group.openapi({ description: 'active people whose password with TOTP stops working but who keep a passkey' }),
    admins_locked_out: group.openapi({ description: 'active admins among lose_every_sign_in; setting the policy is refused while any' }),
    clients_not_fapi2: z
      .object({ count: z.number(), clients: z.array(z.object({ client_id: z.string(), client_name: z.string(), problems: z.array(z.string()) })) })
      .openapi({ description: 'when the change raises clientSecurityProfile to fapi2: the clients that could not work under it (first 20 named); setting the policy is refused while any' }),
  })
  .openapi('PolicyPreview');

const proposedPolicy = z.record(z.string(), z.unknown()).openapi({ description: 'the whole proposed policy; members left out follow the defaults' });
const INVALID_POLICY = jsonResponse('invalid_policy: names the member at fault (or invalid_request)', z.object({ error: z.string(), error_description: z.string() }));

const showRoute = createRoute({
  method: 'get',
  path: '/api/admin/organisation',
  summary: 'Your organisation: its policy (defaults marked), e-mail domains, and people by role and status',
  responses: { 200: jsonResponse('The organisation', Organisation), ...AUTHORITY_REFUSALS },
});

const previewRoute = createRoute({
  method: 'post',
  path: '/api/admin/organisation/policy/preview',
  summary: 'What a proposed policy would change and for whom; changes nothing',
  request: { body: jsonBody(z.object({ policy: proposedPolicy })) },
  responses: { 200: jsonResponse('The preview', Preview), ...AUTHORITY_REFUSALS, 400: INVALID_POLICY, 415: UNSUPPORTED_MEDIA_TYPE },
});

const setRoute = createRoute({
  method: 'put',
  path: '/api/admin/organisation/policy',
  summary: "Replace your organisation's policy (audited, announced to its admins)",
  request: {
    body: jsonBody(z.object({ policy: proposedPolicy, expected_version: z.string().min(1).max(64).openapi({ description: 'the version GET or preview returned' }) })),
  },
  responses: {
    200: jsonResponse('The policy as set, with its new version', Preview),
    ...AUTHORITY_REFUSALS,
    400: INVALID_POLICY,
    409: jsonResponse('policy_modified (changed since you read it), policy_locks_out_admins, policy_breaks_clients (clients that could not work under fapi2)', z.object({ error: z.string(), error_description: z.string() })),
    415: UNSUPPORTED_MEDIA_TYPE,
  },
});

export function organisationRoutes(deps: Deps) {
  const app = documentedRouter();
  app.use('/api/admin/organisation', requireRole('admin'));
  app.use('/api/admin/organisation/*', requireRole('admin'));
  app.openapi(showRoute, async (c) => c.json(await showOrganisation(deps.db, adminActorOf(c).organisationId), 200));
  app.openapi(previewRoute, async (c) => c.json(await previewPolicyChange(deps.db, adminActorOf(c).organisationId, c.req.valid('json').policy), 200));
  app.openapi(setRoute, async (c) => {
    const user = await requirePerson(deps, auditContext(c), adminActorOf(c), 'organisation.policy_set');
    const body = c.req.valid('json');
    return c.json(await setPolicy(deps, auditContext(c), { organisationId: user.organisation_id, policy: body.policy, expectedVersion: body.expected_version, changedBy: user.display_name || user.username }), 200);
  });
  return app;
}
