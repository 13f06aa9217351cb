import { decodeCursor, encodeCursor, pageSize } from '../db/cursor.js';
import type { Kysely, Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import { keyedHash, MAX_ISSUED_TOKEN_LENGTH, newToken } from '../crypto/random.js';
import { type AttributeValue, type Database, json, type OAuthClient } from '../db/schema.js';
import { notFound, WartaError } from '../errors.js';
import { revokeClientGrants } from '../grants/service.js';
import { refuseAdminClientChange } from './admin-client.js';
import { announceClientChange } from './announce.js';
import { type ClientMetadata, type ClientMetadataInput, TLS_CLIENT_AUTH_SUBJECTS, validateClientMetadata } from './metadata.js';
import { effectiveAudience, type OperatorSetting, operatorSettingsChanged } from './operator-settings.js';
import type { OutboundAllowList } from '../outbound/allow-list.js';
import { requireAllowedDestination } from '../outbound/registration.js';
import { reservedScopesIn } from './reserved-scopes.js';
import { effectiveSecurityProfile, fapi2Nonconformities, type SecurityProfile } from './security-profile.js';

export interface ClientDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  tokenHashKey: Buffer;
  config: { env: string; outbound: { allow: OutboundAllowList }; oidc: { clientSecurityProfileFloor: SecurityProfile } };
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
  /** RFC 9449 §8, §9: DPoP proofs must carry a nonce the server provided. */
  require_dpop_nonce: boolean;
  /** Audiences whose access tokens this resource server may introspect besides its own (operator-only). */
  introspection_audiences: string[];
  first_party: boolean;
  first_party_native: boolean;
  required_acr: string | null;
  access_token_audience: string | null;
  /** RFC 8705 §2.1.2: the one subject value of a tls_client_auth client's certificate. */
  tls_client_auth_subject_dn?: string;
  tls_client_auth_san_dns?: string;
  tls_client_auth_san_uri?: string;
  tls_client_auth_san_ip?: string;
  tls_client_auth_san_email?: string;
  tls_client_certificate_bound_access_tokens: boolean;
  /** The owning organisation; null: the instance operator's client. */
  organisation_id: string | null;
  cross_organisation_sign_in: boolean;
  /** The client's own profile (src/clients/security-profile.ts); its organisation's default and the instance floor may hold it to a stricter one. */
  security_profile: SecurityProfile;
  /** RFC 9126 §6: only pushed authorization requests are accepted (always true for a fapi2 client). */
  require_pushed_authorization_requests: boolean;
  /** OIDC Core §8: `pairwise` clients see a `sub` of their own sector (src/oidc/subject.ts). */
  subject_type: 'public' | 'pairwise';
  /** The pairwise sector the operator named (otherwise the redirect URIs' host). */
  sector_identifier?: string;
  /** Group paths one of which a user must be in (or under) to sign in. */
  required_groups: string[];
  /** For every attribute named, the values one of which a user must hold to sign in. */
  required_attributes: Record<string, AttributeValue[]>;
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
  require_dpop_nonce: client.require_dpop_nonce,
  introspection_audiences: client.introspection_audiences,
  first_party: client.first_party,
  first_party_native: client.first_party_native,
  required_acr: client.required_acr,
  access_token_audience: client.access_token_audience,
  ...Object.fromEntries(TLS_CLIENT_AUTH_SUBJECTS.filter((name) => client[name] !== null).map((name) => [name, client[name]])),
  tls_client_certificate_bound_access_tokens: client.tls_client_certificate_bound_access_tokens,
  organisation_id: client.organisation_id,
  cross_organisation_sign_in: client.cross_organisation_sign_in,
  security_profile: client.security_profile,
  require_pushed_authorization_requests: client.require_pushed_authorization_requests,
  subject_type: client.subject_type,
  ...(client.sector_identifier === null ? {} : { sector_identifier: client.sector_identifier }),
  required_groups: client.required_groups,
  required_attributes: client.required_attributes,
  ...(client.suspended_at ? { suspended: { at: client.suspended_at.toISOString(), reason: client.suspended_reason } } : {}),
});

const usesSecret = (method: string) => method === 'client_secret_basic' || method === 'client_secret_post';

/** 256 bits from the CSPRNG: too strong to guess, so a keyed hash (no argon2) is the right storage. */
const newClientSecret = () => newToken(32);

