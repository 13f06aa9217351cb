/**
 * `grant_type=refresh_token` (RFC 6749 §6, OIDC Core §12) with rotation on every use
 * (RFC 9700 §4.14.2, OAuth 2.1 §4.3.1), except for clients held to fapi2: their refresh
 * tokens are bound to the client's key and its authentication, so a copy is useless to
 * another party, and FAPI 2.0 SP §5.3.2.1 advises against rotation, under which one lost
 * response signs a server-side client's user out. The same token stays valid until it
 * expires or is revoked, and is never taken for a reused one. The presented token is consumed and its
 * successor inserted (and the device's last use noted) in one SQL statement, so a refresh is one round trip and two
 * concurrent uses of one token cannot both succeed. A token presented after it was
 * rotated means two parties hold it: the whole family (the grant) is revoked and audited.
 *
 * The grant must be live, the user active and of an organisation the client accepts
 * (read in the same statement, so a client just given to another organisation stops
 * at once whatever the client cache holds), and, unless offline_access was granted,
 * the Warta session the grant came from must not have ended (OIDC Core §11).
 */
import { sql } from 'kysely';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH, newToken } from '../../crypto/random.js';
import type { OAuthClient } from '../../db/schema.js';
import { WartaError } from '../../errors.js';
import type { Deps } from '../../deps.js';
import { checkNarrowedScope } from '../checks/scope.js';
import { touchDeviceOnRefresh } from '../../grants/device-use.js';
import { authorityClaims, releasesUserClaims, rolesOf, type UserClaimsSource, userClaimsOf } from '../claims.js';
import { subjectFor } from '../subject.js';
import { hasRequirements, unmetRequirement } from '../checks/requirements.js';
import { attributesOf } from '../../attributes/service.js';
import { groupPathsOf } from '../../groups/service.js';
import { type GrantRequest, revokeAfterReuse, type TokenResponse } from './response.js';

const invalidGrant = (description: string) => new WartaError(400, 'invalid_grant', description);

/** The grant a refresh may use, with what its user's claims are made from (read in the same statement). */
interface RotatedGrant extends Omit<UserClaimsSource, 'id'> {
  id: string;
  user_id: string;
  scope: string;
  auth_time: Date;
  acr: string;
  amr: string[];
  session_id: string | null;
}

/** The final select of the rotation's statement over the grant CTE `grant`: the grant, and its user's claim source. */
const grantWithUser = (grant: string) => sql`
    select g.id, g.user_id, g.scope, g.auth_time, g.acr, g.amr, g.session_id,
      u.username, u.display_name, u.email, u.updated_at, u.organisation_id, o.name as organisation_name, ${rolesOf('u.id')} as roles
    from ${sql.table(grant)} g join users u on u.id = g.user_id join organisations o on o.id = u.organisation_id`;

export async function refreshTokenGrant({ deps, tokens, client, profile, form, jkt, x5t, ip }: GrantRequest): Promise<TokenResponse> {
  const presented = form.require('refresh_token');
  if (presented.length > MAX_ISSUED_TOKEN_LENGTH) throw invalidGrant('unknown refresh token');
  const presentedHash = hashToken(presented);
  const requestedScope = form.get('scope');
  if (requestedScope !== undefined) await checkScopeBeforeRotating(deps, presentedHash, requestedScope);

  // fapi2 clients are confidential (client-auth.ts refuses `none` for them); the check says so again.
  const rotates = !(profile === 'fapi2' && client.token_endpoint_auth_method !== 'none');
  const successor = rotates ? newToken() : undefined;
  const binding = { jkt, x5t, ip };
  const grant = successor === undefined ? await liveGrant(deps, client, presentedHash, binding) : await rotate(deps, client, presentedHash, successor, binding);
  if (!grant) return refuse(deps, client, presentedHash, binding);

  const scopes = checkNarrowedScope(requestedScope, grant.scope);
  // The client's required groups and attributes hold at every refresh, not only at sign-in.
  if (hasRequirements(client) && unmetRequirement(client, { groups: await groupPathsOf(deps.db, grant.user_id), attributes: await attributesOf(deps.db, grant.user_id) }) !== undefined)
    throw invalidGrant('you no longer meet this application\'s group or attribute requirements; sign in again');
  const subject = subjectFor(deps, client, grant.user_id);
  // Read now, under the (possibly narrowed) scopes: a person taken out of a group loses it at the next refresh.
  const authority = await authorityClaims(deps.db, grant.user_id, scopes);
  const access = await tokens.issueAccessToken({ client, subject, scopes, grant, authority, ...(jkt ? { jkt } : {}), ...(x5t ? { x5t } : {}) });
  // RFC 6749 §6: without a new refresh token in the answer the client keeps the one it has.
  const response: TokenResponse = { access_token: access.accessToken, token_type: access.tokenType, expires_in: access.expiresIn, scope: scopes.join(' '), ...(successor === undefined ? {} : { refresh_token: successor }) };
  if (scopes.includes('openid')) {
    // User claims only under a scope that releases them; the user's record came with the rotation.
    const claims = releasesUserClaims(scopes) ? { ...userClaimsOf(grant, subject, scopes), ...authority } : { sub: subject };
    response.id_token = await tokens.issueIdToken({ client, grant, claims, accessToken: access.accessToken });
  }
  return response;
}

