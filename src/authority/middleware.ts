import type { MiddlewareHandler } from 'hono';
import { appendAudit } from '../audit/audit.js';
import type { Role } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';
import { type AppEnv, auditContext } from '../http/context.js';
import { REAUTH_MAX_AGE_SECONDS } from '../sessions/reauth.js';
import { ACR_PHISHING_RESISTANT, authenticatedWithin } from '../sessions/service.js';

/**
 * Session assurances strong enough to act with authority: a passkey. The
 * device-bound tier (`urn:warta:acr:hardware`) is a passkey too, so it counts.
 */
const AUTHORITY_ACRS = new Set([ACR_PHISHING_RESISTANT, 'urn:warta:acr:hardware']);

/**
 * Guard for every act of authority (mounted once over `/api/admin/*`): the
 * role, a passkey session (a phished password and TOTP code are not enough),
 * and that passkey used in the last five minutes (a stolen, idle admin cookie
 * is not enough). Each refusal is audited: someone probing admin routes with a
 * stale or weak session is worth knowing about.
 */
export function requireAuthority(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, role: Role): MiddlewareHandler<AppEnv> {
  return async function requireAuthority(c, next) {
    const session = c.get('session');
    if (!session) throw new WartaError(401, 'login_required', 'sign in first');
    const refusal = !c.get('roles').includes(role)
      ? new WartaError(403, 'forbidden', `this needs the ${role} role`)
      : !AUTHORITY_ACRS.has(session.acr) || !authenticatedWithin(session, deps.clock, REAUTH_MAX_AGE_SECONDS)
        ? new WartaError(403, 'reauthentication_required', 'confirm it is you with one of your passkeys first (within the last five minutes)')
        : undefined;
    if (refusal) {
      await appendAudit(deps.db, deps, auditContext(c), {
        action: 'authority.refused',
        subject: `user:${c.get('user')!.id}`,
        outcome: 'failure',
        details: { role, reason: refusal.code, method: c.req.method, path: c.req.path, acr: session.acr },
      });
      throw refusal;
    }
    await next();
  };
}
