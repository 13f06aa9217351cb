import type { MiddlewareHandler } from 'hono';
import type { WartaError } from '../errors.js';
import { type AppContext, type AppEnv, auditContext } from '../http/context.js';
import type { Deps } from '../deps.js';
import { auditOfficerRefusal, officerRefusal } from './officer.js';

/** Why this request's person may not use the recovery console (audited when they are signed in), or undefined. */
export async function consoleRefusal(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, c: AppContext): Promise<WartaError | undefined> {
  const refusal = officerRefusal({ session: c.get('session'), roles: c.get('roles') });
  const user = c.get('user');
  if (refusal && user) await auditOfficerRefusal(deps, auditContext(c), { userId: user.id, path: c.req.path }, refusal);
  // An officer recovered recently acts on no case until the cooldown ends (src/sessions/privilege.ts); the hold audits itself.
  const hold = c.get('privilegeHold');
  if (!refusal && hold) return hold.refuse();
  return refusal;
}

export function requireOfficer(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>): MiddlewareHandler<AppEnv> {
  return async function requireOfficer(c, next) {
    const refusal = await consoleRefusal(deps, c);
    if (refusal) throw refusal;
    await next();
  };
}
