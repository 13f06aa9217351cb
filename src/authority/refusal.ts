import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import type { Deps } from '../deps.js';
import { isRefusal } from '../errors.js';

/**
 * Runs an authority-sensitive act; a refusal (4xx) is audited as a failure
 * entry under `action`, then re-thrown. Nothing else was changed: the act's own
 * transaction rolled back, or never began.
 */
export async function auditingAuthorityRefusal<T>(deps: Pick<Deps, 'db'> & AuditWriter, context: AuditContext, attempt: { action: string; subject?: string | null; details?: Record<string, unknown> }, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isRefusal(error)) await appendAudit(deps.db, deps, context, { action: attempt.action, subject: attempt.subject ?? null, outcome: 'failure', details: { ...attempt.details, reason: error.code } });
    throw error;
  }
}
