import type { MiddlewareHandler } from 'hono';
import { appendAudit } from '../audit/audit.js';
import { type AppContext, type AppEnv, auditContext } from '../http/context.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../runtime.js';
import { ACR_PHISHING_RESISTANT } from '../sessions/service.js';

/**
 * Why the signed-in person may not use the recovery console, or undefined.
 * Officers hold the `recovery_officer` role and signed in (or last confirmed)
 * with a passkey: a console that hands out account access must not be reachable
 * through a phishable sign-in.
 */
export function officerRefusal(c: AppContext): WartaError | undefined {
  const session = c.get('session');
  if (!session) return new WartaError(401, 'login_required', 'sign in first');
  if (!c.get('roles').includes('recovery_officer')) return new WartaError(403, 'forbidden', 'this needs the recovery_officer role');
  if (session.acr !== ACR_PHISHING_RESISTANT) return new WartaError(403, 'phishing_resistant_required', 'recovery officers must sign in with a passkey; confirm with yours');
  return undefined;
}

/** Audits a signed-in person's refused attempt to use the console (someone probing for it is worth knowing about). */
export async function auditOfficerRefusal(deps: Pick<Deps, 'db' | 'clock'>, c: AppContext, refusal: WartaError): Promise<void> {
  const user = c.get('user');
  if (!user) return;
  await appendAudit(deps.db, deps.clock, auditContext(c), { action: 'recovery.refused', subject: `user:${user.id}`, outcome: 'failure', details: { attempted: 'console', reason: refusal.code, path: c.req.path } });
}

export function requireOfficer(deps: Pick<Deps, 'db' | 'clock'>): MiddlewareHandler<AppEnv> {
  return async function requireOfficer(c, next) {
    const refusal = officerRefusal(c);
    if (refusal) {
      await auditOfficerRefusal(deps, c, refusal);
      throw refusal;
    }
    await next();
  };
}
