/**
 * Two-admin changes to what grants authority through claims (principle 8): a
 * sensitive attribute's value, membership of a sensitive group, a move or rename
 * that touches a sensitive group, clearing a sensitive flag. The first admin's
 * ask is stored as a pending request, with its audit entry, and changes nothing;
 * a different admin of the organisation, who is not the person it is about,
 * approves it (approve.ts) and only then does it take effect. The operator's CLI
 * acts at once, as it does for role grants (src/people/roles.ts): the operator is
 * the second pair of eyes. A request nobody decides in CHANGE_REQUEST_TTL_SECONDS
 * expires: approval checks the time in SQL, and the sweep below closes and
 * audits what is left. Role requests (src/people/role-requests.ts) keep their
 * own table: they are about roles, which these are not.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import { addSeconds, type Clock } from '../clock.js';
import { newId } from '../crypto/random.js';
import type { ChangeRequest, ChangeRequestKind, Database, RequestedChange } from '../db/schema.js';
import { json } from '../db/schema.js';
import { conflict, recordingRefusal, WartaError } from '../errors.js';
import type { PeriodicJob } from '../jobs/periodic.js';
import type { PeopleActor } from './people.js';
import { expirePendingRequests, startRequestExpiry } from './request-expiry.js';
import type { Logger } from '../log.js';

/** Three days, as a role request (src/people/role-requests.ts): the same second admin is reached the same way. */
export const CHANGE_REQUEST_TTL_SECONDS = 72 * 3600;

export type ChangeRequestDeps = { db: Kysely<Database> } & AuditWriter;

/** Who asked and who approved a change, for its audit entry. */
export interface Approval {
  requestId: string;
  requestedBy: string;
  approvedBy: string;
}

export const approvalDetails = (approval: Approval | undefined) => (approval ? { request_id: approval.requestId, requested_by: approval.requestedBy, approved_by: approval.approvedBy } : {});

export interface ChangeRequestView {
  id: string;
  kind: ChangeRequestKind;
  person_id: string | null;
  group_id: string | null;
  /** The attribute's name, for a request about one. */
  attribute: string | null;
  change: RequestedChange;
  reason: string | null;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  status: ChangeRequest['status'];
  decided_by: string | null;
  decided_at: string | null;
}

export const changeRequestView = (request: ChangeRequest, attribute: string | null = null): ChangeRequestView => ({
  id: request.id,
  kind: request.kind,
  person_id: request.user_id,
  group_id: request.group_id,
  attribute,
  change: request.change,
  reason: request.reason,
  requested_by: request.requested_by,
  requested_at: request.requested_at.toISOString(),
  expires_at: request.expires_at.toISOString(),
  status: request.status,
  decided_by: request.decided_by,
  decided_at: request.decided_at?.toISOString() ?? null,
});

/** What a sensitive change answers an admin: nothing changed yet, a request waits (HTTP 202). */
export interface AwaitingApproval {
  status: 'awaiting_approval';
  request: ChangeRequestView;
}

export const isAwaitingApproval = (result: object): result is AwaitingApproval => 'status' in result && result.status === 'awaiting_approval';

/** The result of a change the operator's CLI made: it never waits for approval (askerOf). */
export function appliedAtOnce<T extends object>(result: T | AwaitingApproval): T {
  if (isAwaitingApproval(result)) throw new Error('a change by the operator was left waiting for approval');
  return result;
}

/**
 * Who asks for a sensitive change: an admin person, whose ask becomes a request
 * (their id), or the operator's CLI, which applies it at once (null). An admin
 * client is refused: a machine holds no one's judgement, and one admin who
 * controls a machine must not be their own second admin.
 */
export function askerOf(actor: PeopleActor): string | null {
  if (actor.kind === 'cli') return null;
  if (actor.kind === 'client') throw new WartaError(403, 'person_required', 'this change is sensitive: an admin person asks for it and a second admin approves it, not an admin client');
  return actor.userId;
}

/** Runs a change that may be sensitive; an admin client's person_required refusal is audited, as requirePerson does. */
export function auditingPersonRequired<T>(deps: ChangeRequestDeps, context: AuditContext, actor: PeopleActor, act: string, run: () => Promise<T>): Promise<T> {
  return recordingRefusal(run, async (refusal) => {
    if (refusal.code !== 'person_required' || actor.kind !== 'client') return;
    await appendAudit(deps.db, deps, context, { action: 'authority.refused', subject: `client:${actor.clientId}`, outcome: 'failure', details: { role: 'admin', reason: 'person_required', act } });
  });
}