/**
 * Who acts on clients. The instance operator (the `warta` CLI on the host) acts on
 * every client and chooses every setting. An organisation's admin (the admin API)
 * sees and manages only the clients of their own organisation, and never the
 * settings that reach beyond it (operator-settings.ts) or a reserved scope.
 */
export type ClientAuthority = { kind: 'operator' } | { kind: 'admin'; organisationId: string };

export const OPERATOR: ClientAuthority = { kind: 'operator' };
export const organisationAdmin = (organisationId: string): ClientAuthority => ({ kind: 'admin', organisationId });

/** The organisation an authority is confined to; undefined for the operator. */
const confinedTo = (authority: ClientAuthority): string | undefined => (authority.kind === 'admin' ? authority.organisationId : undefined);

/** Registration or update input as received; `organisation_id` is read only to refuse an admin who names another organisation. */
export type ClientInput = ClientMetadataInput & { organisation_id?: unknown };

export interface RegistrationOptions {
  authority: ClientAuthority;
  /** The owner the operator chooses (null or left out: the operator's own client). An admin's client is always their organisation's. */
  organisationId?: string | null;
}

/** Registers a client; returns it with its secret (the only time the secret is ever shown). */
export async function registerClient(deps: ClientDeps, context: AuditContext, input: ClientInput, options: RegistrationOptions): Promise<ClientView> {
  const { authority } = options;
  const metadata = validateClientMetadata(input, { developmentMode: deps.config.env !== 'production' });
  const owner = authority.kind === 'admin' ? authority.organisationId : (options.organisationId ?? null);
  const reservedScopes = reservedScopesIn(metadata.scope);
  if (authority.kind === 'admin') {
    await refuseReservedScopes(deps, context, metadata.client_name, reservedScopes);
    const defaults = { first_party: false, first_party_native: false, access_token_audience: null, cross_organisation_sign_in: false, organisation_id: owner, introspection_audiences: [], sector_identifier: null, required_groups: [], required_attributes: {} };
    await refuseOperatorSettings(deps, context, { clientName: metadata.client_name, organisationId: owner }, operatorSettingsChanged({ ...metadata, organisation_id: requestedOwner(input, owner) }, defaults));
  }
  await refuseProfileMismatch(deps, metadata, owner);
  if (metadata.backchannel_logout_uri !== null)
    await requireAllowedDestination(deps, context, { url: new URL(metadata.backchannel_logout_uri), field: 'backchannel_logout_uri' }, (description) => new WartaError(400, 'invalid_client_metadata', description));
  const now = deps.clock.now();
  const secret = usesSecret(metadata.token_endpoint_auth_method) ? newClientSecret() : undefined;
  return deps.db.transaction().execute(async (trx) => {
    const client = await trx
      .insertInto('oauth_clients')
      .values({
        client_id: newToken(16),
        client_secret_hash: secret === undefined ? null : keyedHash(deps.tokenHashKey, secret),
        client_secret_issued_at: secret === undefined ? null : now,
        ...metadataColumns(metadata),
        organisation_id: owner,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, deps, context, {
      action: 'client.created',
      subject: `client:${client.client_id}`,
      details: {
        client_name: client.client_name,
        organisation_id: owner,
        grant_types: metadata.grant_types,
        token_endpoint_auth_method: metadata.token_endpoint_auth_method,
        ...Object.fromEntries(TLS_CLIENT_AUTH_SUBJECTS.filter((name) => metadata[name] !== null).map((name) => [name, metadata[name]])),
        ...(metadata.tls_client_certificate_bound_access_tokens ? { tls_client_certificate_bound_access_tokens: true } : {}),
        redirect_uris: metadata.redirect_uris,
        first_party: metadata.first_party,
        ...(metadata.first_party_native ? { first_party_native: true } : {}),
        access_token_audience: metadata.access_token_audience,
        cross_organisation_sign_in: metadata.cross_organisation_sign_in,
        ...(metadata.introspection_audiences.length > 0 ? { introspection_audiences: metadata.introspection_audiences } : {}),
        security_profile: metadata.security_profile,
        ...(metadata.subject_type === 'pairwise' ? { subject_type: 'pairwise', sector_identifier: metadata.sector_identifier } : {}),
        ...(reservedScopes.length > 0 ? { reserved_scopes: reservedScopes } : {}),
      },
    });
    if (authority.kind === 'operator' && owner !== null) await announceClientChange(trx, deps.clock, owner, client, 'registered');
    return clientView(client, secret);
  });
}

/** The stored columns of validated metadata (JSON columns encoded). */
function metadataColumns(metadata: ClientMetadata) {
  return {
    client_name: metadata.client_name,
    application_type: metadata.application_type,
    token_endpoint_auth_method: metadata.token_endpoint_auth_method,
    jwks: metadata.jwks === null ? null : json(metadata.jwks),
    redirect_uris: json(metadata.redirect_uris),
    post_logout_redirect_uris: json(metadata.post_logout_redirect_uris),
    grant_types: json(metadata.grant_types),
    scope: metadata.scope,
    first_party: metadata.first_party,
    first_party_native: metadata.first_party_native,
    required_acr: metadata.required_acr,
    dpop_bound_access_tokens: metadata.dpop_bound_access_tokens,
    access_token_audience: metadata.access_token_audience,
    tls_client_auth_subject_dn: metadata.tls_client_auth_subject_dn,
    tls_client_auth_san_dns: metadata.tls_client_auth_san_dns,
    tls_client_auth_san_uri: metadata.tls_client_auth_san_uri,
    tls_client_auth_san_ip: metadata.tls_client_auth_san_ip,
    tls_client_auth_san_email: metadata.tls_client_auth_san_email,
    tls_client_certificate_bound_access_tokens: metadata.tls_client_certificate_bound_access_tokens,
    backchannel_logout_uri: metadata.backchannel_logout_uri,
    backchannel_logout_session_required: metadata.backchannel_logout_session_required,
    cross_organisation_sign_in: metadata.cross_organisation_sign_in,
    require_dpop_nonce: metadata.require_dpop_nonce,
    introspection_audiences: json(metadata.introspection_audiences),
    security_profile: metadata.security_profile,
    require_pushed_authorization_requests: metadata.require_pushed_authorization_requests,
    subject_type: metadata.subject_type,
    sector_identifier: metadata.sector_identifier,
    required_groups: json(metadata.required_groups),
    required_attributes: json(metadata.required_attributes),
  };
}

/**
 * Refuses a client that its organisation's default or the instance floor would hold to
 * fapi2 while it registers a baseline method: it would be registered only to be refused
 * at every request. Its own fapi2 setting was checked with the rest of the metadata.
 */
async function refuseProfileMismatch(deps: ClientDeps, metadata: ClientMetadata, organisationId: string | null): Promise<void> {
  const profile = await effectiveSecurityProfile(deps, { security_profile: metadata.security_profile, organisation_id: organisationId });
  if (profile !== 'fapi2' || metadata.security_profile === 'fapi2') return;
  const problem = fapi2Nonconformities(metadata)[0];
  const heldBy = deps.config.oidc.clientSecurityProfileFloor === 'fapi2' ? 'this instance holds every client' : "the organisation's policy holds its clients";
  if (problem !== undefined) throw new WartaError(400, 'invalid_client_metadata', `${heldBy} to the fapi2 security profile: ${problem}`);
}

/** The owner an input names: `organisation_id` when given (anything but a string or null never matches an owner), else `owner`. */
function requestedOwner(input: ClientInput, owner: string | null): string | null {
  if (input.organisation_id === undefined) return owner;
  return typeof input.organisation_id === 'string' || input.organisation_id === null ? input.organisation_id : `invalid:${JSON.stringify(input.organisation_id)}`;
}

async function refuseReservedScopes(deps: ClientDeps, context: AuditContext, clientName: string, reservedScopes: string[]): Promise<void> {
  if (reservedScopes.length === 0) return;
  // Nothing is registered; the attempt is on record, for it is what a compromised admin would try.
  await appendAudit(deps.db, deps, context, { action: 'client.reserved_scope_refused', outcome: 'failure', details: { client_name: clientName, reserved_scopes: reservedScopes } });
  throw new WartaError(400, 'invalid_client_metadata', `only the instance operator (the warta CLI) may allow ${reservedScopes.join(', ')}`);
}

async function refuseOperatorSettings(deps: ClientDeps, context: AuditContext, attempt: { clientId?: string; clientName: string; organisationId: string | null }, settings: OperatorSetting[]): Promise<void> {
  if (settings.length === 0) return;
  // Nothing is written. Each of these reaches another organisation's users or services: the attempt is on record.
  await appendAudit(deps.db, deps, context, {
    action: 'client.operator_setting_refused',
    subject: attempt.clientId === undefined ? null : `client:${attempt.clientId}`,
    outcome: 'failure',
    details: { client_name: attempt.clientName, organisation_id: attempt.organisationId, settings },
  });
  throw new WartaError(403, 'operator_only_setting', `only the instance operator (the warta CLI) may set ${settings.join(', ')}`);
}

/** Any client, by id, for the protocol endpoints; never for management (use getClient with an authority). */
export async function findClient(db: Kysely<Database>, clientId: string): Promise<OAuthClient | undefined> {
  if (clientId.length > MAX_ISSUED_TOKEN_LENGTH) return undefined;
  return db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/**
 * The client as `authority` may see it. Another organisation's client, and the
 * operator's, is "not found" to an admin, so a client_id reveals nothing about
 * clients the admin does not manage.
 */
export async function getClient(db: Kysely<Database>, clientId: string, authority: ClientAuthority): Promise<OAuthClient> {
  const organisationId = confinedTo(authority);
  const client = await findClient(db, clientId);
  if (!client || (organisationId !== undefined && client.organisation_id !== organisationId)) throw notFound('client_not_found', 'no such client');
  return client;
}

/** The clients `authority` manages; the operator may narrow the list to one organisation's (or, with null, to the operator's own). */
export async function listClients(db: Kysely<Database>, authority: ClientAuthority, filter: { organisationId?: string | null } = {}): Promise<ClientView[]> {
  return (await clientRows(db, authority, filter)).map((row) => clientView(row));
}

/** listClients a page at a time (oldest first), for the admin API and the console. */
export async function listClientPage(db: Kysely<Database>, authority: ClientAuthority, page: { cursor?: string | undefined; limit?: number | undefined }): Promise<{ clients: ClientView[]; next_cursor: string | null }> {
  const limit = pageSize(page.limit, 100, 50);
  const after = page.cursor ? decodeCursor(page.cursor, 2) : undefined;
  const rows = await clientRows(db, authority, {}, { after: after as [string, string] | undefined, limit: limit + 1 });
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { clients: shown.map((row) => clientView(row)), next_cursor: rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.client_id]) : null };
}

