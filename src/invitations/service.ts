import { decodeCursor, encodeCursor, pageSize } from '../db/cursor.js';
import type { Config } from '../config.js';
import type { Kysely, Transaction } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import { addSeconds, type Clock } from '../clock.js';
import { hashToken, newId, newToken } from '../crypto/random.js';
import { assertEmailInDomains } from '../authority/email-domains.js';
import { auditingAuthorityRefusal } from '../authority/refusal.js';
import { announceRoleGrant, isPrivileged } from '../authority/role-grant.js';
import { withinTransaction } from '../db/transaction.js';
import { type Database, INVITABLE_ROLES, type Invitation, type Role, type User } from '../db/schema.js';
import { conflict, invalidRequest, notFound, WartaError } from '../errors.js';
import { getOrganisation } from '../orgs/service.js';
import { createUser, usernameTaken } from '../users/service.js';

interface InvitationDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  config: Pick<Config, 'issuer' | 'invitations'>;
}

export interface InvitationInput {
  organisationId: string;
  displayName: string;
  email?: string | null;
  employeeId?: string | null;
  /** Any role but operator (refused): operator comes only from bootstrap or the CLI. */
  role: Role;
  ttlSeconds?: number;
  /** The organisation admin who asks (requestInvitation); absent when the instance operator invites. */
  createdBy?: string | null;
  /** The organisation's admin client that asks (an access token at the admin API): members only, in the organisation's domains. */
  createdByClient?: string | null;
  /** Redemption also grants `operator`: only bootstrap's first admin. */
  grantsOperator?: boolean;
}

export interface IssuedInvitation {
  invitation: Invitation;
  /** The only copy of the token: it is stored hashed. Null while the invitation awaits a second admin. */
  token: string | null;
  /** The token travels in the fragment so it never reaches server or proxy access logs, nor a Referer header. */
  link: string | null;
}

/** An invitation whose link exists: what the operator's CLI and a second admin's approval hand out. */
export type UsableIssuedInvitation = IssuedInvitation & { token: string; link: string };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const invitationLink = (issuer: string, token: string) => `${issuer}/enroll#invitation=${token}`;

/** The sign-in name an invitation leads to: the e-mail address, else the employee id. */
export const usernameFor = (invitation: Pick<Invitation, 'email' | 'employee_id'>): string => (invitation.email ?? invitation.employee_id)!;

/** The instance operator invites (CLI, bootstrap, first-run setup): usable at once, any role but operator, any e-mail domain; in `deps.db`'s transaction when it is one. */
export async function createInvitation(deps: InvitationDeps, context: AuditContext, input: InvitationInput): Promise<UsableIssuedInvitation> {
  return (await issueInvitation(deps, context, { ...input, createdBy: null })) as UsableIssuedInvitation;
}

/**
 * An organisation admin invites. Two rules of issue 11 apply: an e-mail address
 * must be in the organisation's own domains (attack 10), and a privileged role
 * (admin, recovery_officer) waits for a different admin's approval, with no
 * token minted until then (attack 2). Refusals are audited.
 */
export async function requestInvitation(deps: InvitationDeps, context: AuditContext, input: InvitationInput & ({ createdBy: string } | { createdByClient: string })): Promise<IssuedInvitation> {
  return issueInvitation(deps, context, input);
}

/** An invitation's values as the rules accept them, before anything is stored. */
export interface CheckedInvitation {
  organisationId: string;
  displayName: string;
  email: string | null;
  employeeId: string | null;
  /** The sign-in name the invitation leads to. */
  username: string;
  role: Role;
  ttlSeconds: number;
  createdBy: string | null;
  createdByClient: string | null;
  grantsOperator: boolean;
  /** An admin asked for a privileged role: no link until a different admin approves. */
  approvalRequired: boolean;
}

