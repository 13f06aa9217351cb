import { type AuditContext } from '../audit/audit.js';
import { auditFailure } from '../audit/anonymous-failures.js';
import { type FailurePolicy, PER_IP_POLICY, recordFailure, SIGN_IN_POLICY } from './counters.js';
import { recordingRefusal, type WartaError } from '../errors.js';
import type { Deps } from '../deps.js';

/**
 * Rate-limit keys shared with the other sign-in methods. A request with no known
 * address (only possible in-process) is counted under one shared key: fail closed.
 */
export const ipKey = (ip: string | null | undefined) => `signin:ip:${ip ?? 'unknown'}`;
export const USER_KEY_PREFIX = 'signin:user:';
export const userKey = (userId: string) => `${USER_KEY_PREFIX}${userId}`;

/** What is known about a failing ceremony by the time it fails; filled in as verification goes. */
export interface Attempt {
  userId?: string;
  /** Warta's id of the stored credential (never the credential ID itself: that identifies the authenticator). */
  passkeyId?: string;
}

/**
 * Runs a sign-in (or re-authentication) step; a refusal is counted against the
 * client's address and, once the credential named an account, against that
 * account, and audited, all in one transaction.
 */
export async function countingSignInFailure<T>(deps: Deps, context: AuditContext, input: { action: string; attempt: Attempt }, run: () => Promise<T>): Promise<T> {
  return recordingRefusal(run, (refusal) => recordSignInFailure(deps, context, input.action, input.attempt, refusal));
}

async function recordSignInFailure(deps: Deps, context: AuditContext, action: string, attempt: Attempt, error: WartaError): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const counted: [string, FailurePolicy][] = [[ipKey(context.ip), PER_IP_POLICY]];
    if (attempt.userId) counted.push([userKey(attempt.userId), SIGN_IN_POLICY]);
    for (const [key, policy] of counted) {
      const outcome = await recordFailure(trx, deps.clock, key, policy);
      if (!outcome.locked) continue;
      const byAddress = key === ipKey(context.ip);
      await auditFailure(trx, deps, context, { action: 'signin.locked', subject: byAddress ? null : `user:${attempt.userId}`, key: 'passkey', details: { key, until: outcome.blockedUntil?.toISOString() } });
      deps.metrics.recordLock(byAddress ? 'address' : 'account');
    }
    // Before the credential named an account (an unknown passkey, a bad origin), an anonymous failure is only counted.
    await auditFailure(trx, deps, context, {
      action,
      subject: attempt.userId ? `user:${attempt.userId}` : null,
      key: `passkey:${error.code}`,
      details: { method: 'passkey', reason: error.code, ...(attempt.passkeyId ? { passkey_id: attempt.passkeyId } : {}) },
    });
  });
  if (action === 'signin.failed') deps.metrics.recordSignIn('passkey', 'failure');
}
