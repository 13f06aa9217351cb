import type { Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { raiseSecurityEvent } from './raise.js';
import type { SecurityEventDetails } from './types.js';

type Announcement =
  | { type: 'client_changed'; details: SecurityEventDetails['client_changed'] }
  | { type: 'organisation_changed'; details: SecurityEventDetails['organisation_changed'] };

/**
 * Tells every active admin of `organisationId` what the instance operator did to
 * their organisation: an event on each admin's account-page banner, raised in the
 * transaction that makes the change. The operator may do what the organisation's
 * admins may not (first-party clients, other domains, waiving a new officer's
 * cooldown), so the admins learn of it from Warta, not from their users.
 */
export async function announceToAdmins(trx: Transaction<Database>, clock: Clock, organisationId: string, announcement: Announcement): Promise<void> {
  const admins = await trx
    .selectFrom('users')
    .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
    .select('users.id')
    .where('users.organisation_id', '=', organisationId)
    .where('users.status', '=', 'active')
    .where('user_roles.role', '=', 'admin')
    .orderBy('users.id')
    .execute();
  for (const admin of admins) await raiseSecurityEvent(trx, clock, { ...announcement, userId: admin.id, organisationId, initiatingEntity: 'admin' });
}
