/**
 * Client registration metadata (RFC 7591 §2 names, OIDC Registration §2, RP-Initiated
 * Logout §3.1, Back-Channel Logout §2.2, RFC 9449 §5.2 and §8, RFC 8705 §2.1.2 and §3.4), validated into the row an
 * admin registers. Anything Warta does not offer is refused, not ignored: an admin who
 * asks for the implicit grant must learn that it does not exist here.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { WartaError } from '../errors.js';
import type { AttributeValue, OAuthClient, TokenEndpointAuthMethod } from '../db/schema.js';
import { DistinguishedNameError, parseDistinguishedName } from '../crypto/distinguished-name.js';
import { parseIpAddress } from '../outbound/addresses.js';
import { validateRedirectUriForRegistration } from './redirect-uri.js';
import { reservedScopesIn } from './reserved-scopes.js';
import { ATTRIBUTE_NAME, ATTRIBUTE_SCOPE_PREFIX } from '../attributes/service.js';
import { redirectUrisHost } from './sector.js';
import { ACR_HARDWARE, ACR_MFA, ACR_PHISHING_RESISTANT } from '../sessions/service.js';
import { FAPI2_SIGNING_ALGS, fapi2Nonconformities, SECURITY_PROFILES, type SecurityProfile } from './security-profile.js';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'];

/** RFC 8705 §2.1.2: the client metadata naming the one subject value a tls_client_auth certificate must carry. */
export const TLS_CLIENT_AUTH_SUBJECTS = ['tls_client_auth_subject_dn', 'tls_client_auth_san_dns', 'tls_client_auth_san_uri', 'tls_client_auth_san_ip', 'tls_client_auth_san_email'] as const;
export type TlsClientAuthSubject = (typeof TLS_CLIENT_AUTH_SUBJECTS)[number];

export const REQUIRABLE_ACRS = [ACR_MFA, ACR_PHISHING_RESISTANT, ACR_HARDWARE] as const;

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

/** The columns a registration chooses; Warta sets the id, the secret and the timestamps itself, the owner comes from who registers (service.ts), and suspension is the operator's (src/incident/). */
type RegisteredColumns = Omit<OAuthClient, 'client_id' | 'client_secret_hash' | 'client_secret_issued_at' | 'organisation_id' | 'created_at' | 'updated_at' | 'suspended_at' | 'suspended_reason' | 'suspended_by'>;

/** Registration input by column name, as received: nothing checked yet. */
export type ClientMetadataInput = { [Column in keyof RegisteredColumns]?: unknown };

/** Validated registration metadata: the registered columns, with only the grant types Warta offers. */
export type ClientMetadata = Omit<RegisteredColumns, 'grant_types'> & { grant_types: GrantType[] };

const invalidMetadata = (description: string) => new WartaError(400, 'invalid_client_metadata', description);

