import type { MiddlewareHandler } from 'hono';
import type { Role } from '../db/schema.js';
import { type AppEnv, auditContext } from '../http/context.js';
import { readSessionCookie } from '../http/session-cookie.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { privilegesHeldUntil, refusePrivilegedAction } from './privilege.js';
import { assertRecentlyAuthenticated } from './reauth.js';
import { resumeSignedIn } from './service.js';

/** Attaches the signed-in user (if any) to the context; never refuses by itself. */
export function loadSession(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'auditEntryKey'>): MiddlewareHandler<AppEnv> {
  return async function loadSession(c, next) {
    c.set('roles', []);
    c.set('privilegeHold', undefined);
    const token = readSessionCookie(c, deps.config.secureCookies);
    const signedIn = token ? await resumeSignedIn(deps, token) : undefined;
    if (signedIn) {
      const { session, user, roles } = signedIn;
      c.set('session', session);
      c.set('user', user);
      c.set('roles', roles);
      const until = privilegesHeldUntil(deps, user);
      if (until) c.set('privilegeHold', { until, refuse: () => refusePrivilegedAction(deps, auditContext(c), { userId: user.id, path: c.req.path, until }) });
    }
    await next();
  };
}

export function requireSession(): MiddlewareHandler<AppEnv> {
  return async function requireSession(c, next) {
    if (!c.get('session')) throw new WartaError(401, 'login_required', 'sign in first');
    await next();
  };
}

/**
 * Every role-guarded route (the admin API, client registration, receivers …)
 * goes through here, so the post-recovery cooldown (./privilege.ts) holds for
 * routes added later too. The officer console checks the same hold in
 * recovery/middleware.ts.
 */
export function requireRole(role: Role): MiddlewareHandler<AppEnv> {
  return async function requireRole(c, next) {
    const adminActor = c.get('adminActor');
    // An admin client: the /api/admin guard has checked its area scope; it holds no role of a person.
    if (adminActor?.kind === 'client') {
      if (role !== 'admin') throw new WartaError(403, 'forbidden', `this needs the ${role} role`);
      return next();
    }
    // A person's access token at /api/admin has no session; the guard loaded the person and their roles.
    if (!c.get('session') && adminActor?.kind !== 'person') throw new WartaError(401, 'login_required', 'sign in first');
    if (!c.get('roles').includes(role)) throw new WartaError(403, 'forbidden', `this needs the ${role} role`);
    const hold = c.get('privilegeHold');
    if (hold) throw await hold.refuse();
    await next();
  };
}

/** API guard: a session whose last sign-in or re-authentication is recent (a stolen, idle session is not enough). */
export function requireRecentAuthentication(deps: Pick<Deps, 'clock'>): MiddlewareHandler<AppEnv> {
  return async function requireRecentAuthentication(c, next) {
    const session = c.get('session');
    if (!session) throw new WartaError(401, 'login_required', 'sign in first');
    assertRecentlyAuthenticated(session, deps.clock);
    await next();
  };
}
