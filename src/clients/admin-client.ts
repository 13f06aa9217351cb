/**
 * Admin clients (issue 13): a client of one organisation that the instance
 * operator allows some admin area scopes (`warta:admin:*`, authority/admin-scopes.ts),
 * so a machine of that organisation can use the admin API. Only the operator
 * makes one (`warta client set-admin-scopes`): the scopes are reserved, so the
 * admin API refuses them at registration and update (clients/service.ts).
 *
 * Once a client holds admin scopes, its settings and secret are the operator's
 * too. Else one admin could point its redirect URI at themselves, catch another
 * admin's sign-in through it, and act as that admin: a second person they are not.
 */
import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import { ADMIN_SCOPES, adminScopesIn, isAdminScope } from './admin-scopes.js';
import type { Database, OAuthClient } from '../db/schema.js';
import { invalidRequest, notFound, WartaError } from '../errors.js';
import { announceClientChange } from './announce.js';

type AdminClientDeps = { db: Kysely<Database> } & AuditWriter;

/** Replaces the admin scopes a client may hold (none to make it an ordinary client again); the operator's act, announced and audited. */
export async function setClientAdminScopes(deps: AdminClientDeps, context: AuditContext, input: { clientId: string; scopes: readonly string[] }): Promise<{ client_id: string; admin_scopes: string[] }> {
  const wanted = [...new Set(input.scopes)];
  const unknown = wanted.filter((scope) => !isAdminScope(scope));
  if (unknown.length > 0) throw invalidRequest(`not admin scopes: ${unknown.join(', ')} (known: ${ADMIN_SCOPES.join(', ')})`);
  return deps.db.transaction().execute(async (trx) => {
    const client = await trx.selectFrom('oauth_clients').selectAll().where('client_id', '=', input.clientId).forUpdate().executeTakeFirst();
    if (!client) throw notFound('client_not_found', 'no such client');
    if (wanted.length > 0 && client.organisation_id === null) throw new WartaError(400, 'invalid_request', 'an admin client acts for one organisation: assign the client to one first (warta client assign)');
    // Warta's own resources know a person by id, never by a pairwise `sub` (clients/metadata.ts).
    if (wanted.length > 0 && client.subject_type === 'pairwise') throw invalidRequest('a pairwise client cannot hold admin scopes');
    if (wanted.length > 0 && !client.grant_types.includes('client_credentials') && !client.grant_types.includes('authorization_code')) throw invalidRequest('the client can get no access token');
    const before = adminScopesIn(client.scope);
    const scope = [...client.scope.split(' ').filter((s) => s !== '' && !isAdminScope(s)), ...ADMIN_SCOPES.filter((s) => wanted.includes(s))].join(' ');
    await trx.updateTable('oauth_clients').set({ scope, updated_at: deps.clock.now() }).where('client_id', '=', client.client_id).execute();
    const after = adminScopesIn(scope);
    await appendAudit(trx, deps, context, { action: 'client.admin_scopes_changed', subject: `client:${client.client_id}`, details: { organisation_id: client.organisation_id, before, after } });
    if (client.organisation_id !== null) await announceClientChange(trx, deps.clock, client.organisation_id, client, 'updated');
    return { client_id: client.client_id, admin_scopes: after };
  });
}

export const isAdminClient = (client: Pick<OAuthClient, 'scope'>) => adminScopesIn(client.scope).length > 0;

/** An organisation's admin (person or client) may not change an admin client's settings or secret; the refusal is audited. */
export async function refuseAdminClientChange(deps: AdminClientDeps, context: AuditContext, client: Pick<OAuthClient, 'client_id' | 'scope' | 'organisation_id'>, change: string): Promise<void> {
  if (!isAdminClient(client)) return;
  await appendAudit(deps.db, deps, context, { action: 'client.admin_client_refused', subject: `client:${client.client_id}`, outcome: 'failure', details: { organisation_id: client.organisation_id, change } });
  throw new WartaError(403, 'operator_required', 'this client holds admin scopes: only the instance operator (the warta CLI) changes its settings or secret');
}