function clientRows(db: Kysely<Database>, authority: ClientAuthority, filter: { organisationId?: string | null }, page: { after?: [string, string] | undefined; limit?: number } = {}) {
  const organisationId = confinedTo(authority) ?? filter.organisationId;
  const afterTime = page.after ? new Date(page.after[0]) : undefined;
  if (afterTime && Number.isNaN(afterTime.getTime())) throw new WartaError(400, 'invalid_request', 'cursor is not one this server gave out');
  return db
    .selectFrom('oauth_clients')
    .selectAll()
    .$if(organisationId !== undefined, (qb) => (organisationId === null ? qb.where('organisation_id', 'is', null) : qb.where('organisation_id', '=', organisationId!)))
    .$if(afterTime !== undefined, (qb) => qb.where((eb) => eb.or([eb('created_at', '>', afterTime!), eb.and([eb('created_at', '=', afterTime!), eb('client_id', '>', page.after![1])])])))
    .orderBy('created_at')
    .orderBy('client_id')
    .$if(page.limit !== undefined, (qb) => qb.limit(page.limit!))
    .execute();
}

/** A stored client as registration input: what an update starts from. */
function storedMetadata(client: OAuthClient): ClientMetadataInput {
  const { client_id: _id, client_secret_hash: _hash, client_secret_issued_at: _issued, organisation_id: _owner, created_at: _created, updated_at: _updated, ...metadata } = client;
  // Off is the default of these two, not a choice: a client moved to fapi2 (which implies both) need not turn them on by hand.
  return { ...metadata, dpop_bound_access_tokens: client.dpop_bound_access_tokens || undefined, require_pushed_authorization_requests: client.require_pushed_authorization_requests || undefined };
}

