import type { Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, OAuthClient } from '../db/schema.js';
import { raiseSecurityEvent } from '../events/raise.js';
import type { ClientChange } from '../events/types.js';

/**
 * Tells every active admin of `organisationId` what the instance operator did to
 * one of its clients: a `client_changed` event on each admin's account-page
 * banner, raised in the transaction that makes the change. The operator may do
 * what the organisation's admins may not (first-party, another service's
 * audience, cross-organisation sign-in), so the admins learn of it from Warta,
 * not from their users.
 */
export async function announceClientChange(trx: Transaction<Database>, clock: Clock, organisationId: string, client: Pick<OAuthClient, 'client_id' | 'client_name'>, change: ClientChange): Promise<void> {
  const admins = await trx
    .selectFrom('users')
    .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
    .select('users.id')
    .where('users.organisation_id', '=', organisationId)
    .where('users.status', '=', 'active')
    .where('user_roles.role', '=', 'admin')
    .orderBy('users.id')
    .execute();
  for (const admin of admins)
    await raiseSecurityEvent(trx, clock, { type: 'client_changed', userId: admin.id, organisationId, details: { clientId: client.client_id, clientName: client.client_name, change }, initiatingEntity: 'admin' });
}
