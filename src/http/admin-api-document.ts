import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import packageJson from '../../package.json' with { type: 'json' };
import type { Deps } from '../deps.js';
import type { AppEnv } from './context.js';
import { AUTHORITY_REFUSALS } from './openapi.js';
import { sessionCookieName } from './session-cookie.js';

export const ADMIN_API_DOCUMENT_PATH = '/api/admin/openapi.json';

const documentRoute = createRoute({
  method: 'get',
  path: ADMIN_API_DOCUMENT_PATH,
  tags: ['Document'],
  summary: 'This document: the admin API, generated from the schemas that validate its requests',
  responses: { 200: { description: 'The OpenAPI 3.1 document', content: { 'application/json': { schema: z.object({ openapi: z.string() }).passthrough() } } }, ...AUTHORITY_REFUSALS },
});

/**
 * Serves the OpenAPI 3.1 document of every schema-declared route mounted on
 * `app` (routers mounted with `.route()` merge theirs in). It sits under
 * /api/admin/*, so requireAuthority guards it like the routes it describes:
 * the document tells an attacker which acts exist and what they take.
 */
export function serveAdminApiDocument(app: OpenAPIHono<AppEnv>, deps: Pick<Deps, 'config'>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'accessToken', {
    type: 'http',
    scheme: 'DPoP',
    description: "A DPoP-bound access token (RFC 9449) with the scope of the route's area (warta:admin:people, …:invitations, …:clients, …:organisation, …:receivers, …:recovery, …:audit): an admin client's client-credentials token, acting for its organisation, or an admin's own token from a passkey sign-in in the last five minutes. Bearer tokens are refused.",
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: sessionCookieName(deps.config.secureCookies),
    description: 'A browser session from a passkey sign-in, re-verified with a passkey in the last five minutes. Requests that change something also need an Origin header naming this server.',
  });
  app.openapi(documentRoute, (c) =>
    c.json(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: { title: 'Warta admin API', version: packageJson.version, description: 'Acts of authority over one organisation. Every refusal is `{ "error": code, "error_description": text }` with a stable code.' },
        servers: [{ url: deps.config.origin }],
        security: [{ session: [] }, { accessToken: [] }],
        tags: [
          { name: 'Invitations', description: 'Inviting people; a privileged role needs a second admin' },
          { name: 'Clients', description: 'OAuth clients (relying parties) of the organisation' },
          { name: 'Event receivers', description: 'Security Event Token receivers' },
          { name: 'Recovery', description: 'Recovery case reports and co-approval' },
          { name: 'Operator', description: 'Incident response under /api/operator/*: the operator role, not admin, on the same passkey terms' },
          { name: 'Document', description: 'This document' },
        ],
      }),
      200,
    ),
  );
}
