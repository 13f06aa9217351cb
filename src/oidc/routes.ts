/**
 * The OpenID provider's endpoints. The browser-facing ones (authorization, resume,
 * consent, end_session) read the Warta session cookie; the back-channel ones never do.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../http/context.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { loadSession } from '../sessions/middleware.js';
import { authorizationRoutes } from './authorize/routes.js';
import { discoveryRoutes } from './discovery.js';
import { ENDPOINTS } from './endpoints.js';
import { introspectionRoutes } from './introspect.js';
import { endSessionRoutes } from './logout/end-session.js';
import { pushedAuthorizationRoutes } from './par.js';
import { revocationRoutes } from './revoke.js';
import { tokenRoutes } from './token/routes.js';
import { userinfoRoutes } from './userinfo.js';

const BROWSER_PATHS = [ENDPOINTS.authorization, ENDPOINTS.authorizationResume, ENDPOINTS.consent, ENDPOINTS.endSession, ENDPOINTS.endSessionConfirm];

const POST_ONLY_PATHS = [ENDPOINTS.token, ENDPOINTS.introspection, ENDPOINTS.revocation, ENDPOINTS.pushedAuthorization, ENDPOINTS.consent, ENDPOINTS.endSessionConfirm];

export function oidcRoutes(deps: Pick<Deps, 'config' | 'tokens' | 'clients'>) {
  const { tokens, clients } = deps;
  const app = new Hono<AppEnv>();
  for (const path of BROWSER_PATHS) app.use(path, loadSession());
  app.route('/', discoveryRoutes(deps.config));
  app.route('/', authorizationRoutes());
  app.route('/', tokenRoutes(tokens, clients));
  app.route('/', userinfoRoutes(tokens));
  app.route('/', introspectionRoutes(tokens, clients));
  app.route('/', revocationRoutes(tokens, clients));
  app.route('/', pushedAuthorizationRoutes(clients));
  app.route('/', endSessionRoutes(tokens));
  for (const path of POST_ONLY_PATHS)
    app.on(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'], path, () => {
      throw new WartaError(405, 'invalid_request', 'use POST', { headers: { Allow: 'POST' } });
    });
  return app;
}
