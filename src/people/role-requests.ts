/**
 * Two-admin changes that give power: a privileged role for a person who is
 * already here (`grant`), or re-enabling a disabled person who holds one
 * (`enable`). The first admin's ask is stored as a pending request and changes
 * nothing; a different admin of the organisation, who is not the person,
 * approves it (src/people/approve-request.ts) and only then does it take effect.
 * A request nobody approves in ROLE_REQUEST_TTL_SECONDS expires: approval
 * checks the time in SQL, and the sweep below closes and audits what is left.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { addSeconds } from '../clock.js';
import { newId } from '../crypto/random.js';
import type { Database, Role, RoleRequest, RoleRequestKind } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { conflict } from '../errors.js';
import type { PeriodicJob } from '../jobs/periodic.js';
import { expirePendingRequests, startRequestExpiry } from '../authority/request-expiry.js';
import type { Target } from '../authority/people.js';

/** Three days: long enough for a second admin to be reached, short enough that a forgotten ask does not wait for a careless click. */
export const ROLE_REQUEST_TTL_SECONDS = 72 * 3600;

export type RoleRequestDeps = Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>;

export interface RoleRequestView {
  id: string;
  kind: RoleRequestKind;
  person_id: string;
  role: Role | null;
  reason: string;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  status: RoleRequest['status'];
  decided_by: string | null;
  decided_at: string | null;
}

export const roleRequestView = (request: RoleRequest): RoleRequestView => ({
  id: request.id,
  kind: request.kind,
  person_id: request.user_id,
  role: request.role,
  reason: request.reason,
  requested_by: request.requested_by,
  requested_at: request.requested_at.toISOString(),
  expires_at: request.expires_at.toISOString(),
  status: request.status,
  decided_by: request.decided_by,
  decided_at: request.decided_at?.toISOString() ?? null,
});

/**
 * Stores an admin's ask in the caller's transaction (which holds the
 * organisation's lock, from lockTarget), with its audit entry. A second ask for
 * the same change while one waits is refused; one that waited past its time is
 * expired first, so it never blocks a fresh ask.
 */
export async function openRoleRequest(
  trx: Transaction<Database>,
  deps: RoleRequestDeps,
  context: AuditContext,
  input: { requestedBy: string; target: Target; kind: RoleRequestKind; role: 'recovery_officer' | 'admin' | null; reason: string },
): Promise<RoleRequest> {
  const now = deps.clock.now();
  await expireDueRoleRequests(trx, deps, { userId: input.target.person.id });
  const waiting = await trx
    .selectFrom('role_requests')
    .select('id')
    .where('user_id', '=', input.target.person.id)
    .where('kind', '=', input.kind)
    .where(sql<string>`coalesce(role, '')`, '=', input.role ?? '')
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (waiting) throw conflict('role_request_pending', `this change already waits for a second admin (request ${waiting.id})`);
  const request = await trx
    .insertInto('role_requests')
    .values({
      id: newId(),
      organisation_id: input.target.person.organisation_id,
      user_id: input.target.person.id,
      kind: input.kind,
      role: input.role,
      reason: input.reason,
      requested_by: input.requestedBy,
      requested_at: now,
      expires_at: addSeconds(now, ROLE_REQUEST_TTL_SECONDS),
      status: 'pending',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await appendAudit(trx, deps, context, {
    action: 'role_request.opened',
    subject: `user:${request.user_id}`,
    details: { request_id: request.id, organisation_id: request.organisation_id, kind: request.kind, role: request.role, roles: input.target.roles, reason: request.reason, expires_at: request.expires_at.toISOString() },
  });
  return request;
}

/** The organisation's requests still waiting for a second admin, oldest first. */
export async function listRoleRequests(db: Kysely<Database>, clock: Deps['clock'], organisationId: string): Promise<RoleRequestView[]> {
  const rows = await db
    .selectFrom('role_requests')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('status', '=', 'pending')
    .where('expires_at', '>', clock.now())
    .orderBy('requested_at')
    .limit(500)
    .execute();
  return rows.map(roleRequestView);
}

/** Marks pending requests past their time `expired` and audits each (src/authority/request-expiry.ts). */
export function expireDueRoleRequests(trx: Transaction<Database>, deps: RoleRequestDeps, scope: { userId?: string } = {}): Promise<number> {
  return expirePendingRequests<RoleRequest>(trx, deps, {
    table: 'role_requests',
    ...(scope.userId ? { scope: sql`user_id = ${scope.userId}` } : {}),
    audit: (expired) => ({ action: 'role_request.expired', subject: `user:${expired.user_id}`, details: { request_id: expired.id, kind: expired.kind, role: expired.role, requested_by: expired.requested_by } }),
  });
}

export function expireRoleRequests(deps: RoleRequestDeps): Promise<number> {
  return deps.db.transaction().execute((trx) => expireDueRoleRequests(trx, deps));
}

/** The background sweep started by src/main.ts. */
export function startRoleRequestExpiry(deps: RoleRequestDeps & Pick<Deps, 'log'>): PeriodicJob {
  return startRequestExpiry('role request expiry', deps.log, () => expireRoleRequests(deps));
}
