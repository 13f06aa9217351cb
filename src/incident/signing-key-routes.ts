import { createRoute, z } from '@hono/zod-openapi';
import { listSigningKeys, planSigningKeyRotation } from '../crypto/signing-key-admin.js';
import type { Deps } from '../deps.js';
import { auditContext } from '../http/context.js';
import { AUTHORITY_REFUSALS, documentedRouter, jsonBody, jsonResponse, UNSUPPORTED_MEDIA_TYPE } from '../http/openapi.js';
import { requireRole } from '../sessions/middleware.js';
import { incidentReason } from './reason.js';

/**
 * The operator's signing keys over the API, as `warta keys list` and `warta keys
 * rotate` give them: the list (never key material) and the planned rotation.
 * The emergency rotation is with the other incident acts (routes.ts).
 */
const operatorOnly = { tags: ['Operator'], middleware: requireRole('operator') };

const SigningKey = z
  .object({
    kid: z.string(),
    alg: z.string(),
    state: z.enum(['signing', 'published', 'retiring', 'retired', 'withdrawn']),
    created_at: z.string(),
    active_from: z.string().openapi({ description: 'signs from here' }),
    retire_at: z.string().nullable().openapi({ description: 'unpublished from here; null while it has no successor' }),
    withdrawn_at: z.string().nullable(),
  })
  .openapi('SigningKey');

const PlannedRotation = z
  .object({ kid: z.string(), active_from: z.string(), retiring: z.array(z.object({ kid: z.string(), unpublished_at: z.string() })) })
  .openapi('PlannedRotation');

const RotationBody = z
  .object({ reason: z.unknown().optional().openapi({ type: 'string', description: '1 to 500 printable characters saying why; kept in the audit log', example: 'yearly rotation' }) })
  .openapi('PlannedRotationRequest');

const listRoute = createRoute({
  ...operatorOnly,
  method: 'get',
  path: '/api/operator/signing-keys',
  summary: 'The signing keys: kid, algorithm, state and times (no key material)',
  responses: { 200: jsonResponse('The keys, oldest first', z.object({ keys: z.array(SigningKey) })), ...AUTHORITY_REFUSALS },
});

const rotateRoute = createRoute({
  ...operatorOnly,
  method: 'post',
  path: '/api/operator/signing-keys/rotate',
  summary: 'Planned rotation: publish a new key now, sign with it after WARTA_KEY_CACHE_SECONDS; the old key stays published until its tokens expire (audited)',
  request: { body: jsonBody(RotationBody) },
  responses: { 200: jsonResponse('Rotated', PlannedRotation), ...AUTHORITY_REFUSALS, 415: UNSUPPORTED_MEDIA_TYPE },
});

export function signingKeyRoutes(deps: Deps) {
  const app = documentedRouter();
  app.openapi(listRoute, async (c) => c.json({ keys: await listSigningKeys(deps.db, deps.clock) }, 200));
  app.openapi(rotateRoute, async (c) => c.json(await planSigningKeyRotation(deps, auditContext(c), { reason: incidentReason(c.req.valid('json').reason) }), 200));
  return app;
}
