import { Hono } from 'hono';
import { jwksRoutes } from './crypto/routes.js';
import type { AppEnv } from './http/context.js';
import { errorResponse } from './http/error-handler.js';
import { MemoisedRouter } from './http/memoised-router.js';
import { requestMetrics } from './http/request-metrics.js';
import { requestLog } from './http/request-log.js';
import { requestId } from './http/request-id.js';
import { bodyLimit } from './http/body-limit.js';
import { wellFormedInput } from './http/well-formed-input.js';
import { healthRoutes } from './health/routes.js';
import { sameOrigin } from './http/same-origin.js';
import { securityHeaders } from './http/security-headers.js';
import { accountRoutes } from './account/routes.js';
import { invitationRoutes } from './invitations/routes.js';
import { clientRoutes } from './clients/routes.js';
import { oidcRoutes } from './oidc/routes.js';
import { authorizationChallengeRoutes } from './first-party/routes.js';
import { eventReceiverRoutes } from './events/routes.js';
import { passwordRoutes } from './passwords/routes.js';
import { totpRoutes } from './totp/routes.js';
import { recoveryPages } from './recovery/pages.js';
import { devicesRoutes } from './devices/routes.js';
import { recoveryRoutes } from './recovery/routes.js';
import { recoveryReportRoutes } from './recovery/report-routes.js';
import type { Deps } from './deps.js';
import { appMessages } from './messages.js';
import { messageCatalogue } from './ui/i18n.js';
import { staticRoutes } from './ui/static.js';
import { loadSession } from './sessions/middleware.js';
import { requireAdminAuthority, requireAuthority } from './authority/middleware.js';
import { adminPages } from './admin/routes.js';
import { webauthnPages } from './webauthn/pages.js';
import { webauthnRoutes } from './webauthn/routes.js';
import { operatorRoutes } from './incident/routes.js';
import { signingKeyRoutes } from './incident/signing-key-routes.js';
import { documentedRouter } from './http/openapi.js';
import { serveAdminApiDocument } from './http/admin-api-document.js';
import { peopleRoutes } from './people/routes.js';
import { groupRoutes } from './groups/routes.js';
import { attributeRoutes } from './attributes/routes.js';
import { roleRoutes } from './people/role-routes.js';
import { changeRequestRoutes } from './change-requests/routes.js';
import { organisationRoutes } from './orgs/routes.js';
import { auditRoutes } from './audit-search/routes.js';
import { setupRoutes } from './setup/routes.js';
import { nativeAppRoutes } from './native-apps/routes.js';
import { scimRoutes } from './scim/routes.js';

/** OAuth endpoints called by clients from other origins; they authenticate by client credentials or tokens, never cookies. */
export const CROSS_ORIGIN_ENDPOINTS = ['/token', '/introspect', '/revoke', '/par', '/authorize-challenge', '/userinfo', '/authorize', '/end_session'];
// '/authorize' and '/end_session' accept cross-site form POSTs by spec (OIDC Core §3.1.2.1, RP-Initiated Logout §2); SameSite=Lax keeps the session cookie off them.

export function createApp(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ router: new MemoisedRouter() });

  app.use(requestId({ limitLength: 64 }));
  app.use(requestMetrics(deps.metrics));
  app.use(requestLog(deps.log, deps.config.http.trustProxy));
  app.use(securityHeaders({ hsts: deps.config.secureCookies }));
  app.use(bodyLimit(deps.config.http.bodyLimitBytes));
  app.use(wellFormedInput());
  app.use(sameOrigin({ origin: deps.config.origin, exempt: CROSS_ORIGIN_ENDPOINTS }));
  app.use(messageCatalogue(appMessages));

  app.route('/', healthRoutes(deps));
  app.route('/', jwksRoutes(deps));
  app.route('/', nativeAppRoutes(deps));
  app.route('/', staticRoutes());
  app.route('/', oidcRoutes(deps));
  app.route('/', authorizationChallengeRoutes(deps, deps.clients));
  // SCIM (RFC 7644): a directory's access token, never a cookie session.
  app.route('/', scimRoutes(deps));

  // Schema-declared routers mounted here merge their definitions into the admin API document.
  const authenticated = documentedRouter();
  authenticated.use(loadSession(deps));
  // Every admin act, whichever router defines it: a passkey session re-verified in the last five minutes (issue 11),
  // or a DPoP-bound access token on the same terms with the route's area scope (issue 13).
  authenticated.use('/api/admin/*', requireAdminAuthority(deps));
  // Incident response: the operator role, on the same terms.
  authenticated.use('/api/operator/*', requireAuthority(deps, 'operator'));
  const capabilities = [invitationRoutes, clientRoutes, eventReceiverRoutes, webauthnRoutes, webauthnPages, accountRoutes, devicesRoutes, passwordRoutes, totpRoutes, recoveryRoutes, recoveryPages, operatorRoutes, peopleRoutes, groupRoutes, attributeRoutes, organisationRoutes, roleRoutes, changeRequestRoutes, auditRoutes, signingKeyRoutes, recoveryReportRoutes, adminPages, setupRoutes];
  for (const routes of capabilities) authenticated.route('/', routes(deps));
  serveAdminApiDocument(authenticated, deps);
  app.route('/', authenticated);

  app.notFound((c) => c.json({ error: 'not_found', error_description: 'no such endpoint' }, 404));
  app.onError((error, c) => errorResponse(c, deps, error));
  return app;
}
