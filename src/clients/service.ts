import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import { keyedHash, MAX_ISSUED_TOKEN_LENGTH, newToken } from '../crypto/random.js';
import { type Database, json, type OAuthClient } from '../db/schema.js';
import { notFound, WartaError } from '../errors.js';
import { type ClientMetadataInput, validateClientMetadata } from './metadata.js';
import { reservedScopesIn } from './reserved-scopes.js';

export interface ClientDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  tokenHashKey: Buffer;
  config: { env: string };
}

/** The RFC 7591 §3.2.1 view of a client; `client_secret` only right after it was generated. */
export interface ClientView {
  client_id: string;
  client_secret?: string;
  client_id_issued_at: number;
  client_secret_expires_at?: number;
  client_name: string;
  application_type: 'web' | 'native';
  token_endpoint_auth_method: string;
  grant_types: string[];
  response_types: string[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  scope: string;
  jwks?: unknown;
  backchannel_logout_uri?: string;
  backchannel_logout_session_required: boolean;
  dpop_bound_access_tokens: boolean;
  first_party: boolean;
  required_acr: string | null;
  access_token_audience: string | null;
  /** Only while the operator has the client suspended (src/incident/). */
  suspended?: { at: string; reason: string | null };
}

export const clientView = (client: OAuthClient, secret?: string): ClientView => ({
  client_id: client.client_id,
  ...(secret === undefined ? {} : { client_secret: secret }),
  client_id_issued_at: Math.floor(client.created_at.getTime() / 1000),
  // RFC 7591 §3.2.1: REQUIRED when a secret was issued; 0 means it does not expire.
  ...(client.client_secret_hash === null ? {} : { client_secret_expires_at: 0 }),
  client_name: client.client_name,
  application_type: client.application_type,
  token_endpoint_auth_method: client.token_endpoint_auth_method,
  grant_types: client.grant_types,
  response_types: client.grant_types.includes('authorization_code') ? ['code'] : [],
  redirect_uris: client.redirect_uris,
  post_logout_redirect_uris: client.post_logout_redirect_uris,
  scope: client.scope,
  ...(client.jwks ? { jwks: client.jwks } : {}),
  ...(client.backchannel_logout_uri ? { backchannel_logout_uri: client.backchannel_logout_uri } : {}),
  backchannel_logout_session_required: client.backchannel_logout_session_required,
  dpop_bound_access_tokens: client.dpop_bound_access_tokens,
  first_party: client.first_party,
  required_acr: client.required_acr,
  access_token_audience: client.access_token_audience,
  ...(client.suspended_at ? { suspended: { at: client.suspended_at.toISOString(), reason: client.suspended_reason } } : {}),
});

const usesSecret = (method: string) => method === 'client_secret_basic' || method === 'client_secret_post';

/** 256 bits from the CSPRNG: too strong to guess, so a keyed hash (no argon2) is the right storage. */
const newClientSecret = () => newToken(32);

/**
 * Who registers a client: the instance operator (the `warta` CLI on the host) or an
 * organisation admin (the admin API). Only the operator may allow reserved scopes.
 */
export type ClientAuthority = 'operator' | 'admin';

/**
 * Registers a client; returns it with its secret (the only time the secret is ever shown).
 * `authority` defaults to the lesser one, so a caller that forgets it cannot grant a reserved scope.
 */
export async function registerClient(deps: ClientDeps, context: AuditContext, input: ClientMetadataInput, options: { authority?: ClientAuthority } = {}): Promise<ClientView> {
  const metadata = validateClientMetadata(input, { developmentMode: deps.config.env !== 'production' });
  const reservedScopes = reservedScopesIn(metadata.scope);
  if (reservedScopes.length > 0 && options.authority !== 'operator') {
    // Nothing is registered; the attempt is on record, for it is what a compromised admin would try.
    await appendAudit(deps.db, deps, context, { action: 'client.reserved_scope_refused', outcome: 'failure', details: { client_name: metadata.client_name, reserved_scopes: reservedScopes } });
    throw new WartaError(400, 'invalid_client_metadata', `only the instance operator (the warta CLI) may allow ${reservedScopes.join(', ')}`);
  }
  const now = deps.clock.now();
  const secret = usesSecret(metadata.token_endpoint_auth_method) ? newClientSecret() : undefined;
  return deps.db.transaction().execute(async (trx) => {
    const client = await trx
      .insertInto('oauth_clients')
      .values({
        client_id: newToken(16),
        client_name: metadata.client_name,
        application_type: metadata.application_type,
        token_endpoint_auth_method: metadata.token_endpoint_auth_method,
        client_secret_hash: secret === undefined ? null : keyedHash(deps.tokenHashKey, secret),
        client_secret_issued_at: secret === undefined ? null : now,
        jwks: metadata.jwks === null ? null : json(metadata.jwks),
        redirect_uris: json(metadata.redirect_uris),
        post_logout_redirect_uris: json(metadata.post_logout_redirect_uris),
        grant_types: json(metadata.grant_types),
        scope: metadata.scope,
        first_party: metadata.first_party,
        required_acr: metadata.required_acr,
        dpop_bound_access_tokens: metadata.dpop_bound_access_tokens,
        access_token_audience: metadata.access_token_audience,
        backchannel_logout_uri: metadata.backchannel_logout_uri,
        backchannel_logout_session_required: metadata.backchannel_logout_session_required,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, deps, context, {
      action: 'client.created',
      subject: `client:${client.client_id}`,
      details: { client_name: client.client_name, grant_types: metadata.grant_types, token_endpoint_auth_method: metadata.token_endpoint_auth_method, redirect_uris: metadata.redirect_uris, first_party: metadata.first_party, ...(reservedScopes.length > 0 ? { reserved_scopes: reservedScopes } : {}) },
    });
    return clientView(client, secret);
  });
}

export async function findClient(db: Kysely<Database>, clientId: string): Promise<OAuthClient | undefined> {
  if (clientId.length > MAX_ISSUED_TOKEN_LENGTH) return undefined;
  return db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

export async function getClient(db: Kysely<Database>, clientId: string): Promise<OAuthClient> {
  const client = await findClient(db, clientId);
  if (!client) throw notFound('client_not_found', 'no such client');
  return client;
}

export async function listClients(db: Kysely<Database>): Promise<ClientView[]> {
  const rows = await db.selectFrom('oauth_clients').selectAll().orderBy('created_at').orderBy('client_id').execute();
  return rows.map((row) => clientView(row));
}

/** Replaces the secret at once (the old one stops working); returns the new one, shown once. */
export async function rotateClientSecret(deps: ClientDeps, context: AuditContext, clientId: string): Promise<ClientView> {
  const secret = newClientSecret();
  return deps.db.transaction().execute(async (trx) => {
    const client = await trx
      .updateTable('oauth_clients')
      .set({ client_secret_hash: keyedHash(deps.tokenHashKey, secret), client_secret_issued_at: deps.clock.now(), updated_at: deps.clock.now() })
      .where('client_id', '=', clientId)
      .where('token_endpoint_auth_method', 'in', ['client_secret_basic', 'client_secret_post'])
      .returningAll()
      .executeTakeFirst();
    if (!client) {
      const exists = await trx.selectFrom('oauth_clients').select('client_id').where('client_id', '=', clientId).executeTakeFirst();
      if (!exists) throw notFound('client_not_found', 'no such client');
      throw new WartaError(400, 'invalid_request', 'this client authenticates without a secret');
    }
    await appendAudit(trx, deps, context, { action: 'client.secret_rotated', subject: `client:${clientId}` });
    return clientView(client, secret);
  });
}

/** Deletes the client and, by cascade, every grant, code and refresh token issued to it. */
export async function deleteClient(deps: Pick<ClientDeps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, clientId: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const deleted = await trx.deleteFrom('oauth_clients').where('client_id', '=', clientId).returning(['client_id', 'client_name']).executeTakeFirst();
    if (!deleted) throw notFound('client_not_found', 'no such client');
    await appendAudit(trx, deps, context, { action: 'client.deleted', subject: `client:${clientId}`, details: { client_name: deleted.client_name } });
  });
}