/** Metadata columns an update may never change: how a client authenticates decides whether it has a secret at all. */
const FIXED_AT_REGISTRATION = ['application_type', 'token_endpoint_auth_method'] as const;

/**
 * Changes a client's metadata: members left out keep their value, `null` clears
 * one. The result is validated as a whole, like a registration. An admin may not
 * change an operator-only setting nor add a reserved scope; the operator changes
 * the owner with `assignClient`, never here. Turning cross-organisation sign-in
 * off revokes the grants of other organisations' users in the same transaction.
 */
export async function updateClient(deps: ClientDeps, context: AuditContext, clientId: string, input: ClientInput, options: { authority: ClientAuthority }): Promise<ClientView> {
  const { authority } = options;
  const current = await getClient(deps.db, clientId, authority);
  if (authority.kind === 'admin') await refuseAdminClientChange(deps, context, current, 'update');
  for (const name of FIXED_AT_REGISTRATION)
    if (input[name] !== undefined && input[name] !== current[name]) throw new WartaError(400, 'invalid_client_metadata', `${name} cannot change; register a new client instead`);
  const given: ClientMetadataInput = Object.fromEntries(Object.entries(input).filter(([name, value]) => value !== undefined && name !== 'organisation_id'));
  // The client's own id is its default audience (and no URI): the same as none.
  if (given.access_token_audience === clientId) given.access_token_audience = null;
  const metadata = validateClientMetadata({ ...storedMetadata(current), ...given }, { developmentMode: deps.config.env !== 'production' });
  const owner = requestedOwner(input, current.organisation_id);
  await refuseProfileMismatch(deps, metadata, current.organisation_id);
  if (authority.kind === 'admin') {
    const added = reservedScopesIn(metadata.scope).filter((scope) => !reservedScopesIn(current.scope).includes(scope));
    await refuseReservedScopes(deps, context, metadata.client_name, added);
    await refuseOperatorSettings(deps, context, { clientId, clientName: current.client_name, organisationId: current.organisation_id }, operatorSettingsChanged({ ...metadata, organisation_id: owner }, current));
  } else if (owner !== current.organisation_id) {
    throw new WartaError(400, 'invalid_request', 'a client changes organisation only through `warta client assign`');
  }
  if (metadata.backchannel_logout_uri !== null && metadata.backchannel_logout_uri !== current.backchannel_logout_uri)
    await requireAllowedDestination(deps, context, { url: new URL(metadata.backchannel_logout_uri), field: 'backchannel_logout_uri' }, (description) => new WartaError(400, 'invalid_client_metadata', description));
  const changed = (Object.keys(metadata) as (keyof ClientMetadata)[]).filter((name) => JSON.stringify(metadata[name]) !== JSON.stringify(current[name]));
  return deps.db.transaction().execute(async (trx) => {
    const client = await trx
      .updateTable('oauth_clients')
      .set({ ...metadataColumns(metadata), updated_at: deps.clock.now() })
      .where('client_id', '=', clientId)
      .where('organisation_id', current.organisation_id === null ? 'is' : '=', current.organisation_id)
      // Optimistic: an update built on a read that another change has overtaken would undo that change.
      .where('updated_at', '=', current.updated_at)
      .returningAll()
      .executeTakeFirst();
    if (!client) throw new WartaError(409, 'client_modified', 'the client changed while this update was made; read it again and retry');
    const grantsRevoked = await revokeGrantsOfOtherOrganisations(trx, deps.clock, client);
    const profileChange = changed.includes('security_profile') ? { security_profile: { before: current.security_profile, after: client.security_profile } } : {};
    await appendAudit(trx, deps, context, { action: 'client.updated', subject: `client:${clientId}`, details: { organisation_id: client.organisation_id, changed, ...profileChange, ...(grantsRevoked > 0 ? { grants_revoked: grantsRevoked } : {}) } });
    if (authority.kind === 'operator' && client.organisation_id !== null) await announceClientChange(trx, deps.clock, client.organisation_id, client, 'updated');
    return clientView(client);
  });
}

