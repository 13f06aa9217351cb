/**
 * A second admin approves a pending role request (src/people/role-requests.ts)
 * and the change takes effect in the same transaction: the role is granted and
 * announced (role_granted), or the disabled person is enabled. The approver is
 * never the admin who asked nor the person the request is about (here and in a
 * CHECK constraint), must still be an admin of the organisation, and the admin
 * who asked must still be one too. One conditional UPDATE claims the request,
 * under the organisation's lock: of two approvals at once, exactly one wins.
 */
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { auditingAuthorityRefusal } from '../authority/refusal.js';
import { announceRoleGrant } from '../authority/role-grant.js';
import type { Database, RoleRequest } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { conflict, notFound, WartaError } from '../errors.js';
import { actorName, lockTarget, type PeopleActor, type Target } from '../authority/people.js';
import type { PeopleDeps } from './disable.js';
import { restoreAccess } from './enable.js';
import { type RoleRequestView, roleRequestView } from './role-requests.js';

export interface ApprovedRoleRequest {
  request: RoleRequestView;
  person: { id: string; username: string; status: string; roles: string[] };
}

const requestNotFound = () => notFound('role_request_not_found', 'no such role request in your organisation');

export function approveRoleRequest(deps: PeopleDeps, context: AuditContext, input: { approver: PeopleActor; requestId: string }): Promise<ApprovedRoleRequest> {
  return auditingAuthorityRefusal(deps, context, { action: 'role_request.approval_refused', subject: isUuid(input.requestId) ? `role_request:${input.requestId}` : null }, () =>
    deps.db.transaction().execute(async (trx) => {
      const { approver } = input;
      if (!isUuid(input.requestId)) throw requestNotFound();
      const found = await trx.selectFrom('role_requests').selectAll().where('id', '=', input.requestId).executeTakeFirst();
      if (!found || (approver.kind === 'admin' && found.organisation_id !== (await organisationOf(trx, approver.userId)))) throw requestNotFound();
      if (approver.kind === 'admin' && found.requested_by === approver.userId) throw new WartaError(403, 'role_request_self_approval', 'a different admin must approve a change you asked for');
      if (approver.kind === 'admin' && found.user_id === approver.userId) throw new WartaError(403, 'role_request_about_self', 'you cannot approve a change to your own account; ask another admin');
      // Locks the organisation and re-checks the approver is still its active admin.
      const target = await lockTarget(trx, approver, found.user_id);
      const now = deps.clock.now();
      let claim = trx
        .updateTable('role_requests')
        .set({ status: 'approved', decided_by: approver.kind === 'admin' ? approver.userId : null, decided_at: now })
        .where('id', '=', found.id)
        .where('status', '=', 'pending')
        .where('expires_at', '>', now);
      if (approver.kind === 'admin') claim = claim.where('requested_by', '<>', approver.userId).where('user_id', '<>', approver.userId);
      const claimed = await claim.returningAll().executeTakeFirst();
      if (!claimed) throw unclaimable(await trx.selectFrom('role_requests').selectAll().where('id', '=', found.id).executeTakeFirstOrThrow(), now);
      // An ask outlives neither the asker's admin role nor their account: a demoted admin's requests die with their power.
      if (approver.kind === 'admin' && !(await isActiveAdmin(trx, claimed.requested_by))) throw conflict('role_request_requester_not_admin', 'the admin who asked is no longer an active admin; ask again yourself');
      const approval = { requestedBy: `user:${claimed.requested_by}`, approvedBy: actorName(approver) };
      const roles = claimed.kind === 'grant' ? await applyGrant(trx, deps, context, target, claimed, approval) : await applyEnable(trx, deps, context, target, claimed, approval);
      await appendAudit(trx, deps, context, {
        action: 'role_request.approved',
        subject: `user:${claimed.user_id}`,
        details: { request_id: claimed.id, organisation_id: claimed.organisation_id, kind: claimed.kind, role: claimed.role, requested_by: approval.requestedBy, approved_by: approval.approvedBy },
      });
      const person = await trx.selectFrom('users').select(['id', 'username', 'status']).where('id', '=', claimed.user_id).executeTakeFirstOrThrow();
      return { request: roleRequestView(claimed), person: { ...person, roles } };
    }),
  );
}

async function applyGrant(trx: Transaction<Database>, deps: PeopleDeps, context: AuditContext, target: Target, request: RoleRequest, approval: { requestedBy: string; approvedBy: string }): Promise<string[]> {
  const role = request.role!;
  if (target.person.status !== 'active') throw conflict('person_not_active', `this person is ${target.person.status}`);
  if (target.roles.includes(role)) throw conflict('role_already_held', `this person already holds ${role}`);
  await trx.insertInto('user_roles').values({ user_id: target.person.id, role, granted_at: deps.clock.now() }).execute();
  await announceRoleGrant(trx, deps, context, { user: target.person, role, grantedBy: approval.requestedBy, approvedBy: approval.approvedBy });
  return [...target.roles, role].sort();
}

async function applyEnable(trx: Transaction<Database>, deps: PeopleDeps, context: AuditContext, target: Target, request: RoleRequest, approval: { requestedBy: string; approvedBy: string }): Promise<string[]> {
  await restoreAccess(trx, deps, context, target, request.reason, approval);
  return target.roles;
}

function unclaimable(request: RoleRequest, now: Date): WartaError {
  if (request.status === 'expired' || (request.status === 'pending' && request.expires_at <= now)) return new WartaError(410, 'role_request_expired', 'this request expired unapproved; ask again');
  return conflict('role_request_not_pending', `this request is already ${request.status}`);
}

async function organisationOf(trx: Transaction<Database>, userId: string): Promise<string | undefined> {
  return (await trx.selectFrom('users').select('organisation_id').where('id', '=', userId).executeTakeFirst())?.organisation_id;
}

export async function isActiveAdmin(trx: Transaction<Database>, userId: string): Promise<boolean> {
  const row = await trx.selectFrom('users as u').innerJoin('user_roles as r', 'r.user_id', 'u.id').select('u.id').where('u.id', '=', userId).where('u.status', '=', 'active').where('r.role', '=', 'admin').executeTakeFirst();
  return row !== undefined;
}
