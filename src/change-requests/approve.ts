/**
 * A second admin approves a pending change request (requests.ts) and the change
 * takes effect in the same transaction, audited with who asked and who approved;
 * or an admin rejects it and nothing changes. The approver is never the admin
 * who asked nor the person the change is about (here and in a CHECK constraint),
 * nor, for a move, anyone in the groups moved (they would gain or lose the new
 * ancestors' membership); they must still be an admin of the organisation, and
 * the admin who asked must still be one too. One conditional UPDATE claims the
 * request, under the organisation's lock: of two approvals at once, exactly one
 * applies the change.
 */
import { sql, type Transaction } from 'kysely';
import { applyAttributeFlag } from '../attributes/flag.js';
import { applyAttributeValue } from '../attributes/service.js';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { auditingAuthorityRefusal } from '../authority/refusal.js';
import type { ChangeRequest, Database } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { conflict, notFound, WartaError } from '../errors.js';
import { applyGroupFlag } from '../groups/flag.js';
import { applyGroupMove } from '../groups/move.js';
import { applyMembership, findGroup } from '../groups/service.js';
import { isActiveAdmin } from '../people/approve-request.js';
import { actorName } from '../authority/people.js';
import { type Approval, type ChangeRequestDeps, type ChangeRequestView, changeRequestView, requestSubject } from '../authority/change-requests.js';

export type ChangeRequestDecider = { kind: 'admin'; userId: string } | { kind: 'cli' };


export interface DecidedChangeRequest {
  request: ChangeRequestView;
  /** What the change made: the group, the membership, the value or the definition as they are now. */
  result?: unknown;
}

const requestNotFound = () => notFound('change_request_not_found', 'no such change request in your organisation');

export function approveChangeRequest(deps: ChangeRequestDeps, context: AuditContext, input: { approver: ChangeRequestDecider; requestId: string }): Promise<DecidedChangeRequest> {
  return auditingAuthorityRefusal(deps, context, { action: 'change_request.approval_refused', subject: isUuid(input.requestId) ? `change_request:${input.requestId}` : null }, () =>
    deps.db.transaction().execute(async (trx) => {
      const { approver } = input;
      const found = await lockRequest(trx, approver, input.requestId);
      if (approver.kind === 'admin') {
        if (found.requested_by === approver.userId) throw new WartaError(403, 'change_request_self_approval', 'a different admin must approve a change you asked for');
        if (found.user_id === approver.userId || (await isCarriedByMove(trx, found, approver.userId))) throw new WartaError(403, 'change_request_about_self', 'you cannot approve a change about yourself; ask another admin');
      }
      const now = deps.clock.now();
      let claim = trx
        .updateTable('change_requests')
        .set({ status: 'approved', decided_by: approver.kind === 'admin' ? approver.userId : null, decided_at: now })
        .where('id', '=', found.id)
        .where('status', '=', 'pending')
        .where('expires_at', '>', now);
      if (approver.kind === 'admin') claim = claim.where('requested_by', '<>', approver.userId).where((eb) => eb.or([eb('user_id', 'is', null), eb('user_id', '<>', approver.userId)]));
      const claimed = await claim.returningAll().executeTakeFirst();
      if (!claimed) throw unclaimable(await trx.selectFrom('change_requests').selectAll().where('id', '=', found.id).executeTakeFirstOrThrow(), now);
      // An ask outlives neither the asker's admin role nor their account: a demoted admin's requests die with their power.
      if (approver.kind === 'admin' && !(await isActiveAdmin(trx, claimed.requested_by))) throw conflict('change_request_requester_not_admin', 'the admin who asked is no longer an active admin; ask again yourself');
      const approval: Approval = { requestId: claimed.id, requestedBy: `user:${claimed.requested_by}`, approvedBy: actorName(approver) };
      const result = await applyChange(trx, deps, context, claimed, approval);
      await appendAudit(trx, deps, context, {
        action: 'change_request.approved',
        subject: requestSubject(claimed),
        details: { request_id: claimed.id, organisation_id: claimed.organisation_id, kind: claimed.kind, requested_by: approval.requestedBy, approved_by: approval.approvedBy },
      });
      return { request: changeRequestView(claimed, await attributeName(trx, claimed)), result };
    }),
  );
}

