/**
 * Enabling a disabled person: the status only. Sessions, grants and tokens the
 * disable ended stay ended; the person signs in afresh. Giving power back to a
 * person holding a privileged role takes two people: an admin's enable only
 * opens a request that a different admin approves (src/people/approve-request.ts),
 * so one admin cannot bring back an admin another one took out. The operator's
 * CLI enables at once, and is the only way back for a person holding `operator`.
 */
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { isPrivileged } from '../authority/role-grant.js';
import type { Database } from '../db/schema.js';
import { conflict, WartaError } from '../errors.js';
import { raiseSecurityEvent } from '../events/raise.js';
import { lockTarget, type Target } from '../authority/people.js';
import { type PeopleDeps, type PersonAct, personAct } from './disable.js';
import { openRoleRequest, type RoleRequestView, roleRequestView } from './role-requests.js';

export interface EnabledPerson {
  id: string;
  username: string;
  status: 'active';
  reason: string;
}

export interface EnableAwaitingApproval {
  id: string;
  username: string;
  status: 'awaiting_approval';
  request: RoleRequestView;
}

/** Refuses a person who cannot be enabled as they are now. */
export function assertEnableable(target: Target): void {
  if (target.person.status === 'offboarded') throw conflict('person_offboarded', 'this person was offboarded: they left for good and cannot be enabled');
  if (target.person.status !== 'disabled') throw conflict('person_not_disabled', 'this person is not disabled');
}

/** The enabling itself, in the caller's transaction: status, `account_enabled`, the audit entry (with the second admin, when there was one). */
export async function restoreAccess(trx: Transaction<Database>, deps: PeopleDeps, context: AuditContext, target: Target, reason: string, approval: { requestedBy: string; approvedBy: string } | null = null): Promise<EnabledPerson> {
  assertEnableable(target);
  await trx.updateTable('users').set({ status: 'active', updated_at: deps.clock.now() }).where('id', '=', target.person.id).execute();
  await raiseSecurityEvent(trx, deps.clock, { type: 'account_enabled', userId: target.person.id, organisationId: target.person.organisation_id, details: {}, initiatingEntity: 'admin' });
  await appendAudit(trx, deps, context, {
    action: 'person.enabled',
    subject: `user:${target.person.id}`,
    details: { organisation_id: target.person.organisation_id, username: target.person.username, roles: target.roles, reason, disabled_reason: target.person.disabled_reason, ...(approval ? { requested_by: approval.requestedBy, approved_by: approval.approvedBy } : {}) },
  });
  return { id: target.person.id, username: target.person.username, status: 'active' as const, reason };
}

export function enablePerson(deps: PeopleDeps, context: AuditContext, input: PersonAct): Promise<EnabledPerson | EnableAwaitingApproval> {
  return personAct(deps, context, 'person.enabled', input, async (trx, reason) => {
    const target = await lockTarget(trx, input.actor, input.personId);
    assertEnableable(target);
    // The operator role is the instance's, not the organisation's: no pair of admins gives it back.
    if (input.actor.kind === 'admin' && target.roles.includes('operator')) throw new WartaError(403, 'operator_required', "this person holds the operator role: re-enabling them is the operator's (warta user enable)");
    if (input.actor.kind === 'admin' && target.roles.some(isPrivileged)) {
      const request = await openRoleRequest(trx, deps, context, { requestedBy: input.actor.userId, target, kind: 'enable', role: null, reason });
      return { id: target.person.id, username: target.person.username, status: 'awaiting_approval' as const, request: roleRequestView(request) };
    }
    return restoreAccess(trx, deps, context, target, reason);
  });
}
