import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import type { Database, Role, User } from '../db/schema.js';
import { raiseSecurityEvent } from '../events/raise.js';

/** Roles that reach other people's accounts: granting one needs two people (or the operator) and is announced. */
export const PRIVILEGED_ROLES: readonly Role[] = ['recovery_officer', 'admin', 'operator'];

export const isPrivileged = (role: Role) => PRIVILEGED_ROLES.includes(role);

export interface RoleGrant {
  user: Pick<User, 'id' | 'organisation_id' | 'display_name'>;
  role: Role;
  /** `user:<id>` of the admin who asked, or `cli` for the operator. */
  grantedBy: string;
  /** `user:<id>` of the second admin, when there was one. */
  approvedBy?: string | null;
}

/**
 * Announces a role grant in the transaction that makes it: an audit entry and a
 * `role_granted` security event. The event reaches relying services as a SET
 * and every admin of the organisation on their account page's banner, so a
 * grant one admin slipped through does not go unseen.
 */
export async function announceRoleGrant(trx: Transaction<Database>, writer: AuditWriter, context: AuditContext, grant: RoleGrant): Promise<void> {
  await appendAudit(trx, writer, context, {
    action: 'role.granted',
    subject: `user:${grant.user.id}`,
    details: { role: grant.role, organisation_id: grant.user.organisation_id, granted_by: grant.grantedBy, approved_by: grant.approvedBy ?? null },
  });
  await raiseSecurityEvent(trx, writer.clock, {
    type: 'role_granted',
    userId: grant.user.id,
    organisationId: grant.user.organisation_id,
    details: { role: grant.role, grantedBy: grant.grantedBy, displayName: grant.user.display_name, ...(grant.approvedBy ? { approvedBy: grant.approvedBy } : {}) },
    initiatingEntity: 'admin',
  });
}
