/**
 * The post-recovery cooldown on privileged actions (issue 11). A recovery hands
 * an account to whoever convinced two officers at a desk; if that was an
 * impostor, the account must not be able to act as an admin or an officer
 * (invite, grant roles, add clients, approve other recoveries) before the real
 * owner, every old device and every relying service have heard of it. So for
 * `recovery.privilegeCooldownSeconds` after a completed recovery every
 * role-guarded action is refused, whatever the account's roles.
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { addSeconds } from '../clock.js';
import type { User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../deps.js';

/** Until when the user's privileges are held, or undefined when they are not. */
export function privilegesHeldUntil(deps: Pick<Deps, 'clock' | 'config'>, user: Pick<User, 'recovered_at'>): Date | undefined {
  if (!user.recovered_at) return undefined;
  const until = addSeconds(user.recovered_at, deps.config.recovery.privilegeCooldownSeconds);
  return until > deps.clock.now() ? until : undefined;
}

export const privilegesHeld = (until: Date) =>
  new WartaError(403, 'recovery_cooldown', `this account was recovered recently; admin and officer actions are possible again from ${until.toISOString()}`);

/** Audits the refused attempt (who, which path, until when) and returns the refusal. */
export async function refusePrivilegedAction(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, attempt: { userId: string; path: string; until: Date }): Promise<WartaError> {
  await appendAudit(deps.db, deps, context, {
    action: 'recovery.privilege_refused',
    subject: `user:${attempt.userId}`,
    outcome: 'failure',
    details: { reason: 'recovery_cooldown', path: attempt.path, until: attempt.until.toISOString() },
  });
  return privilegesHeld(attempt.until);
}
