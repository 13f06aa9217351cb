/**
 * Enabling a disabled person: the status only. Sessions, grants and tokens the
 * disable ended stay ended; the person signs in afresh. Giving power back to a
 * person holding a privileged role is the operator's (the `warta` CLI): one admin
 * must not be able to bring back an admin another one took out.
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { isPrivileged } from '../authority/role-grant.js';
import { conflict, WartaError } from '../errors.js';
import { raiseSecurityEvent } from '../events/raise.js';
import { lockTarget } from './authority.js';
import { type PeopleDeps, type PersonAct, personAct } from './disable.js';

export interface EnabledPerson {
  id: string;
  username: string;
  status: 'active';
  reason: string;
}

export function enablePerson(deps: PeopleDeps, context: AuditContext, input: PersonAct): Promise<EnabledPerson> {
  return personAct(deps, context, 'person.enabled', input, async (trx, reason) => {
    const target = await lockTarget(trx, input.actor, input.personId);
    if (target.person.status === 'offboarded') throw conflict('person_offboarded', 'this person was offboarded: they left for good and cannot be enabled');
    if (target.person.status !== 'disabled') throw conflict('person_not_disabled', 'this person is not disabled');
    if (input.actor.kind === 'admin' && target.roles.some(isPrivileged))
      throw new WartaError(403, 'operator_required', `this person holds ${target.roles.filter(isPrivileged).join(', ')}: re-enabling them is the operator's (warta user enable)`);
    await trx.updateTable('users').set({ status: 'active', updated_at: deps.clock.now() }).where('id', '=', target.person.id).execute();
    await raiseSecurityEvent(trx, deps.clock, { type: 'account_enabled', userId: target.person.id, organisationId: target.person.organisation_id, details: {}, initiatingEntity: 'admin' });
    await appendAudit(trx, deps, context, {
      action: 'person.enabled',
      subject: `user:${target.person.id}`,
      details: { organisation_id: target.person.organisation_id, username: target.person.username, roles: target.roles, reason, disabled_reason: target.person.disabled_reason },
    });
    return { id: target.person.id, username: target.person.username, status: 'active' as const, reason };
  });
}