interface PresentedBinding {
  jkt: string | undefined;
  x5t: string | undefined;
  ip: string | null;
}

/** Consumes the presented token and inserts its successor, in one statement; undefined when the token may not be used. */
async function rotate(deps: Deps, client: OAuthClient, presentedHash: string, successor: string, { jkt, x5t, ip }: PresentedBinding): Promise<RotatedGrant | undefined> {
  const now = deps.clock.now();
  const { rows } = await sql<RotatedGrant>`
    with old as (
      update oauth_refresh_tokens r set used_at = ${now}
      from oauth_grants g join users u on u.id = g.user_id join oauth_clients owner on owner.client_id = g.client_id left join sessions s on s.id = g.session_id
      where r.token_hash = ${presentedHash} and r.used_at is null and r.expires_at > ${now}
        and g.id = r.grant_id and g.client_id = ${client.client_id} and g.revoked_at is null and u.status = 'active'
        and (owner.organisation_id is null or owner.cross_organisation_sign_in or owner.organisation_id = u.organisation_id)
        and (g.dpop_jkt is null or g.dpop_jkt = ${jkt ?? null})
        and (g.mtls_x5t is null or g.mtls_x5t = ${x5t ?? null})
        and (g.offline or (s.revoked_at is null and s.expires_at > ${now}))
      returning g.id, g.user_id, g.scope, g.auth_time, g.acr, g.amr, g.session_id, g.expires_at
    ), successor as (
      insert into oauth_refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at)
      select ${hashToken(successor)}, id, ${now}, expires_at, null from old
    ), device as (
      ${touchDeviceOnRefresh('old', now, ip)}
    )
    ${grantWithUser('old')}`.execute(deps.db);
  return rows[0];
}

/** The grant of a token that stays valid (not rotated), under the same conditions as a rotation, noting the device's use; undefined when it may not be used. */
async function liveGrant(deps: Deps, client: OAuthClient, presentedHash: string, { jkt, x5t, ip }: PresentedBinding): Promise<RotatedGrant | undefined> {
  const now = deps.clock.now();
  const { rows } = await sql<RotatedGrant>`
    with live as (
      select g.id, g.user_id, g.scope, g.auth_time, g.acr, g.amr, g.session_id
      from oauth_refresh_tokens r join oauth_grants g on g.id = r.grant_id join users u on u.id = g.user_id join oauth_clients owner on owner.client_id = g.client_id left join sessions s on s.id = g.session_id
      where r.token_hash = ${presentedHash} and r.used_at is null and r.expires_at > ${now}
        and g.client_id = ${client.client_id} and g.revoked_at is null and u.status = 'active'
        and (owner.organisation_id is null or owner.cross_organisation_sign_in or owner.organisation_id = u.organisation_id)
        and (g.dpop_jkt is null or g.dpop_jkt = ${jkt ?? null})
        and (g.mtls_x5t is null or g.mtls_x5t = ${x5t ?? null})
        and (g.offline or (s.revoked_at is null and s.expires_at > ${now}))
    ), device as (
      ${touchDeviceOnRefresh('live', now, ip)}
    )
    ${grantWithUser('live')}`.execute(deps.db);
  return rows[0];
}

async function checkScopeBeforeRotating(deps: Deps, presentedHash: string, requestedScope: string): Promise<void> {
  const row = await deps.db.selectFrom('oauth_refresh_tokens as r').innerJoin('oauth_grants as g', 'g.id', 'r.grant_id').select('g.scope').where('r.token_hash', '=', presentedHash).executeTakeFirst();
  if (row) checkNarrowedScope(requestedScope, row.scope);
}

/** Why the rotation matched nothing; a reused token revokes its family. */
async function refuse(deps: Deps, client: OAuthClient, presentedHash: string, dpop: PresentedBinding): Promise<never> {
  const now = deps.clock.now();
  const row = await deps.db
    .selectFrom('oauth_refresh_tokens as r')
    .innerJoin('oauth_grants as g', 'g.id', 'r.grant_id')
    .select(['r.used_at', 'r.expires_at', 'g.id as grant_id', 'g.client_id', 'g.revoked_at', 'g.dpop_jkt', 'g.mtls_x5t'])
    .where('r.token_hash', '=', presentedHash)
    .executeTakeFirst();
  if (!row || row.client_id !== client.client_id) throw invalidGrant('unknown refresh token');
  if (row.used_at !== null) {
    await revokeAfterReuse(deps, { grantId: row.grant_id, clientId: client.client_id, token: 'refresh_token', ip: dpop.ip });
    throw invalidGrant('the refresh token was already used; every token of its family is revoked');
  }
  if (row.revoked_at !== null) throw invalidGrant('the refresh token has been revoked');
  if (row.expires_at <= now) throw invalidGrant('the refresh token has expired');
  if (row.dpop_jkt !== null && row.dpop_jkt !== dpop.jkt) throw invalidGrant('the refresh token is bound to a different DPoP key');
  if (row.mtls_x5t !== null && row.mtls_x5t !== dpop.x5t) throw invalidGrant('the refresh token is bound to a different TLS client certificate');
  throw invalidGrant('the refresh token is no longer valid (signed out, the account is not active, or the client no longer accepts users of your organisation)');
}
