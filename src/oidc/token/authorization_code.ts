/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, OIDC Core §3.1.3.2, RFC 7636 §4.6).
 * The code must be this client's, unexpired, sent with the same redirect_uri and the
 * PKCE verifier. It is claimed in SQL (`used_at IS NULL`), so of two concurrent
 * redemptions exactly one wins; any later presentation revokes the grant it created.
 */
import { sql } from 'kysely';
import { FAPI2_MAX_CODE_AGE_SECONDS } from '../../clients/security-profile.js';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH, newToken } from '../../crypto/random.js';
import { invalidRequest, WartaError } from '../../errors.js';
import { acceptsUserOf } from '../checks/organisation.js';
import { verifyPkce } from '../checks/pkce.js';
import { authorityClaims, rolesOf, userClaimsOf } from '../claims.js';
import { subjectFor } from '../subject.js';
import type { Deps } from '../../deps.js';
import { type GrantRequest, revokeAfterReuse, type TokenResponse } from './response.js';

const invalidGrant = (description: string) => new WartaError(400, 'invalid_grant', description);

export async function authorizationCodeGrant({ deps, tokens, client, profile, form, jkt, x5t, ip }: GrantRequest): Promise<TokenResponse> {
  const code = form.require('code');
  const redirectUri = form.get('redirect_uri');
  if (code.length > MAX_ISSUED_TOKEN_LENGTH) throw invalidGrant('unknown authorization code');
  const codeHash = hashToken(code);

  // One read for every check and the ID Token's claims; the user is read whatever their status, so a disabled one is told so.
  const row = await deps.db
    .selectFrom('oauth_authorization_codes as c')
    .innerJoin('oauth_grants as g', 'g.id', 'c.grant_id')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .innerJoin('organisations as o', 'o.id', 'u.organisation_id')
    .innerJoin('oauth_clients as owner', 'owner.client_id', 'c.client_id')
    .select(['c.client_id', 'c.redirect_uri', 'c.code_challenge', 'c.nonce', 'c.dpop_jkt', 'c.created_at', 'c.expires_at', 'c.used_at', 'g.id as grant_id', 'g.user_id', 'g.scope', 'g.revoked_at', 'g.auth_time', 'g.acr', 'g.amr', 'g.session_id'])
    .select(['u.organisation_id as user_organisation_id', 'u.status as user_status', 'u.username', 'u.display_name', 'u.email', 'u.updated_at', 'o.name as organisation_name', rolesOf('u.id').as('roles')])
    .select(['owner.organisation_id', 'owner.cross_organisation_sign_in'])
    .where('c.code_hash', '=', codeHash)
    .executeTakeFirst();
  if (!row) throw invalidGrant('unknown authorization code');
  if (row.client_id !== client.client_id) throw invalidGrant('the authorization code was issued to another client');
  if (row.used_at !== null) {
    await revokeAfterReuse(deps, { grantId: row.grant_id, clientId: client.client_id, token: 'authorization_code', ip });
    throw invalidGrant('the authorization code was already used; the tokens issued from it are revoked');
  }
  if (row.expires_at <= deps.clock.now()) throw invalidGrant('the authorization code has expired');
  if (profile === 'fapi2' && deps.clock.now().getTime() - row.created_at.getTime() > FAPI2_MAX_CODE_AGE_SECONDS * 1000)
    throw invalidGrant(`the authorization code has expired (a fapi2 client's codes live ${FAPI2_MAX_CODE_AGE_SECONDS} seconds)`);
  // §4.1.3: required "if the redirect_uri parameter was included in the authorization request"; a code from the authorization challenge endpoint went to none.
  if (row.redirect_uri === null) {
    if (redirectUri !== undefined) throw invalidGrant('this authorization code was issued without a redirect_uri; send none');
  } else {
    if (redirectUri === undefined) throw invalidRequest('redirect_uri is required');
    if (redirectUri !== row.redirect_uri) throw invalidGrant('redirect_uri does not match the authorization request');
  }
  verifyPkce({ codeChallenge: row.code_challenge, codeVerifier: form.get('code_verifier') });
  // RFC 9449 §10: a code requested with dpop_jkt is redeemable only with that key.
  if (row.dpop_jkt !== null && row.dpop_jkt !== jkt) throw invalidGrant('the DPoP proof key does not match the dpop_jkt of the authorization request');
  if (row.revoked_at !== null) throw invalidGrant('the authorization has been revoked');
  // Read now, not from the client cache: the operator may have given the client to another organisation since the code was issued.
  if (!acceptsUserOf(row, { organisation_id: row.user_organisation_id })) throw invalidGrant('this client no longer accepts users of your organisation');

  const scopes = row.scope.split(' ').filter(Boolean);
  const subject = subjectFor(deps, client, row.user_id);
  if (row.user_status !== 'active') throw invalidGrant('the user account is not active');
  const claims = { ...userClaimsOf({ ...row, id: row.user_id, organisation_id: row.user_organisation_id }, subject, scopes), ...(await authorityClaims(deps.db, row.user_id, scopes)) };

  const refreshToken = client.grant_types.includes('refresh_token') ? newToken() : undefined;
  // RFC 9449 §5 and RFC 8705 §4: a public client's refresh tokens are bound to its DPoP key and its certificate;
  // so are a fapi2 client's, which are not rotated (refresh_token.ts).
  const bindsRefreshToken = client.token_endpoint_auth_method === 'none' || profile === 'fapi2';

  const won = await claimCode(deps, { codeHash, refreshToken, bindTo: bindsRefreshToken ? { jkt: jkt ?? null, x5t: x5t ?? null } : undefined });
  if (!won) {
    await revokeAfterReuse(deps, { grantId: row.grant_id, clientId: client.client_id, token: 'authorization_code', ip });
    throw invalidGrant('the authorization code was already used; the tokens issued from it are revoked');
  }

  const grant = { id: row.grant_id, auth_time: row.auth_time, acr: row.acr, amr: row.amr, session_id: row.session_id };
  const access = await tokens.issueAccessToken({ client, subject, scopes, grant, authority: { groups: claims.groups as string[] | undefined, attributes: claims.attributes as Record<string, unknown> | undefined }, ...(jkt ? { jkt } : {}), ...(x5t ? { x5t } : {}) });
  const response: TokenResponse = { access_token: access.accessToken, token_type: access.tokenType, expires_in: access.expiresIn, scope: scopes.join(' ') };
  if (refreshToken !== undefined) response.refresh_token = refreshToken;
  if (scopes.includes('openid')) response.id_token = await tokens.issueIdToken({ client, grant, claims, nonce: row.nonce, accessToken: access.accessToken });
  return response;
}

