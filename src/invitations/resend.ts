/**
 * A fresh link for an invitation still waiting to be used (the first was lost,
 * or went to the wrong inbox). The new token replaces the old one's hash in one
 * conditional UPDATE that also names the hash it read, so the old link is void
 * the moment the new one exists, and of two resends at once the second is
 * refused rather than handed a link the first already voided: at most one link
 * is ever valid. The lifetime is not extended; for more time, revoke and invite again.
 *
 * A privileged invitation keeps its four eyes: only the admin who approved it
 * (and so already held its link) may resend it; one the operator made, or one
 * that also grants `operator`, is the operator's.
 */
import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { auditingAuthorityRefusal } from '../authority/refusal.js';
import { isPrivileged } from '../authority/role-grant.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { hashToken, newToken } from '../crypto/random.js';
import type { Database, Invitation } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { conflict, notFound, WartaError } from '../errors.js';
import { invitationLink, type UsableIssuedInvitation } from './service.js';

interface ResendDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  config: Pick<Config, 'issuer'>;
}

const invitationNotFound = () => notFound('invitation_not_found', 'no such invitation');

export function resendInvitation(deps: ResendDeps, context: AuditContext, input: { id: string; admin: { id: string; organisation_id: string } }): Promise<UsableIssuedInvitation> {
  return auditingAuthorityRefusal(deps, context, { action: 'invitation.resend_refused', subject: isUuid(input.id) ? `invitation:${input.id}` : null }, () =>
    deps.db.transaction().execute(async (trx) => {
      if (!isUuid(input.id)) throw invitationNotFound();
      const current = await trx.selectFrom('invitations').selectAll().where('id', '=', input.id).executeTakeFirst();
      if (!current || current.organisation_id !== input.admin.organisation_id) throw invitationNotFound();
      const now = deps.clock.now();
      assertResendable(current, input.admin.id, now);
      const token = newToken();
      const resent = await trx
        .updateTable('invitations')
        .set({ token_hash: hashToken(token) })
        .where('id', '=', current.id)
        .where('token_hash', '=', current.token_hash!)
        .where('redeemed_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst();
      if (!resent) throw conflict('invitation_changed', 'the invitation changed meanwhile (resent, used or revoked by someone else); look at it again');
      await appendAudit(trx, deps, context, {
        action: 'invitation.resent',
        subject: `invitation:${resent.id}`,
        details: { organisation_id: resent.organisation_id, role: resent.role, expires_at: resent.expires_at.toISOString() },
      });
      return { invitation: resent, token, link: invitationLink(deps.config.issuer, token) };
    }),
  );
}

function assertResendable(invitation: Invitation, adminId: string, now: Date): void {
  if (invitation.revoked_at) throw conflict('invitation_revoked', 'this invitation was revoked');
  if (invitation.redeemed_at) throw conflict('invitation_used', 'this invitation has already been used');
  if (invitation.expires_at <= now) throw conflict('invitation_expired', 'this invitation has expired; invite again');
  if (invitation.token_hash === null) throw conflict('invitation_not_approved', 'this invitation waits for a second admin; the approval hands out its link');
  if (!isPrivileged(invitation.role) && !invitation.grants_operator) return;
  if (invitation.grants_operator || invitation.approved_by === null) throw new WartaError(403, 'operator_required', "the operator made this privileged invitation: a new link is the operator's to give");
  if (invitation.approved_by !== adminId) throw new WartaError(403, 'invitation_resend_needs_approver', 'only the admin who approved this privileged invitation may resend it');
}