/** The rules on an invitation's own values (name, e-mail, employee id, role, lifetime), without the database. */
export function checkInvitationValues(deps: Pick<InvitationDeps, 'config'>, input: InvitationInput): CheckedInvitation {
  const displayName = input.displayName?.trim() ?? '';
  const email = input.email?.trim().toLowerCase() || null;
  const employeeId = input.employeeId?.trim() || null;
  if (displayName.length < 1 || displayName.length > 200) throw invalidRequest('display name must be 1 to 200 characters');
  if (!email && !employeeId) throw invalidRequest('an invitation names the person by e-mail or employee id');
  if (email && (!EMAIL.test(email) || email.length > 254)) throw invalidRequest('e-mail address is not valid');
  if (employeeId && !/^[\w.-]{1,64}$/.test(employeeId)) throw invalidRequest('employee id must be 1 to 64 letters, digits, dot, dash or underscore');
  if (!(INVITABLE_ROLES as readonly Role[]).includes(input.role)) throw invalidRequest(`role must be one of ${INVITABLE_ROLES.join(', ')}`);
  const ttlSeconds = input.ttlSeconds ?? deps.config.invitations.ttlSeconds;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 30 * 86400) throw invalidRequest('invitation lifetime must be 1 minute to 30 days');
  const createdBy = input.createdBy ?? null;
  const createdByClient = input.createdByClient ?? null;
  if (createdByClient && isPrivileged(input.role)) throw new WartaError(403, 'person_required', 'an admin person must ask for a privileged invitation, not an admin client');
  return {
    organisationId: input.organisationId,
    displayName,
    email,
    employeeId,
    username: (email ?? employeeId)!,
    role: input.role,
    ttlSeconds,
    createdBy,
    createdByClient,
    grantsOperator: input.grantsOperator ?? false,
    approvalRequired: Boolean(createdBy) && isPrivileged(input.role),
  };
}

export const userExists = (username: string) => new WartaError(409, 'user_exists', `a user named "${username}" already exists`);

async function issueInvitation(deps: InvitationDeps, context: AuditContext, input: InvitationInput): Promise<IssuedInvitation> {
  const checked = checkInvitationValues(deps, input);
  const { email } = checked;
  const organisation = await getOrganisation(deps.db, input.organisationId);
  if ((checked.createdBy || checked.createdByClient) && email)
    await auditingAuthorityRefusal(deps, context, { action: 'invitation.refused', subject: `org:${organisation.id}`, details: { email_domain: email.slice(email.lastIndexOf('@') + 1), role: input.role } }, async () =>
      assertEmailInDomains(organisation, email),
    );
  if (await usernameTaken(deps.db, checked.username)) throw userExists(checked.username);
  return withinTransaction(deps.db, (trx) => storeInvitation(trx, deps, context, checked));
}

