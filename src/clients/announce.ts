import type { Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, OAuthClient } from '../db/schema.js';
import { announceToAdmins } from '../events/announce.js';
import type { ClientChange } from '../events/types.js';

/** Tells the organisation's admins what the instance operator did to one of its clients (`client_changed`). */
export async function announceClientChange(trx: Transaction<Database>, clock: Clock, organisationId: string, client: Pick<OAuthClient, 'client_id' | 'client_name'>, change: ClientChange): Promise<void> {
  await announceToAdmins(trx, clock, organisationId, { type: 'client_changed', details: { clientId: client.client_id, clientName: client.client_name, change } });
}
