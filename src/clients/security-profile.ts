/**
 * Security profiles of OAuth clients: `baseline` (every method and algorithm Warta
 * offers) or `fapi2` (the FAPI 2.0 Security Profile). The profile in force for a
 * client is the strictest of three settings: the client's own, the default of the
 * organisation that owns it, and the floor the operator sets for the instance
 * (`WARTA_CLIENT_SECURITY_PROFILE_FLOOR`). The operator's own clients (no owner)
 * follow the floor and their own setting; an owned client follows its owner's
 * default also when it accepts other organisations' users, for it is still the
 * owner's client. A profile can only raise what a client must do, never lower it.
 */
import type { Kysely } from 'kysely';
import type { Database, OAuthClient, TokenEndpointAuthMethod } from '../db/schema.js';

export const SECURITY_PROFILES = ['baseline', 'fapi2'] as const;
export type SecurityProfile = (typeof SECURITY_PROFILES)[number];

/** FAPI 2.0 SP §5.3.2.1: private_key_jwt or mutual TLS (RFC 8705 §2.1, §2.2); never a shared secret, never none. */
export const FAPI2_CLIENT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];

/**
 * FAPI 2.0 SP §5.4.1: PS256, ES256 or EdDSA with Ed25519, for client assertions and DPoP
 * proofs. `Ed25519` is the fully-specified name of that same EdDSA variant (RFC 9864).
 */
export const FAPI2_SIGNING_ALGS: readonly string[] = ['PS256', 'ES256', 'EdDSA', 'Ed25519'];

/** FAPI 2.0 SP §5.3.2.1: an authorization code lives at most 60 seconds, whatever WARTA_AUTHORIZATION_CODE_TTL_SECONDS allows others. */
export const FAPI2_MAX_CODE_AGE_SECONDS = 60;

const RANK: Record<SecurityProfile, number> = { baseline: 0, fapi2: 1 };

export const isSecurityProfile = (value: unknown): value is SecurityProfile => typeof value === 'string' && (SECURITY_PROFILES as readonly string[]).includes(value);

/** The strictest of the profiles given. */
export function strictestProfile(...profiles: SecurityProfile[]): SecurityProfile {
  return profiles.reduce<SecurityProfile>((strictest, profile) => (RANK[profile] > RANK[strictest] ? profile : strictest), 'baseline');
}

/** The profile an organisation's policy sets for its clients; an unreadable value counts as the stricter one. */
export function organisationClientProfile(policy: Record<string, unknown> | null | undefined): SecurityProfile {
  const value = policy?.clientSecurityProfile;
  if (value === undefined) return 'baseline';
  return isSecurityProfile(value) ? value : 'fapi2';
}

type ProfiledClient = Pick<OAuthClient, 'security_profile' | 'organisation_id'>;

/**
 * The profile in force for `client`: its own, its owner's default and the instance
 * floor, the strictest of them. Reads the owner's policy only when the other two
 * leave the answer open, so a fapi2 client or a fapi2 instance costs no query.
 */
export async function effectiveSecurityProfile(
  deps: { db: Kysely<Database>; config: { oidc: { clientSecurityProfileFloor: SecurityProfile } } },
  client: ProfiledClient,
  /** Where the owner's default is read: the back-channel endpoints pass their ClientDirectory, which remembers it. */
  organisations?: { organisationClientProfile(organisationId: string): Promise<SecurityProfile> },
): Promise<SecurityProfile> {
  const known = strictestProfile(client.security_profile, deps.config.oidc.clientSecurityProfileFloor);
  if (known === 'fapi2' || client.organisation_id === null) return known;
  if (organisations) return strictestProfile(known, await organisations.organisationClientProfile(client.organisation_id));
  const owner = await deps.db.selectFrom('organisations').select('policy').where('id', '=', client.organisation_id).executeTakeFirst();
  return strictestProfile(known, organisationClientProfile(owner?.policy));
}

/** What a client registers that decides whether it can work under fapi2. */
export type Fapi2RelevantMetadata = Pick<OAuthClient, 'token_endpoint_auth_method' | 'application_type' | 'jwks'>;

/**
 * Why a client registered like this cannot work under fapi2 (empty: it can). Used to
 * refuse a fapi2 registration that mixes in a baseline method, and to refuse raising
 * an organisation's default while its clients would stop working.
 */
export function fapi2Nonconformities(client: Fapi2RelevantMetadata): string[] {
  const problems: string[] = [];
  if (client.application_type === 'native' || client.token_endpoint_auth_method === 'none') problems.push('a public client cannot use fapi2 (FAPI 2.0 admits confidential clients only)');
  else if (!FAPI2_CLIENT_AUTH_METHODS.includes(client.token_endpoint_auth_method))
    problems.push(`token_endpoint_auth_method ${client.token_endpoint_auth_method} is not allowed under fapi2; use ${FAPI2_CLIENT_AUTH_METHODS.join(' or ')}`);
  for (const key of client.jwks?.keys ?? []) {
    const alg = (key as { alg?: unknown }).alg;
    if (typeof alg === 'string' && !FAPI2_SIGNING_ALGS.includes(alg)) problems.push(`jwks key ${JSON.stringify((key as { kid?: unknown }).kid ?? alg)} is for ${alg}; fapi2 allows ${FAPI2_SIGNING_ALGS.join(', ')}`);
  }
  return problems;
}
