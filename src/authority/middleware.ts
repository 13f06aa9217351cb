import type { MiddlewareHandler } from 'hono';
import { appendAudit } from '../audit/audit.js';
import type { Role, Session } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';
import { type AppContext, type AppEnv, auditContext } from '../http/context.js';
import { REAUTH_MAX_AGE_SECONDS } from '../sessions/reauth.js';
import { authenticatedWithin } from '../sessions/service.js';
import { readAccessToken, readDpopProof } from '../http/authorization.js';
import { readClientCertificate } from '../http/client-certificate.js';
import { authenticateAdminToken, AUTHORITY_ACRS } from './admin-token.js';

/** Why this session may not act with `role`'s authority now (the role, a passkey, used in the last five minutes), or undefined. */
function authorityShortfall(deps: Pick<Deps, 'clock'>, held: { session: Session; roles: readonly Role[] }, role: Role): WartaError | undefined {
  if (!held.roles.includes(role)) return new WartaError(403, 'forbidden', `this needs the ${role} role`);
  if (!AUTHORITY_ACRS.has(held.session.acr) || !authenticatedWithin(held.session, deps.clock, REAUTH_MAX_AGE_SECONDS)) {
    return new WartaError(403, 'reauthentication_required', 'confirm it is you with one of your passkeys first (within the last five minutes)');
  }
  return undefined;
}

/**
 * Guard for every act of authority (mounted once over `/api/admin/*`): the
 * role, a passkey session (a phished password and TOTP code are not enough),
 * and that passkey used in the last five minutes (a stolen, idle admin cookie
 * is not enough). Each refusal is audited: someone probing admin routes with a
 * stale or weak session is worth knowing about.
 */
export function requireAuthority(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, role: Role): MiddlewareHandler<AppEnv> {
  return async function requireAuthority(c, next) {
    const refusal = await authorityRefusal(deps, c, role);
    if (refusal) throw refusal;
    await next();
  };
}

/** The request's refusal under requireAuthority's rule (audited as `authority.refused`), or undefined: for pages that answer it with a page instead of an error. */
export async function authorityRefusal(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, c: AppContext, role: Role): Promise<WartaError | undefined> {
  const session = c.get('session');
  if (!session) throw new WartaError(401, 'login_required', 'sign in first');
  const refusal = authorityShortfall(deps, { session, roles: c.get('roles') }, role);
  if (refusal) {
    await appendAudit(deps.db, deps, auditContext(c), {
      action: 'authority.refused',
      subject: `user:${c.get('user')!.id}`,
      outcome: 'failure',
      details: { role, reason: refusal.code, method: c.req.method, path: c.req.path, acr: session.acr },
    });
  }
  return refusal;
}

/**
 * Guard of `/api/admin/*`: the console's passkey session (requireAuthority), or,
 * when the request carries an Authorization header, an access token on the same
 * terms (./admin-token.ts). Either way it records who acts (`adminActorOf`), and
 * a token request never falls back to the session cookie beside it.
 */
export function requireAdminAuthority(deps: Deps): MiddlewareHandler<AppEnv> {
  const sessionGuard = requireAuthority(deps, 'admin');
  return async function requireAdminAuthority(c, next) {
    if (c.req.header('authorization') === undefined)
      return sessionGuard(c, async () => {
        const user = c.get('user')!;
        c.set('adminActor', { kind: 'person', user, organisationId: user.organisation_id, session: c.get('session') });
        await next();
      });
    const { actor, roles } = await authenticateAdminToken(deps, auditContext(c), { accessToken: readAccessToken(c), dpop: readDpopProof(c), path: c.req.path, method: c.req.method, certificate: readClientCertificate(c, deps.config.http) });
    c.set('session', undefined);
    c.set('user', actor.kind === 'person' ? actor.user : undefined);
    c.set('roles', roles);
    c.set('privilegeHold', undefined);
    c.set('adminActor', actor);
    await next();
  };
}