/**
 * Claims the code (`used_at IS NULL`: of two concurrent redemptions one wins), binds the
 * grant's refresh tokens to the client's key and certificate when they are bound, and
 * stores the refresh token, in one statement: all of it or nothing, in one round trip.
 * False when the code was claimed already.
 */
async function claimCode(deps: Deps, input: { codeHash: string; refreshToken: string | undefined; bindTo: { jkt: string | null; x5t: string | null } | undefined }): Promise<boolean> {
  const now = deps.clock.now();
  const { bindTo, refreshToken } = input;
  const steps = [sql`claimed as (update oauth_authorization_codes set used_at = ${now} where code_hash = ${input.codeHash} and used_at is null returning grant_id)`];
  if (bindTo && (bindTo.jkt !== null || bindTo.x5t !== null))
    steps.push(sql`bound as (update oauth_grants set dpop_jkt = ${bindTo.jkt}, mtls_x5t = ${bindTo.x5t} where id in (select grant_id from claimed))`);
  if (refreshToken !== undefined)
    steps.push(sql`refresh as (
      insert into oauth_refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at)
      select ${hashToken(refreshToken)}, g.id, ${now}, g.expires_at, null from claimed join oauth_grants g on g.id = claimed.grant_id)`);
  const { rows } = await sql<{ grant_id: string }>`with ${sql.join(steps)} select grant_id from claimed`.execute(deps.db);
  return rows.length > 0;
}
