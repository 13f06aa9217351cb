/**
 * Changing an existing person's roles. Giving a privileged role takes two
 * people: an admin's grant opens a request that a different admin approves
 * (src/people/role-requests.ts); the operator's CLI grants at once, and only it
 * grants `operator`. Taking a role away removes power, so one admin may do it
 * alone, as with a disable; it is announced to the organisation's other admins
 * and sent to relying services as `role_revoked`. It takes effect on the next
 * request: the session middleware reads roles afresh every time.
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { announceRoleGrant } from '../authority/role-grant.js';
import { type Role, ROLES } from '../db/schema.js';
import { conflict, WartaError } from '../errors.js';
import { announceToAdmins } from '../events/announce.js';
import { raiseSecurityEvent } from '../events/raise.js';
import { actorName, assertNotLastAdmin, lockTarget, type PeopleActor } from '../authority/people.js';
import { actorDisplayName, type PeopleDeps, type PersonAct, personAct } from './disable.js';
import { openRoleRequest, type RoleRequestView, roleRequestView } from './role-requests.js';

export interface RoleChange extends PersonAct {
  role: unknown;
}

export type GrantedRole =
  | { id: string; username: string; role: Role; status: 'granted'; roles: Role[] }
  | { id: string; username: string; role: Role; status: 'awaiting_approval'; request: RoleRequestView };

export interface RevokedRole {
  id: string;
  username: string;
  role: Role;
  status: 'revoked';
  roles: Role[];
  reason: string;
}

/** The role named, checked against what the actor may change. */
function changeableRole(actor: PeopleActor, raw: unknown): Exclude<Role, 'member'> {
  if (typeof raw !== 'string' || !(ROLES as readonly string[]).includes(raw)) throw new WartaError(400, 'invalid_role', `role must be one of ${ROLES.join(', ')}`);
  const role = raw as Role;
  if (role === 'member') throw new WartaError(400, 'invalid_role', 'every person is a member; grant or revoke recovery_officer or admin');
  // The instance's own role: never an organisation's admins', one or two.
  if (role === 'operator' && actor.kind !== 'cli') throw new WartaError(403, 'operator_required', "the operator role is the instance operator's to give or take (warta user set-role)");
  return role;
}

export function grantRole(deps: PeopleDeps, context: AuditContext, input: RoleChange): Promise<GrantedRole> {
  return personAct(deps, context, 'role.granted', input, async (trx, reason) => {
    const target = await lockTarget(trx, input.actor, input.personId);
    const role = changeableRole(input.actor, input.role);
    if (target.person.status !== 'active') throw conflict('person_not_active', `this person is ${target.person.status}`);
    if (target.roles.includes(role)) throw conflict('role_already_held', `this person already holds ${role}`);
    const person = { id: target.person.id, username: target.person.username, role };
    if (input.actor.kind === 'admin') {
      // changeableRole let only recovery_officer and admin through for an admin.
      const request = await openRoleRequest(trx, deps, context, { requestedBy: input.actor.userId, target, kind: 'grant', role: role as 'recovery_officer' | 'admin', reason });
      return { ...person, status: 'awaiting_approval' as const, request: roleRequestView(request) };
    }
    await trx.insertInto('user_roles').values({ user_id: target.person.id, role, granted_at: deps.clock.now() }).execute();
    await announceRoleGrant(trx, deps, context, { user: target.person, role, grantedBy: actorName(input.actor) });
    return { ...person, status: 'granted' as const, roles: [...target.roles, role].sort() };
  });
}

export function revokeRole(deps: PeopleDeps, context: AuditContext, input: RoleChange): Promise<RevokedRole> {
  return personAct(deps, context, 'role.revoked', input, async (trx, reason) => {
    // The person first: another organisation's admin learns nothing, not even whether the role name is valid.
    const target = await lockTarget(trx, input.actor, input.personId);
    const role = changeableRole(input.actor, input.role);
    if (!target.roles.includes(role)) throw conflict('role_not_held', `this person does not hold ${role}`);
    if (role === 'admin') await assertNotLastAdmin(trx, target);
    await trx.deleteFrom('user_roles').where('user_id', '=', target.person.id).where('role', '=', role).execute();
    let roles = target.roles.filter((held) => held !== role);
    if (roles.length === 0) {
      await trx.insertInto('user_roles').values({ user_id: target.person.id, role: 'member', granted_at: deps.clock.now() }).execute();
      roles = ['member'];
    }
    const { person } = target;
    const revokedBy = actorName(input.actor);
    await raiseSecurityEvent(trx, deps.clock, { type: 'role_revoked', userId: person.id, organisationId: person.organisation_id, details: { role, revokedBy, displayName: person.display_name }, initiatingEntity: 'admin' });
    // One admin may take power away alone; the organisation's other admins see it on their banner.
    await announceToAdmins(trx, deps.clock, person.organisation_id, { type: 'organisation_changed', details: { change: 'role_revoked', personName: person.display_name, role, changedBy: await actorDisplayName(trx, input.actor) } });
    await appendAudit(trx, deps, context, {
      action: 'role.revoked',
      subject: `user:${person.id}`,
      details: { organisation_id: person.organisation_id, username: person.username, role, roles, reason, revoked_by: revokedBy },
    });
    return { id: person.id, username: person.username, role, status: 'revoked' as const, roles: roles.sort(), reason };
  });
}