/** Validates admin input; `developmentMode` lets web clients use http loopback redirect URIs. */
export function validateClientMetadata(input: ClientMetadataInput, options: { developmentMode: boolean }): ClientMetadata {
  const clientName = text(input.client_name, 'client_name', 200);
  if (!clientName) throw invalidMetadata('client_name is required');

  const applicationType = oneOf(input.application_type ?? 'web', 'application_type', ['web', 'native'] as const);
  const grantTypes = grantTypesOf(input.grant_types);
  const method = oneOf(input.token_endpoint_auth_method ?? (applicationType === 'native' ? 'none' : 'client_secret_basic'), 'token_endpoint_auth_method', AUTH_METHODS);

  // RFC 8252 §8.5: a secret shipped inside an app is known to everyone who has the app.
  if (applicationType === 'native' && method !== 'none') throw invalidMetadata('native clients are public: token_endpoint_auth_method must be none (PKCE protects them)');
  if (applicationType === 'web' && method === 'none') throw invalidMetadata('web clients must authenticate: use client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth or self_signed_tls_client_auth');
  if (grantTypes.includes('client_credentials') && method === 'none') throw invalidMetadata('client_credentials needs a confidential client');

  const redirectUris = uriList(input.redirect_uris, 'redirect_uris', applicationType, options.developmentMode);
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) throw new WartaError(400, 'invalid_redirect_uri', 'redirect_uris is required for the authorization_code grant');
  const postLogoutRedirectUris = uriList(input.post_logout_redirect_uris, 'post_logout_redirect_uris', applicationType, options.developmentMode);

  const scope = scopeOf(input.scope, grantTypes);
  const jwks = jwksOf(input.jwks, method);
  const tlsSubject = tlsClientAuthSubjectOf(input, method);

  const requiredAcr = input.required_acr === undefined || input.required_acr === null || input.required_acr === '' ? null : oneOf(input.required_acr, 'required_acr', REQUIRABLE_ACRS);
  const backchannelLogoutUri = backchannelUri(input.backchannel_logout_uri, options.developmentMode);
  const firstPartyNative = flag(input.first_party_native, 'first_party_native');
  // The authorization challenge endpoint has no pages, so no consent page either: only the operator sets it (operator-settings.ts).
  if (firstPartyNative && (applicationType !== 'native' || !grantTypes.includes('authorization_code')))
    throw invalidMetadata('first_party_native needs a native client with the authorization_code grant');
  const audience = text(input.access_token_audience, 'access_token_audience', 512) || null;
  if (audience !== null && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(audience)) throw invalidMetadata('access_token_audience must be an absolute URI');
  const introspectionAudiences = stringArray(input.introspection_audiences, 'introspection_audiences');
  for (const aud of introspectionAudiences) if (aud.length > 512 || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(aud)) throw invalidMetadata('introspection_audiences must be absolute URIs');
  if (introspectionAudiences.length > 0 && method === 'none') throw invalidMetadata('introspection_audiences is for resource servers: confidential clients');

  const pairwise = pairwiseSettings(input, { redirectUris, scope });
  const requiredGroups = requiredGroupsOf(input.required_groups);
  const requiredAttributes = requiredAttributesOf(input.required_attributes);

  const securityProfile = input.security_profile === undefined || input.security_profile === null ? 'baseline' : oneOf(input.security_profile, 'security_profile', SECURITY_PROFILES);
  const profileRules = fapi2Rules(securityProfile, { token_endpoint_auth_method: method, application_type: applicationType, jwks }, input);

  return {
    client_name: clientName,
    application_type: applicationType,
    token_endpoint_auth_method: method,
    grant_types: grantTypes,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    scope,
    jwks,
    first_party: flag(input.first_party, 'first_party'),
    first_party_native: firstPartyNative,
    required_acr: requiredAcr,
    dpop_bound_access_tokens: profileRules.dpopBound || flag(input.dpop_bound_access_tokens, 'dpop_bound_access_tokens'),
    access_token_audience: audience,
    ...tlsSubject,
    tls_client_certificate_bound_access_tokens: flag(input.tls_client_certificate_bound_access_tokens, 'tls_client_certificate_bound_access_tokens'),
    backchannel_logout_uri: backchannelLogoutUri,
    backchannel_logout_session_required: flag(input.backchannel_logout_session_required, 'backchannel_logout_session_required'),
    cross_organisation_sign_in: flag(input.cross_organisation_sign_in, 'cross_organisation_sign_in'),
    require_dpop_nonce: flag(input.require_dpop_nonce, 'require_dpop_nonce'),
    introspection_audiences: introspectionAudiences,
    security_profile: securityProfile,
    require_pushed_authorization_requests: profileRules.parRequired || flag(input.require_pushed_authorization_requests, 'require_pushed_authorization_requests'),
    ...pairwise,
    required_groups: requiredGroups,
    required_attributes: requiredAttributes,
  };
}

/** Paths of groups (`/Ministry/Department`), one of which a user must be in or under to sign in (oidc/checks/requirements.ts). */
function requiredGroupsOf(value: unknown): string[] {
  const paths = stringArray(value, 'required_groups');
  for (const path of paths) if (path.length > 1000 || !/^(\/[^/\p{Cc}]{1,100})+$/u.test(path)) throw invalidMetadata('required_groups must be group paths such as /Ministry/Department');
  return paths;
}