/**
 * Gives a client to an organisation (or, with null, back to the operator): the
 * operator's act alone. Grants of users the client no longer accepts are revoked
 * in the same transaction, so their refresh tokens stop working and their access
 * tokens introspect as inactive at once. Both organisations' admins are told.
 */
export async function assignClient(deps: Pick<ClientDeps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, clientId: string, organisationId: string | null): Promise<ClientView & { grants_revoked: number }> {
  return deps.db.transaction().execute(async (trx) => {
    const current = clientId.length > MAX_ISSUED_TOKEN_LENGTH ? undefined : await trx.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).forUpdate().executeTakeFirst();
    if (!current) throw notFound('client_not_found', 'no such client');
    if (current.organisation_id === organisationId) return { ...clientView(current), grants_revoked: 0 };
    const client = await trx.updateTable('oauth_clients').set({ organisation_id: organisationId, updated_at: deps.clock.now() }).where('client_id', '=', clientId).returningAll().executeTakeFirstOrThrow();
    const grantsRevoked = await revokeGrantsOfOtherOrganisations(trx, deps.clock, client);
    await appendAudit(trx, deps, context, { action: 'client.assigned', subject: `client:${clientId}`, details: { client_name: client.client_name, from_organisation_id: current.organisation_id, to_organisation_id: organisationId, grants_revoked: grantsRevoked } });
    if (current.organisation_id !== null) await announceClientChange(trx, deps.clock, current.organisation_id, client, 'unassigned');
    if (organisationId !== null) await announceClientChange(trx, deps.clock, organisationId, client, 'assigned');
    return { ...clientView(client), grants_revoked: grantsRevoked };
  });
}