export interface ChangeRequestInput {
  organisationId: string;
  requestedBy: string;
  kind: ChangeRequestKind;
  userId?: string;
  groupId?: string;
  definitionId?: string;
  change: RequestedChange;
  reason?: string | null;
  /** The audit entry's subject and what else it should say (the path, the attribute's name …). */
  subject: string;
  details: Record<string, unknown>;
}

/**
 * Stores an admin's ask in the caller's transaction, with its audit entry, and
 * answers that it waits. A second ask for the same change while one waits is
 * refused (a unique index, so two at once cannot both be stored); one that
 * waited past its time is expired first, so it never blocks a fresh ask.
 */
export async function openChangeRequest(trx: Transaction<Database>, deps: ChangeRequestDeps, context: AuditContext, input: ChangeRequestInput): Promise<AwaitingApproval> {
  const now = deps.clock.now();
  await expireDueChangeRequests(trx, deps, { organisationId: input.organisationId });
  const request = await trx
    .insertInto('change_requests')
    .values({
      id: newId(),
      organisation_id: input.organisationId,
      kind: input.kind,
      user_id: input.userId ?? null,
      group_id: input.groupId ?? null,
      definition_id: input.definitionId ?? null,
      change: json(input.change),
      reason: input.reason ?? null,
      requested_by: input.requestedBy,
      requested_at: now,
      expires_at: addSeconds(now, CHANGE_REQUEST_TTL_SECONDS),
      status: 'pending',
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!request) throw conflict('change_request_pending', 'a change to this already waits for a second admin (GET /api/admin/change-requests)');
  await appendAudit(trx, deps, context, {
    action: 'change_request.opened',
    subject: input.subject,
    details: { request_id: request.id, organisation_id: input.organisationId, kind: input.kind, ...input.details, change: input.change, reason: request.reason, expires_at: request.expires_at.toISOString() },
  });
  const attribute = input.definitionId ? ((await trx.selectFrom('attribute_definitions').select('name').where('id', '=', input.definitionId).executeTakeFirst())?.name ?? null) : null;
  return { status: 'awaiting_approval', request: changeRequestView(request, attribute) };
}

/** The organisation's requests still waiting for a second admin, oldest first. */
export async function listChangeRequests(db: Kysely<Database>, clock: Clock, organisationId: string): Promise<ChangeRequestView[]> {
  const rows = await db
    .selectFrom('change_requests as r')
    .leftJoin('attribute_definitions as d', 'd.id', 'r.definition_id')
    .selectAll('r')
    .select('d.name as attribute')
    .where('r.organisation_id', '=', organisationId)
    .where('r.status', '=', 'pending')
    .where('r.expires_at', '>', clock.now())
    .orderBy('r.requested_at')
    .limit(500)
    .execute();
  return rows.map((row) => changeRequestView(row, row.attribute));
}

/** The audit subject of a request: the person it is about, else the group, else the organisation (an attribute's flag). */
export const requestSubject = (request: Pick<ChangeRequest, 'user_id' | 'group_id' | 'organisation_id'>) =>
  request.user_id ? `user:${request.user_id}` : request.group_id ? `group:${request.group_id}` : `org:${request.organisation_id}`;

/** Marks pending requests past their time `expired` and audits each (src/authority/request-expiry.ts). */
export function expireDueChangeRequests(trx: Transaction<Database>, deps: ChangeRequestDeps, scope: { organisationId?: string } = {}): Promise<number> {
  return expirePendingRequests<ChangeRequest>(trx, deps, {
    table: 'change_requests',
    ...(scope.organisationId ? { scope: sql`organisation_id = ${scope.organisationId}` } : {}),
    audit: (expired) => ({ action: 'change_request.expired', subject: requestSubject(expired), details: { request_id: expired.id, organisation_id: expired.organisation_id, kind: expired.kind, requested_by: expired.requested_by } }),
  });
}

export function expireChangeRequests(deps: ChangeRequestDeps): Promise<number> {
  return deps.db.transaction().execute((trx) => expireDueChangeRequests(trx, deps));
}

/** The background sweep started by src/server.ts. */
export function startChangeRequestExpiry(deps: ChangeRequestDeps & { log: Logger }): PeriodicJob {
  return startRequestExpiry('change request expiry', deps.log, () => expireChangeRequests(deps));
}