/** `{attribute name: [allowed values]}`: for every name, the user must hold one of its values to sign in. */
function requiredAttributesOf(value: unknown): Record<string, AttributeValue[]> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidMetadata('required_attributes must be an object: {"clearance_level": ["secret", "top_secret"]}');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 10) throw invalidMetadata('required_attributes may name at most 10 attributes');
  for (const [name, allowed] of entries) {
    if (!ATTRIBUTE_NAME.test(name)) throw invalidMetadata(`required_attributes: ${JSON.stringify(name.slice(0, 40))} is not an attribute name`);
    if (!Array.isArray(allowed) || allowed.length === 0 || allowed.length > 20 || !allowed.every((v) => (typeof v === 'string' && v.length <= 500) || typeof v === 'boolean' || Number.isSafeInteger(v)))
      throw invalidMetadata(`required_attributes.${name} must list 1 to 20 values (strings, integers or booleans)`);
  }
  return Object.fromEntries(entries) as Record<string, AttributeValue[]>;
}

/**
 * OIDC Core §8: `subject_type` public (the default) or pairwise. A pairwise client needs a
 * sector (oidc/subject.ts): its redirect URIs' one host, or `sector_identifier`. Scopes that
 * act at Warta itself (warta:account, warta:admin:*, scim) are refused with pairwise: Warta's
 * own resources know a person by id, and hiding it from a client that manages the person's
 * account at Warta hides nothing.
 */
function pairwiseSettings(input: ClientMetadataInput, client: { redirectUris: string[]; scope: string }): Pick<ClientMetadata, 'subject_type' | 'sector_identifier'> {
  const subjectType = input.subject_type === undefined || input.subject_type === null ? 'public' : oneOf(input.subject_type, 'subject_type', ['public', 'pairwise'] as const);
  const sector = text(input.sector_identifier, 'sector_identifier', 255) || null;
  if (subjectType === 'public') {
    if (sector !== null) throw invalidMetadata('sector_identifier is only used with subject_type pairwise');
    return { subject_type: 'public', sector_identifier: null };
  }
  if (sector === null && redirectUrisHost(client.redirectUris) === undefined)
    throw invalidMetadata('a pairwise client whose redirect URIs do not share one host needs a sector_identifier (OIDC Core §8.1), which the operator sets');
  const reserved = reservedScopesIn(client.scope);
  if (reserved.length > 0) throw invalidMetadata(`subject_type pairwise cannot be combined with ${reserved.join(', ')}: those act at Warta itself, which knows a person by id`);
  return { subject_type: 'pairwise', sector_identifier: sector };
}

/**
 * A client asking for fapi2 gets all of it or nothing (FAPI 2.0 SP §5.3): a setting that
 * would let it fall back to a baseline method is refused, not silently overridden. PAR
 * and DPoP-bound tokens are implied, so leaving them out is fine; turning them off is not,
 * unless the tokens are bound to the client's TLS certificate instead (RFC 8705 §3).
 */
function fapi2Rules(profile: SecurityProfile, client: Parameters<typeof fapi2Nonconformities>[0], input: ClientMetadataInput): { parRequired: boolean; dpopBound: boolean } {
  if (profile !== 'fapi2') return { parRequired: false, dpopBound: false };
  const problem = fapi2Nonconformities(client)[0];
  if (problem !== undefined) throw invalidMetadata(`security_profile fapi2: ${problem}`);
  const certificateBound = input.tls_client_certificate_bound_access_tokens === true;
  if (input.dpop_bound_access_tokens === false && !certificateBound)
    throw invalidMetadata('security_profile fapi2: access tokens are always sender-constrained (FAPI 2.0 SP §5.3.2.1); dpop_bound_access_tokens cannot be false unless tls_client_certificate_bound_access_tokens is true');
  if (input.require_pushed_authorization_requests === false) throw invalidMetadata('security_profile fapi2: pushed authorization requests are required (FAPI 2.0 SP §5.3.1.2); require_pushed_authorization_requests cannot be false');
  // Not stored (every algorithm of the profile is accepted), but a client that says it will sign with another one would be refused at every request.
  const signingAlg = (input as Record<string, unknown>).token_endpoint_auth_signing_alg;
  if (signingAlg !== undefined && signingAlg !== null && !(typeof signingAlg === 'string' && FAPI2_SIGNING_ALGS.includes(signingAlg)))
    throw invalidMetadata(`security_profile fapi2: token_endpoint_auth_signing_alg must be one of ${FAPI2_SIGNING_ALGS.join(', ')}`);
  return { parRequired: true, dpopBound: !certificateBound };
}

