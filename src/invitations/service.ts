import type { Config } from '../config.js';
import type { Kysely, Transaction } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import { addSeconds, type Clock } from '../clock.js';
import { hashToken, newId, newToken } from '../crypto/random.js';
import { type Database, type Invitation, ROLES, type Role, type User } from '../db/schema.js';
import { invalidRequest, notFound, WartaError } from '../errors.js';
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
  role: Role;
  ttlSeconds?: number;
  createdBy?: string | null;
}

export interface IssuedInvitation {
  invitation: Invitation;
  /** The only copy of the token: it is stored hashed. */
  token: string;
  /** The token travels in the fragment so it never reaches server or proxy access logs, nor a Referer header. */
  link: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const invitationLink = (issuer: string, token: string) => `${issuer}/enroll#invitation=${token}`;

/** The sign-in name an invitation leads to: the e-mail address, else the employee id. */
export const usernameFor = (invitation: Pick<Invitation, 'email' | 'employee_id'>): string => (invitation.email ?? invitation.employee_id)!;

export async function createInvitation(deps: InvitationDeps, context: AuditContext, input: InvitationInput): Promise<IssuedInvitation> {
  const displayName = input.displayName?.trim() ?? '';
  const email = input.email?.trim().toLowerCase() || null;
  const employeeId = input.employeeId?.trim() || null;
  if (displayName.length < 1 || displayName.length > 200) throw invalidRequest('display name must be 1 to 200 characters');
  if (!email && !employeeId) throw invalidRequest('an invitation names the person by e-mail or employee id');
  if (email && (!EMAIL.test(email) || email.length > 254)) throw invalidRequest('e-mail address is not valid');
  if (employeeId && !/^[\w.-]{1,64}$/.test(employeeId)) throw invalidRequest('employee id must be 1 to 64 letters, digits, dot, dash or underscore');
  if (!ROLES.includes(input.role)) throw invalidRequest(`role must be one of ${ROLES.join(', ')}`);
  const ttl = input.ttlSeconds ?? deps.config.invitations.ttlSeconds;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 30 * 86400) throw invalidRequest('invitation lifetime must be 1 minute to 30 days');
  await getOrganisation(deps.db, input.organisationId);
  const username = (email ?? employeeId)!;
  if (await usernameTaken(deps.db, username)) throw new WartaError(409, 'user_exists', `a user named "${username}" already exists`);

  const token = newToken();
  const now = deps.clock.now();
  const invitation = await deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('invitations')
      .values({
        id: newId(),
        organisation_id: input.organisationId,
        token_hash: hashToken(token),
        display_name: displayName,
        email,
        employee_id: employeeId,
        role: input.role,
        created_by: input.createdBy ?? null,
        created_at: now,
        expires_at: addSeconds(now, ttl),
        redeemed_at: null,
        redeemed_by: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, deps, context, {
      action: 'invitation.created',
      subject: `invitation:${row.id}`,
      details: { organisation_id: row.organisation_id, role: row.role, username, expires_at: row.expires_at.toISOString() },
    });
    return row;
  });
  return { invitation, token, link: invitationLink(deps.config.issuer, token) };
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
  const user = await createUser(trx, writer.clock, {
    organisationId: claimed.organisation_id,
    username: usernameFor(claimed),
    displayName: claimed.display_name,
    email: claimed.email,
    employeeId: claimed.employee_id,
    role: claimed.role,
  });
  await trx.updateTable('invitations').set({ redeemed_by: user.id }).where('id', '=', claimed.id).execute();
  await appendAudit(trx, writer, { ...context, actor: `user:${user.id}` }, {
    action: 'invitation.redeemed',
    subject: `invitation:${claimed.id}`,
    details: { user_id: user.id, organisation_id: claimed.organisation_id, role: claimed.role },
  });
  return { invitation: { ...claimed, redeemed_by: user.id }, user };
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

export async function listInvitations(db: Kysely<Database>, organisationId: string): Promise<Invitation[]> {
  return db.selectFrom('invitations').selectAll().where('organisation_id', '=', organisationId).orderBy('created_at', 'desc').limit(500).execute();
}

export function invitationStatus(invitation: Invitation, now: Date): 'pending' | 'redeemed' | 'revoked' | 'expired' {
  if (invitation.revoked_at) return 'revoked';
  if (invitation.redeemed_at) return 'redeemed';
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
  };
}
