/**
 * SCIM clients (issue 17): a client of one organisation that the instance operator
 * lets hold the reserved `scim` scope (clients/reserved-scopes.ts), so the
 * organisation's directory can create, change, deactivate and remove its people
 * through /scim/v2. An organisation admin cannot make one: the scope is refused at
 * registration and update (clients/service.ts). Only client credentials: a directory
 * acts for the organisation, never as a person.
 */
import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import type { Database } from '../db/schema.js';
import { invalidRequest, notFound } from '../errors.js';
import { announceClientChange } from './announce.js';
import { SCIM_SCOPE } from './reserved-scopes.js';

type ScimClientDeps = { db: Kysely<Database> } & AuditWriter;

/** Gives or takes away the `scim` scope; the operator's act, announced to the organisation's admins and audited. */
export async function setClientScim(deps: ScimClientDeps, context: AuditContext, input: { clientId: string; allowed: boolean }): Promise<{ client_id: string; scim: boolean }> {
  return deps.db.transaction().execute(async (trx) => {
    const client = await trx.selectFrom('oauth_clients').selectAll().where('client_id', '=', input.clientId).forUpdate().executeTakeFirst();
    if (!client) throw notFound('client_not_found', 'no such client');
    if (input.allowed && client.organisation_id === null) throw invalidRequest('a SCIM client provisions one organisation: assign the client to one first (warta client assign)');
    if (input.allowed && !client.grant_types.includes('client_credentials')) throw invalidRequest('a SCIM client needs the client_credentials grant');
    const before = client.scope.split(' ').includes(SCIM_SCOPE);
    const scope = [...client.scope.split(' ').filter((s) => s !== '' && s !== SCIM_SCOPE), ...(input.allowed ? [SCIM_SCOPE] : [])].join(' ');
    await trx.updateTable('oauth_clients').set({ scope, updated_at: deps.clock.now() }).where('client_id', '=', client.client_id).execute();
    await appendAudit(trx, deps, context, { action: 'client.scim_changed', subject: `client:${client.client_id}`, details: { organisation_id: client.organisation_id, before, after: input.allowed } });
    if (client.organisation_id !== null) await announceClientChange(trx, deps.clock, client.organisation_id, client, 'updated');
    return { client_id: client.client_id, scim: input.allowed };
  });
}