/** Revokes the live grants of users `client` no longer accepts (another organisation's, unless it allows them), telling the client by back-channel logout; returns how many. */
async function revokeGrantsOfOtherOrganisations(trx: Transaction<Database>, clock: Clock, client: OAuthClient): Promise<number> {
  if (client.organisation_id === null || client.cross_organisation_sign_in) return 0;
  return (await revokeClientGrants(trx, clock, client, 'client_organisation_changed', client.organisation_id)).grantsRevoked;
}

/** Replaces the secret at once (the old one stops working); returns the new one, shown once. */
export async function rotateClientSecret(deps: ClientDeps, context: AuditContext, clientId: string, authority: ClientAuthority): Promise<ClientView> {
  const current = await getClient(deps.db, clientId, authority);
  if (authority.kind === 'admin') await refuseAdminClientChange(deps, context, current, 'rotate_secret');
  if (!usesSecret(current.token_endpoint_auth_method)) throw new WartaError(400, 'invalid_request', 'this client authenticates without a secret');
  const secret = newClientSecret();
  return deps.db.transaction().execute(async (trx) => {
    const client = await trx
      .updateTable('oauth_clients')
      .set({ client_secret_hash: keyedHash(deps.tokenHashKey, secret), client_secret_issued_at: deps.clock.now(), updated_at: deps.clock.now() })
      .where('client_id', '=', clientId)
      // The owner read above still holds: a client assigned elsewhere meanwhile is not rotated by its former admins.
      .where('organisation_id', current.organisation_id === null ? 'is' : '=', current.organisation_id)
      .returningAll()
      .executeTakeFirst();
    if (!client) throw notFound('client_not_found', 'no such client');
    await appendAudit(trx, deps, context, { action: 'client.secret_rotated', subject: `client:${clientId}`, details: { organisation_id: client.organisation_id } });
    if (authority.kind === 'operator' && client.organisation_id !== null) await announceClientChange(trx, deps.clock, client.organisation_id, client, 'secret_rotated');
    return clientView(client, secret);
  });
}

/** Deletes the client and, by cascade, every grant, code and refresh token issued to it. */
export async function deleteClient(deps: Pick<ClientDeps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, clientId: string, authority: ClientAuthority): Promise<void> {
  const organisationId = confinedTo(authority);
  await deps.db.transaction().execute(async (trx) => {
    const deleted = await trx
      .deleteFrom('oauth_clients')
      .where('client_id', '=', clientId)
      .$if(organisationId !== undefined, (qb) => qb.where('organisation_id', '=', organisationId!))
      .returning(['client_id', 'client_name', 'organisation_id'])
      .executeTakeFirst();
    if (!deleted) throw notFound('client_not_found', 'no such client');
    await appendAudit(trx, deps, context, { action: 'client.deleted', subject: `client:${clientId}`, details: { client_name: deleted.client_name, organisation_id: deleted.organisation_id } });
    if (authority.kind === 'operator' && deleted.organisation_id !== null) await announceClientChange(trx, deps.clock, deleted.organisation_id, deleted, 'deleted');
  });
}