/** Stores a checked invitation and its audit entry in the caller's transaction; the token exists only in the answer. */
export async function storeInvitation(trx: Transaction<Database>, deps: AuditWriter & Pick<InvitationDeps, 'config'>, context: AuditContext, checked: CheckedInvitation): Promise<IssuedInvitation> {
  const token = checked.approvalRequired ? null : newToken();
  const now = deps.clock.now();
  const invitation = await trx
    .insertInto('invitations')
    .values({
      id: newId(),
      organisation_id: checked.organisationId,
      token_hash: token === null ? null : hashToken(token),
      display_name: checked.displayName,
      email: checked.email,
      employee_id: checked.employeeId,
      role: checked.role,
      created_by: checked.createdBy,
      grants_operator: checked.grantsOperator,
      approval_required: checked.approvalRequired,
      created_at: now,
      expires_at: addSeconds(now, checked.ttlSeconds),
      redeemed_at: null,
      redeemed_by: null,
      revoked_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await appendAudit(trx, deps, context, {
    action: 'invitation.created',
    subject: `invitation:${invitation.id}`,
    details: {
      organisation_id: invitation.organisation_id,
      role: invitation.role,
      username: checked.username,
      expires_at: invitation.expires_at.toISOString(),
      awaiting_approval: checked.approvalRequired,
      grants_operator: invitation.grants_operator,
    },
  });
  return { invitation, token, link: token === null ? null : invitationLink(deps.config.issuer, token) };
}

/**
 * A second admin of the same organisation approves a privileged invitation;
 * the link is minted now and handed to the approver, so the admin who asked
 * never holds a usable link alone. One conditional UPDATE: of two approvals the
 * second finds it approved, and the asker can never approve (also a CHECK).
 */
export async function approveInvitation(deps: InvitationDeps, context: AuditContext, input: { id: string; approver: Pick<User, 'id' | 'organisation_id'> }): Promise<UsableIssuedInvitation> {
  return auditingAuthorityRefusal(deps, context, { action: 'invitation.approval_refused', subject: `invitation:${input.id}` }, async () => {
    const token = newToken();
    const now = deps.clock.now();
    return deps.db.transaction().execute(async (trx) => {
      const approved = await trx
        .updateTable('invitations')
        .set({ approved_by: input.approver.id, approved_at: now, token_hash: hashToken(token) })
        .where('id', '=', input.id)
        .where('organisation_id', '=', input.approver.organisation_id)
        .where('approval_required', '=', true)
        .where('approved_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('created_by', '<>', input.approver.id)
        .returningAll()
        .executeTakeFirst();
      if (!approved) throw approvalRefusal(await trx.selectFrom('invitations').selectAll().where('id', '=', input.id).executeTakeFirst(), input.approver, now);
      await appendAudit(trx, deps, context, {
        action: 'invitation.approved',
        subject: `invitation:${approved.id}`,
        details: { organisation_id: approved.organisation_id, role: approved.role, created_by: approved.created_by, approved_by: input.approver.id },
      });
      return { invitation: approved, token, link: invitationLink(deps.config.issuer, token) };
    });
  });
}

function approvalRefusal(invitation: Invitation | undefined, approver: Pick<User, 'id' | 'organisation_id'>, now: Date): WartaError {
  if (!invitation || invitation.organisation_id !== approver.organisation_id) return notFound('invitation_not_found', 'no such invitation');
  if (invitation.created_by === approver.id) return new WartaError(403, 'invitation_self_approval', 'a different admin must approve an invitation you asked for');
  if (!invitation.approval_required || invitation.approved_at) return conflict('invitation_not_awaiting_approval', 'this invitation is not waiting for approval');
  return unusable(invitation, now) ?? conflict('invitation_not_awaiting_approval', 'this invitation is not waiting for approval');
}

/** Why an invitation cannot be used, as a stable error. */
function unusable(invitation: Invitation | undefined, now: Date): WartaError | undefined {
  if (!invitation) return new WartaError(404, 'invitation_not_found', 'this invitation link is not valid');
  if (invitation.revoked_at) return new WartaError(410, 'invitation_revoked', 'this invitation was revoked; ask your administrator for a new one');
  if (invitation.redeemed_at) return new WartaError(410, 'invitation_used', 'this invitation has already been used');
  if (invitation.expires_at <= now) return new WartaError(410, 'invitation_expired', 'this invitation has expired; ask your administrator for a new one');
  return undefined;
}

/** A usable invitation for its token, or the reason it is not. Changes nothing. */
export async function findUsableInvitation(db: Kysely<Database> | Transaction<Database>, clock: Clock, token: string): Promise<Invitation> {
  const invitation = await db.selectFrom('invitations').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
  const problem = unusable(invitation, clock.now());
  if (problem) throw problem;
  return invitation!;
}

/**
 * Consumes the invitation and creates its user, inside the caller's transaction
 * (the one that also stores the first credential). The conditional UPDATE makes
 * redemption single-use under concurrency: of two simultaneous redemptions the
 * second finds `redeemed_at` set once the first commits, and gets no row.
 */
export async function redeemInvitation(trx: Transaction<Database>, writer: AuditWriter, context: AuditContext, token: string): Promise<{ invitation: Invitation; user: User }> {
  const now = writer.clock.now();
  const tokenHash = hashToken(token);
  const claimed = await trx
    .updateTable('invitations')
    .set({ redeemed_at: now })
    .where('token_hash', '=', tokenHash)
    .where('redeemed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  if (!claimed) {
    const current = await trx.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    throw unusable(current, now) ?? new WartaError(410, 'invitation_used', 'this invitation has already been used');
  }
  const user = claimed.user_id === null ? await createUser(trx, writer.clock, {
    organisationId: claimed.organisation_id,
    username: usernameFor(claimed),
    displayName: claimed.display_name,
    email: claimed.email,
    employeeId: claimed.employee_id,
    role: claimed.role,
  }) : await provisionedPerson(trx, claimed.user_id);
  await trx.updateTable('invitations').set({ redeemed_by: user.id }).where('id', '=', claimed.id).execute();
  const grantedBy = claimed.created_by ? `user:${claimed.created_by}` : 'cli';
  const approvedBy = claimed.approved_by ? `user:${claimed.approved_by}` : null;
  if (isPrivileged(claimed.role)) await announceRoleGrant(trx, writer, context, { user, role: claimed.role, grantedBy, approvedBy });
  if (claimed.grants_operator) {
    await trx.insertInto('user_roles').values({ user_id: user.id, role: 'operator', granted_at: writer.clock.now() }).execute();
    await announceRoleGrant(trx, writer, context, { user, role: 'operator', grantedBy, approvedBy });
  }
  await appendAudit(trx, writer, { ...context, actor: `user:${user.id}` }, {
    action: 'invitation.redeemed',
    subject: `invitation:${claimed.id}`,
    details: { user_id: user.id, organisation_id: claimed.organisation_id, role: claimed.role },
  });
  return { invitation: { ...claimed, redeemed_by: user.id }, user };
}

/**
 * The person a directory provisioned (src/scim/) for this invitation. Only while they are
 * active and hold no credential: a person the directory deactivated, or one who somehow
 * has a way to sign in already, does not gain one more through an old link.
 */
async function provisionedPerson(trx: Transaction<Database>, userId: string): Promise<User> {
  const user = await trx.selectFrom('users').selectAll().where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
  if (user.status !== 'active') throw new WartaError(410, 'invitation_revoked', 'this invitation was revoked; ask your administrator for a new one');
  const passkey = await trx.selectFrom('webauthn_credentials').select('id').where('user_id', '=', userId).executeTakeFirst();
  const password = await trx.selectFrom('password_credentials').select('user_id').where('user_id', '=', userId).executeTakeFirst();
  if (passkey || password) throw new WartaError(410, 'invitation_used', 'this person has already enrolled');
  return user;
}

export async function revokeInvitation(deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array }, context: AuditContext, input: { id: string; organisationId?: string }): Promise<Invitation> {
  return deps.db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable('invitations')
      .set({ revoked_at: deps.clock.now() })
      .where('id', '=', input.id)
      .where('revoked_at', 'is', null)
      .where('redeemed_at', 'is', null);
    if (input.organisationId) query = query.where('organisation_id', '=', input.organisationId);
    const revoked = await query.returningAll().executeTakeFirst();
    if (!revoked) {
      const current = await trx.selectFrom('invitations').selectAll().where('id', '=', input.id).executeTakeFirst();
      if (!current || (input.organisationId && current.organisation_id !== input.organisationId)) throw notFound('invitation_not_found', 'no such invitation');
      throw new WartaError(409, current.revoked_at ? 'invitation_revoked' : 'invitation_used', current.revoked_at ? 'the invitation is already revoked' : 'the invitation has already been used');
    }
    await appendAudit(trx, deps, context, { action: 'invitation.revoked', subject: `invitation:${revoked.id}` });
    return revoked;
  });
}

