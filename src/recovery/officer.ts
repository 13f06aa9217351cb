import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Role, Session } from '../db/schema.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { ACR_PHISHING_RESISTANT, acrReaches } from '../sessions/service.js';

/**
 * Why the signed-in person may not use the recovery console, or undefined.
 * Officers hold the `recovery_officer` role and signed in (or last confirmed)
 * with a passkey: a console that hands out account access must not be reachable
 * through a phishable sign-in.
 */
export function officerRefusal(signedIn: { session: Session | undefined; roles: readonly Role[] }): WartaError | undefined {
  const { session } = signedIn;
  if (!session) return new WartaError(401, 'login_required', 'sign in first');
  if (!signedIn.roles.includes('recovery_officer')) return new WartaError(403, 'forbidden', 'this needs the recovery_officer role');
  if (!acrReaches(session.acr, ACR_PHISHING_RESISTANT)) return new WartaError(403, 'phishing_resistant_required', 'recovery officers must sign in with a passkey; confirm with yours');
  return undefined;
}

/** Audits a signed-in person's refused attempt to use the console (someone probing for it is worth knowing about). */
export async function auditOfficerRefusal(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, attempt: { userId: string; path: string }, refusal: WartaError): Promise<void> {
  await appendAudit(deps.db, deps, context, { action: 'recovery.refused', subject: `user:${attempt.userId}`, outcome: 'failure', details: { attempted: 'console', reason: refusal.code, path: attempt.path } });
}
