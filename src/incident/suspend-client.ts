/**
 * Suspending a client (Keycloak's "disable client"): while suspended it cannot
 * start an authorization (/authorize: `unauthorized_client`), authenticate at
 * /token, /par, /introspect or /revoke (`invalid_client`, RFC 6749 §5.2), and
 * none of its access tokens is in force at introspection or userinfo. Its grants,
 * and so every refresh token and access token issued from them, are revoked in the
 * suspending transaction; clients signed in through those grants' sessions are
 * queued back-channel logouts, as for any revoked grant. Resuming lets it start
 * over: what the suspension revoked stays revoked.
 */
import type { Transaction } from 'kysely';
import { announceClientChange } from '../clients/announce.js';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Database, Db } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { conflict, notFound } from '../errors.js';
import { revokeClientGrants } from '../grants/service.js';
import { incidentReason } from './reason.js';

export type SuspensionDeps = Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>;

const REVOKED_REASON = 'client_suspended';

export interface ClientSuspension {
  client_id: string;
  client_name: string;
  suspended_at: string;
  reason: string;
  grants_revoked: number;
  backchannel_logouts: number;
  authorization_requests_ended: number;
}

export async function suspendClient(deps: SuspensionDeps, context: AuditContext, input: { clientId: string; reason: unknown }): Promise<ClientSuspension> {
  const reason = incidentReason(input.reason);
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const client = await setSuspension(trx, input.clientId, now, { reason, by: context.actor });

    const { grantsRevoked, backchannelLogouts } = await revokeClientGrants(trx, deps.clock, client, REVOKED_REASON);
    // A sign-in in progress must not end with a code for the suspended client.
    const requests = await trx.updateTable('oauth_authorization_requests').set({ used_at: now }).where('client_id', '=', client.client_id).where('used_at', 'is', null).executeTakeFirst();

    const counts = {
      grants_revoked: grantsRevoked,
      backchannel_logouts: backchannelLogouts,
      authorization_requests_ended: Number(requests.numUpdatedRows),
    };
    await recordSuspensionChange(trx, deps, context, client, 'suspended', { reason, ...counts });
    const result: ClientSuspension = { client_id: client.client_id, client_name: client.client_name, suspended_at: now.toISOString(), reason, ...counts };
    return result;
  });
}

export type ClientResumption = Pick<ClientSuspension, 'client_id' | 'client_name' | 'suspended_at'> & { resumed_at: string };

export async function resumeClient(deps: SuspensionDeps, context: AuditContext, input: { clientId: string; reason: unknown }): Promise<ClientResumption> {
  const reason = incidentReason(input.reason);
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const before = await trx.selectFrom('oauth_clients').select(['suspended_at', 'suspended_reason']).where('client_id', '=', input.clientId).forUpdate().executeTakeFirst();
    if (!before?.suspended_at) throw await notSuspendable(trx, input.clientId, null);
    const client = await setSuspension(trx, input.clientId, now, null);
    await recordSuspensionChange(trx, deps, context, client, 'resumed', { reason, suspended_at: before.suspended_at.toISOString(), suspended_reason: before.suspended_reason });
    return { client_id: client.client_id, client_name: client.client_name, resumed_at: now.toISOString(), suspended_at: before.suspended_at.toISOString() };
  });
}

type Suspension = { reason: string; by: string };

/** Suspends (or, with null, resumes) a client that is not (or is) suspended; anything else is refused. */
async function setSuspension(trx: Db, clientId: string, now: Date, suspension: Suspension | null) {
  const client = await trx
    .updateTable('oauth_clients')
    .set({ suspended_at: suspension ? now : null, suspended_reason: suspension?.reason ?? null, suspended_by: suspension?.by ?? null, updated_at: now })
    .where('client_id', '=', clientId)
    .where('suspended_at', suspension ? 'is' : 'is not', null)
    .returningAll()
    .executeTakeFirst();
  if (!client) throw await notSuspendable(trx, clientId, suspension);
  return client;
}

async function notSuspendable(db: Db, clientId: string, suspension: Suspension | null) {
  const exists = await db.selectFrom('oauth_clients').select('client_id').where('client_id', '=', clientId).executeTakeFirst();
  if (!exists) return notFound('client_not_found', 'no such client');
  return suspension ? conflict('client_already_suspended', 'the client is already suspended') : conflict('client_not_suspended', 'the client is not suspended');
}

/** The owning organisation's admins are told, and the audit log keeps why. */
async function recordSuspensionChange(
  trx: Transaction<Database>,
  deps: SuspensionDeps,
  context: AuditContext,
  client: { client_id: string; client_name: string; organisation_id: string | null },
  change: 'suspended' | 'resumed',
  details: Record<string, unknown>,
) {
  if (client.organisation_id !== null) await announceClientChange(trx, deps.clock, client.organisation_id, client, change);
  await appendAudit(trx, deps, context, { action: `client.${change}`, subject: `client:${client.client_id}`, details: { client_name: client.client_name, ...details } });
}