/** Closes a pending request unapplied. Any admin of the organisation may (the one who asked withdraws it), but not the person it is about. */
export function rejectChangeRequest(deps: ChangeRequestDeps, context: AuditContext, input: { decider: ChangeRequestDecider; requestId: string }): Promise<DecidedChangeRequest> {
  return auditingAuthorityRefusal(deps, context, { action: 'change_request.rejection_refused', subject: isUuid(input.requestId) ? `change_request:${input.requestId}` : null }, () =>
    deps.db.transaction().execute(async (trx) => {
      const { decider } = input;
      const found = await lockRequest(trx, decider, input.requestId);
      if (decider.kind === 'admin' && found.user_id === decider.userId && found.requested_by !== decider.userId)
        throw new WartaError(403, 'change_request_about_self', 'you cannot decide a change about yourself; ask another admin');
      const now = deps.clock.now();
      const rejected = await trx
        .updateTable('change_requests')
        .set({ status: 'rejected', decided_by: decider.kind === 'admin' ? decider.userId : null, decided_at: now })
        .where('id', '=', found.id)
        .where('status', '=', 'pending')
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst();
      if (!rejected) throw unclaimable(await trx.selectFrom('change_requests').selectAll().where('id', '=', found.id).executeTakeFirstOrThrow(), now);
      await appendAudit(trx, deps, context, {
        action: 'change_request.rejected',
        subject: requestSubject(rejected),
        details: { request_id: rejected.id, organisation_id: rejected.organisation_id, kind: rejected.kind, requested_by: `user:${rejected.requested_by}`, rejected_by: actorName(decider) },
      });
      return { request: changeRequestView(rejected, await attributeName(trx, rejected)) };
    }),
  );
}

/**
 * The request, after locking its organisation: another organisation's request is
 * 404, as if absent, and the admin deciding is re-checked under the lock to be an
 * active admin of it.
 */
async function lockRequest(trx: Transaction<Database>, decider: ChangeRequestDecider, requestId: string): Promise<ChangeRequest> {
  if (!isUuid(requestId)) throw requestNotFound();
  const found = await trx.selectFrom('change_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
  if (!found) throw requestNotFound();
  if (decider.kind === 'admin') {
    const admin = await trx.selectFrom('users').select('organisation_id').where('id', '=', decider.userId).executeTakeFirst();
    if (admin?.organisation_id !== found.organisation_id) throw requestNotFound();
  }
  await trx.selectFrom('organisations').select('id').where('id', '=', found.organisation_id).forUpdate().executeTakeFirstOrThrow();
  if (decider.kind === 'admin' && !(await isActiveAdmin(trx, decider.userId))) throw new WartaError(403, 'forbidden', 'this needs the admin role');
  return found;
}

/** Whether `userId` is in the group a move request carries, or in a group under it: the move gives or takes their memberships. */
async function isCarriedByMove(trx: Transaction<Database>, request: ChangeRequest, userId: string): Promise<boolean> {
  if (request.kind !== 'group.move' || request.group_id === null) return false;
  const { rows } = await sql<{ user_id: string }>`
    with recursive subtree(id) as (
      select id from groups where id = ${request.group_id}
      union all
      select g.id from groups g join subtree s on g.parent_id = s.id
    )
    select m.user_id from group_members m join subtree s on s.id = m.group_id where m.user_id = ${userId} limit 1`.execute(trx);
  return rows.length > 0;
}

async function applyChange(trx: Transaction<Database>, deps: ChangeRequestDeps, context: AuditContext, request: ChangeRequest, approval: Approval): Promise<unknown> {
  const organisationId = request.organisation_id;
  switch (request.kind) {
    case 'attribute.set': {
      const definition = await trx.selectFrom('attribute_definitions').selectAll().where('id', '=', request.definition_id!).executeTakeFirstOrThrow();
      const value = 'value' in request.change ? request.change.value : null;
      return applyAttributeValue(trx, deps, context, { organisationId, userId: request.user_id!, definition, value, approval });
    }
    case 'attribute.unflag':
      return applyAttributeFlag(trx, deps, context, { organisationId, definitionId: request.definition_id!, sensitive: false, approval });
    case 'group.add_member':
    case 'group.remove_member': {
      const group = await findGroup(trx, organisationId, request.group_id!);
      const direction = request.kind === 'group.add_member' ? 'add' : 'remove';
      const change = await applyMembership(trx, deps, context, { organisationId, group, userId: request.user_id!, direction, approval });
      return direction === 'add' ? { group: change.group, user_id: change.user_id, added: change.changed } : { group: change.group, user_id: change.user_id, removed: change.changed };
    }
    case 'group.unflag': {
      const group = await findGroup(trx, organisationId, request.group_id!);
      return applyGroupFlag(trx, deps, context, { organisationId, group, sensitive: false, approval });
    }
    case 'group.move': {
      if (!('parent_id' in request.change)) throw conflict('change_request_not_pending', 'this request holds no move');
      return applyGroupMove(trx, deps, context, { organisationId, groupId: request.group_id!, parentId: request.change.parent_id, name: request.change.name, approval });
    }
  }
}

function unclaimable(request: ChangeRequest, now: Date): WartaError {
  if (request.status === 'expired' || (request.status === 'pending' && request.expires_at <= now)) return new WartaError(410, 'change_request_expired', 'this request expired undecided; ask again');
  return conflict('change_request_not_pending', `this request is already ${request.status}`);
}

async function attributeName(trx: Transaction<Database>, request: ChangeRequest): Promise<string | null> {
  if (request.definition_id === null) return null;
  return (await trx.selectFrom('attribute_definitions').select('name').where('id', '=', request.definition_id).executeTakeFirst())?.name ?? null;
}
