/**
 * Disabling a person: in one transaction their status becomes `disabled`, every
 * live session ends, every OIDC grant is revoked (so each refresh token, and
 * each access token at introspection and userinfo), clients signed in through
 * those sessions are queued back-channel logouts, and `account_disabled` is
 * raised (a SET to the organisation's receivers). Nothing of it comes back on
 * enable. One admin may disable even a privileged person: a disable only takes
 * power away.
 */
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { auditingAuthorityRefusal } from '../authority/refusal.js';
import type { Database } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { conflict } from '../errors.js';
import { announceToAdmins } from '../events/announce.js';
import { raiseSecurityEvent } from '../events/raise.js';
import { incidentReason } from '../incident/reason.js';
import { endOldSessions, type EndedAtRecovery } from '../recovery/revoke.js';
import { actorName, assertNotLastAdmin, lockTarget, type PeopleActor, personSubject, type Target } from '../authority/people.js';

export type PeopleDeps = Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>;

export interface PersonAct {
  actor: PeopleActor;
  personId: string;
  reason: unknown;
}

export interface DisabledPerson extends EndedAtRecovery {
  id: string;
  username: string;
  status: 'disabled' | 'offboarded';
  reason: string;
}

/** Runs a person act in its transaction; a refusal is audited under `action` (outcome failure) and nothing changed. */
export function personAct<T>(deps: PeopleDeps, context: AuditContext, action: string, input: PersonAct, act: (trx: Transaction<Database>, reason: string) => Promise<T>): Promise<T> {
  return auditingAuthorityRefusal(deps, context, { action, subject: personSubject(input.personId) }, () =>
    deps.db.transaction().execute(async (trx) => act(trx, incidentReason(input.reason))),
  );
}

/** The disabling part, shared with offboarding: status, sessions, grants, back-channel logouts, the event. */
export async function takeAccessAway(trx: Transaction<Database>, deps: PeopleDeps, actor: PeopleActor, target: Target, status: 'disabled' | 'offboarded', reason: string): Promise<EndedAtRecovery> {
  const now = deps.clock.now();
  await trx
    .updateTable('users')
    .set({ status, disabled_at: now, disabled_by: actorName(actor), disabled_reason: reason, updated_at: now })
    .where('id', '=', target.person.id)
    .execute();
  const ended = await endOldSessions(trx, deps.clock, target.person.id, `account_${status}`);
  if (target.person.status === 'active')
    await raiseSecurityEvent(trx, deps.clock, { type: 'account_disabled', userId: target.person.id, organisationId: target.person.organisation_id, details: {}, initiatingEntity: 'admin' });
  // One admin may take power away alone (re-enabling it is the operator's); the organisation's other admins see it on their banner.
  const privileged = target.roles.filter((role) => role !== 'member');
  if (privileged.length) await announceToAdmins(trx, deps.clock, target.person.organisation_id, { type: 'organisation_changed', details: { change: 'privileged_person_removed', personName: target.person.display_name, roles: privileged, status, changedBy: await actorDisplayName(trx, actor) } });
  return ended;
}

export function disablePerson(deps: PeopleDeps, context: AuditContext, input: PersonAct): Promise<DisabledPerson> {
  return personAct(deps, context, 'person.disabled', input, async (trx, reason) => {
    const target = await lockTarget(trx, input.actor, input.personId);
    if (target.person.status !== 'active') throw conflict('person_not_active', `this person is already ${target.person.status}`);
    await assertNotLastAdmin(trx, target);
    const ended = await takeAccessAway(trx, deps, input.actor, target, 'disabled', reason);
    await appendAudit(trx, deps, context, {
      action: 'person.disabled',
      subject: `user:${target.person.id}`,
      details: { organisation_id: target.person.organisation_id, username: target.person.username, roles: target.roles, reason, ...ended },
    });
    return { id: target.person.id, username: target.person.username, status: 'disabled' as const, reason, ...ended };
  });
}

/** The acting admin's name as the banner shows it, or null for the operator. */
export async function actorDisplayName(trx: Transaction<Database>, actor: PeopleActor): Promise<string | null> {
  if (actor.kind === 'cli') return null;
  if (actor.kind === 'client') return `client ${actor.clientId}`;
  return (await trx.selectFrom('users').select('display_name').where('id', '=', actor.userId).executeTakeFirstOrThrow()).display_name;
}
