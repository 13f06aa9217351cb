import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import type { Session, User } from '../db/schema.js';
import type { AdminActor } from '../http/context.js';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';

/**
 * The acting admin person, or a refusal for an admin client: acts that complete
 * or stand in for a second person (approving another admin's privileged
 * invitation, co-approving a recovery, the organisation's sign-in policy) need a
 * person. A machine credential holds no one's judgement, and one admin who
 * controls a machine must not be their own second admin. The refusal is audited.
 */
export async function requirePerson(deps: Pick<Deps, 'db'> & AuditWriter, context: AuditContext, actor: AdminActor, act: string): Promise<User> {
  if (actor.kind === 'person') return actor.user;
  await appendAudit(deps.db, deps, context, { action: 'authority.refused', subject: `client:${actor.clientId}`, outcome: 'failure', details: { role: 'admin', reason: 'person_required', act } });
  throw new WartaError(403, 'person_required', 'an admin person must do this, not an admin client');
}

/**
 * The acting admin and their console session, for an act that checks the
 * passkey of the very session giving it (recovery co-approval): an access
 * token, a person's or a client's, is refused and the refusal audited.
 */
export async function requireConsoleSession(deps: Pick<Deps, 'db'> & AuditWriter, context: AuditContext, actor: AdminActor, act: string): Promise<{ user: User; session: Session }> {
  const user = await requirePerson(deps, context, actor, act);
  if (actor.kind === 'person' && actor.session) return { user, session: actor.session };
  await appendAudit(deps.db, deps, context, { action: 'authority.refused', subject: `user:${user.id}`, outcome: 'failure', details: { role: 'admin', reason: 'session_required', act } });
  throw new WartaError(403, 'session_required', 'do this in the console, with your passkey');
}
