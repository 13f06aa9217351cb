import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Deps } from '../deps.js';
import { recordingRefusal } from '../errors.js';
import type { Attempt } from '../throttle/sign-in.js';

/**
 * Runs a registration step and audits its refusal: every failed registration is
 * a security event (a wrong origin is what a phishing page produces).
 */
export async function auditingRegistrationFailure<T>(deps: Deps, context: AuditContext, subject: string, attempt: Attempt, run: () => Promise<T>): Promise<T> {
  return recordingRefusal(run, (refusal) =>
    appendAudit(deps.db, deps, context, {
      action: 'passkey.registration_failed',
      subject,
      outcome: 'failure',
      details: { reason: refusal.code, ...(attempt.passkeyId ? { passkey_id: attempt.passkeyId } : {}) },
    }),
  );
}