function text(value: unknown, name: string, max: number): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidMetadata(`${name} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length > max) throw invalidMetadata(`${name} must be at most ${max} characters`);
  return trimmed;
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalidMetadata(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalidMetadata(`${name} must be true or false`);
  return value;
}

function stringArray(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalidMetadata(`${name} must be an array of strings`);
  if (value.length > 20) throw invalidMetadata(`${name} may list at most 20 values`);
  return [...new Set(value as string[])];
}

function grantTypesOf(value: unknown): GrantType[] {
  const grants = value === undefined ? ['authorization_code'] : stringArray(value, 'grant_types');
  if (grants.length === 0) throw invalidMetadata('grant_types must not be empty');
  for (const grant of grants) {
    if (!(GRANT_TYPES as readonly string[]).includes(grant))
      throw invalidMetadata(`grant type ${JSON.stringify(grant)} is not offered; Warta supports ${GRANT_TYPES.join(', ')} (no implicit, no password grant)`);
  }
  return grants as GrantType[];
}

function uriList(value: unknown, name: string, applicationType: 'web' | 'native', developmentMode: boolean): string[] {
  const uris = stringArray(value, name);
  for (const uri of uris) validateRedirectUriForRegistration(uri, { applicationType, developmentMode });
  return uris;
}

function scopeOf(value: unknown, grantTypes: GrantType[]): string {
  if (value === undefined || value === null) {
    if (!grantTypes.includes('authorization_code')) return '';
    return ['openid', 'profile', 'email', ...(grantTypes.includes('refresh_token') ? ['offline_access'] : [])].join(' ');
  }
  if (typeof value !== 'string') throw invalidMetadata('scope must be a space-separated string');
  const scopes = [...new Set(value.split(' ').filter(Boolean))];
  for (const scope of scopes) if (!SCOPE_TOKEN.test(scope)) throw invalidMetadata(`scope ${JSON.stringify(scope.slice(0, 40))} is not a valid scope token (RFC 6749 §3.3)`);
  for (const scope of scopes)
    if (scope.startsWith(ATTRIBUTE_SCOPE_PREFIX) && !ATTRIBUTE_NAME.test(scope.slice(ATTRIBUTE_SCOPE_PREFIX.length)))
      throw invalidMetadata(`scope ${JSON.stringify(scope.slice(0, 40))} must name an attribute: attr:<lower-case name>`);
  if (scopes.includes('offline_access') && !grantTypes.includes('refresh_token')) throw invalidMetadata('offline_access needs the refresh_token grant');
  return scopes.join(' ');
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function jwksOf(value: unknown, method: TokenEndpointAuthMethod): ClientMetadata['jwks'] {
  if (value === undefined || value === null) {
    if (method === 'private_key_jwt') throw invalidMetadata('private_key_jwt needs jwks: the public keys the client signs its assertions with');
    if (method === 'self_signed_tls_client_auth') throw invalidMetadata('self_signed_tls_client_auth needs jwks: the public keys of the client\'s self-signed certificates (RFC 8705 §2.2.2)');
    return null;
  }
  if (method !== 'private_key_jwt' && method !== 'self_signed_tls_client_auth') throw invalidMetadata('jwks is only used with private_key_jwt and self_signed_tls_client_auth');
  const keys = (value as { keys?: unknown }).keys;
  if (typeof value !== 'object' || !Array.isArray(keys) || keys.length === 0 || keys.length > 10) throw invalidMetadata('jwks must be a JWK Set: {"keys": [ ... ]} with 1 to 10 keys');
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || typeof (key as { kty?: unknown }).kty !== 'string') throw invalidMetadata('every jwks key needs a kty');
    if (PRIVATE_JWK_MEMBERS.some((m) => Object.hasOwn(key, m))) throw invalidMetadata('jwks must contain public keys only (a private or symmetric key was given)');
    // A certificate is matched by its key: a key that cannot be read would match nothing, silently.
    if (method === 'self_signed_tls_client_auth' && !isReadablePublicKey(key)) throw invalidMetadata('every jwks key of a self_signed_tls_client_auth client must be a complete public key (RSA, EC or OKP)');
  }
  return { keys: keys as Record<string, unknown>[] };
}

function isReadablePublicKey(jwk: object): boolean {
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).type === 'public';
  } catch {
    return false;
  }
}

/** RFC 8705 §2.1.2: a tls_client_auth client registers exactly one subject value; no other client registers any. */
function tlsClientAuthSubjectOf(input: ClientMetadataInput, method: TokenEndpointAuthMethod): Pick<ClientMetadata, TlsClientAuthSubject> {
  const given = TLS_CLIENT_AUTH_SUBJECTS.filter((name) => input[name] !== undefined && input[name] !== null);
  const none = Object.fromEntries(TLS_CLIENT_AUTH_SUBJECTS.map((name) => [name, null])) as Record<TlsClientAuthSubject, null>;
  if (method !== 'tls_client_auth') {
    if (given.length > 0) throw invalidMetadata(`${given[0]} is only used with tls_client_auth`);
    return none;
  }
  if (given.length !== 1) throw invalidMetadata(`tls_client_auth needs exactly one of ${TLS_CLIENT_AUTH_SUBJECTS.join(', ')} (RFC 8705 §2.1.2)`);
  const name = given[0]!;
  const value = text(input[name], name, 1024);
  if (!value) throw invalidMetadata(`${name} must not be empty`);
  const refusal = subjectValueRefusal(name, value);
  if (refusal) throw invalidMetadata(`${name} ${refusal}`);
  return { ...none, [name]: value };
}

function subjectValueRefusal(name: TlsClientAuthSubject, value: string): string | undefined {
  switch (name) {
    case 'tls_client_auth_subject_dn':
      try {
        parseDistinguishedName(value);
        return undefined;
      } catch (error) {
        if (error instanceof DistinguishedNameError) return `must be an RFC 4514 distinguished name such as CN=client.example.gov,O=Example,C=PL: ${error.message}`;
        throw error;
      }
    case 'tls_client_auth_san_dns':
      return /^(\*\.)?([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}\.?$/i.test(value) ? undefined : 'must be a DNS name';
    case 'tls_client_auth_san_uri':
      return /^[a-z][a-z0-9+.-]*:\S+$/i.test(value) ? undefined : 'must be an absolute URI';
    case 'tls_client_auth_san_ip':
      return parseIpAddress(value) ? undefined : 'must be an IPv4 or IPv6 address';
    case 'tls_client_auth_san_email':
      return /^[^\s@]+@[^\s@]+$/.test(value) ? undefined : 'must be an email address';
  }
}

function backchannelUri(value: unknown, developmentMode: boolean): string | null {
  const uri = text(value, 'backchannel_logout_uri', 2048);
  if (!uri) return null;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidMetadata('backchannel_logout_uri must be an absolute URL');
  }
  // Back-Channel Logout §2.2: "MUST NOT include a fragment component".
  if (uri.includes('#')) throw invalidMetadata('backchannel_logout_uri must not contain a fragment');
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(developmentMode && url.protocol === 'http:' && loopback)) throw invalidMetadata('backchannel_logout_uri must be https');
  if (url.username || url.password) throw invalidMetadata('backchannel_logout_uri must not contain user information');
  return uri;
}