export const INVITATION_STATUSES = ['pending', 'awaiting_approval', 'redeemed', 'revoked', 'expired'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/** The organisation's invitations, newest first, a page at a time (one query), optionally of one status. */
export async function listInvitations(
  db: Kysely<Database>,
  now: Date,
  organisationId: string,
  page: { cursor?: string | undefined; limit?: number | undefined; status?: InvitationStatus | undefined } = {},
): Promise<{ invitations: Invitation[]; next_cursor: string | null }> {
  const limit = pageSize(page.limit, 100, 50);
  const after = page.cursor ? decodeCursor(page.cursor, 2) : undefined;
  const afterTime = after ? new Date(after[0]!) : undefined;
  if (afterTime && Number.isNaN(afterTime.getTime())) throw new WartaError(400, 'invalid_request', 'cursor is not one this server gave out');
  const rows = await db
    .selectFrom('invitations')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .$if(after !== undefined, (qb) => qb.where((eb) => eb.or([eb('created_at', '<', afterTime!), eb.and([eb('created_at', '=', afterTime!), eb('id', '<', after![1]!)])])))
    .$if(page.status !== undefined, (qb) =>
      qb.where((eb) => {
        const open = eb.and([eb('revoked_at', 'is', null), eb('redeemed_at', 'is', null), eb('expires_at', '>', now)]);
        const awaiting = eb.and([eb('approval_required', '=', true), eb('approved_at', 'is', null)]);
        switch (page.status!) {
          case 'revoked':
            return eb('revoked_at', 'is not', null);
          case 'redeemed':
            return eb.and([eb('revoked_at', 'is', null), eb('redeemed_at', 'is not', null)]);
          case 'expired':
            return eb.and([eb('revoked_at', 'is', null), eb('redeemed_at', 'is', null), eb('expires_at', '<=', now)]);
          case 'awaiting_approval':
            return eb.and([open, awaiting]);
          case 'pending':
            return eb.and([open, eb.not(awaiting)]);
        }
      }),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { invitations: shown, next_cursor: rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null };
}

export function invitationStatus(invitation: Invitation, now: Date): InvitationStatus {
  if (invitation.revoked_at) return 'revoked';
  if (invitation.redeemed_at) return 'redeemed';
  if (invitation.expires_at > now && invitation.approval_required && !invitation.approved_at) return 'awaiting_approval';
  return invitation.expires_at <= now ? 'expired' : 'pending';
}

/** Public JSON view: never the token hash. */
export function invitationView(invitation: Invitation, now: Date) {
  return {
    id: invitation.id,
    organisation_id: invitation.organisation_id,
    display_name: invitation.display_name,
    email: invitation.email,
    employee_id: invitation.employee_id,
    role: invitation.role,
    status: invitationStatus(invitation, now),
    created_at: invitation.created_at.toISOString(),
    expires_at: invitation.expires_at.toISOString(),
    redeemed_at: invitation.redeemed_at?.toISOString() ?? null,
    revoked_at: invitation.revoked_at?.toISOString() ?? null,
    approved_at: invitation.approved_at?.toISOString() ?? null,
  };
}
