import type { MiddlewareHandler } from 'hono';
import type { Clock } from '../clock.js';
import { assertRecentlyAuthenticated, REAUTH_MAX_AGE_SECONDS } from '../account/reauth.js';
import type { AppContext, AppEnv } from '../http/context.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../runtime.js';
import { authenticatedWithin } from '../sessions/service.js';

/** API guard: a session whose last sign-in or re-authentication is recent (a stolen, idle session is not enough). */
export function requireRecentAuthentication(deps: Pick<Deps, 'clock'>): MiddlewareHandler<AppEnv> {
  return async function requireRecentAuthentication(c, next) {
    const session = c.get('session');
    if (!session) throw new WartaError(401, 'login_required', 'sign in first');
    assertRecentlyAuthenticated(session, deps.clock);
    await next();
  };
}

/** For pages: where to send a browser that is not signed in, or signed in too long ago; undefined when it may stay. */
export function pageGate(c: AppContext, clock: Clock): string | undefined {
  const session = c.get('session');
  const here = encodeURIComponent(c.req.path);
  if (!session) return `/signin?return_to=${here}`;
  if (!authenticatedWithin(session, clock, REAUTH_MAX_AGE_SECONDS)) return `/account/reauth?return_to=${here}`;
  return undefined;
}
