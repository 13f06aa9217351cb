/**
 * Access tokens at /api/admin (issue 13). Two kinds reach it, both DPoP-bound
 * (RFC 9449): a stolen bearer token would otherwise be an admin's power in a log
 * file or a proxy.
 *
 * - A client-credentials token of an admin client: a client of one organisation
 *   to which the instance operator granted admin scopes (`warta client
 *   set-admin-scopes`). It acts for that organisation only, as `client:<id>`,
 *   within the areas the token carries and the operator still grants.
 * - A user's token (authorization code): the person acts as themselves, on the
 *   console's terms: the admin role, a passkey sign-in (acr) and that sign-in
 *   (auth_time) in the last five minutes. A token earns no assurance the
 *   sign-in behind it did not have.
 *
 * Every refusal of a token Warta signed is audited (`authority.refused`), like a
 * refused session; a token that does not verify is refused without an entry, so
 * anonymous garbage does not grow the audit log.
 */
import type { AuditContext } from '../audit/audit.js';
import type { Role } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';
import { authenticateBearer, invalidToken, type ResourceRequest } from '../oidc/bearer.js';
import type { AccessTokenClaims } from '../oidc/tokens.js';
import { privilegesHeld, privilegesHeldUntil } from '../sessions/privilege.js';
import { REAUTH_MAX_AGE_SECONDS } from '../sessions/reauth.js';
import { ACR_HARDWARE, ACR_PHISHING_RESISTANT } from '../sessions/service.js';
import { userRoles } from '../users/service.js';
import type { AdminActor } from '../http/context.js';
import { ADMIN_SCOPES, adminAreaOf, adminScopeOf, adminScopesIn } from '../clients/admin-scopes.js';
import { resolveTokenAuthority } from './token-refusal.js';

/**
 * Sign-in assurances strong enough to act with authority: a passkey. The
 * device-bound tier (`urn:warta:acr:hardware`) is a passkey too, so it counts.
 */
export const AUTHORITY_ACRS: ReadonlySet<string> = new Set([ACR_PHISHING_RESISTANT, ACR_HARDWARE]);

/** The acting person or client behind an access token presented at an /api/admin path, with the roles a person holds. */
export async function authenticateAdminToken(deps: Deps, context: AuditContext, request: ResourceRequest & { method: string }): Promise<{ actor: AdminActor; roles: Role[] }> {
  return resolveTokenAuthority(deps, context, request, { role: 'admin', scope: ADMIN_SCOPES[0]!, scheme: 'DPoP', details: (claims) => ({ acr: claims.acr ?? null }) }, (claims) => actorOf(deps, request, claims));
}

async function actorOf(deps: Deps, request: ResourceRequest, claims: AccessTokenClaims): Promise<{ actor: AdminActor; roles: Role[] }> {
  // A bearer token is refused before anything else about it is checked: the admin API takes sender-constrained tokens only.
  if (claims.cnf?.jkt === undefined) throw invalidToken('DPoP', 'the admin API takes only DPoP-bound (sender-constrained) access tokens; this one is a bearer token');
  const area = adminAreaOf(request.path);
  if (area === undefined) throw new WartaError(403, 'forbidden', 'this admin route takes no access token');
  const tokenScopes = adminScopesIn(claims.scope);
  // The document describes every area: any admin scope reads it.
  const requiredScope = area === 'any' ? (tokenScopes[0] ?? adminScopeOf('people')) : adminScopeOf(area);
  await authenticateBearer(deps, deps.tokens, request, requiredScope, { audience: deps.config.issuer });
  const client = await deps.db.selectFrom('oauth_clients').select(['organisation_id', 'scope']).where('client_id', '=', claims.client_id).executeTakeFirst();
  if (!client) throw invalidToken('DPoP', 'the client of this access token is no longer registered');
  // What the operator grants the client now, not what the token was issued with: withdrawing a scope takes effect at once.
  const granted = adminScopesIn(client.scope);
  if (!granted.includes(requiredScope)) throw insufficientScope(requiredScope, 'the instance operator no longer grants this client that admin scope');
  if (claims.grant_id !== undefined) return personActor(deps, claims);
  // The operator's own clients act for no organisation: the operator acts through the CLI on the host.
  if (client.organisation_id === null) throw new WartaError(403, 'forbidden', "a client owned by the instance operator acts for no organisation's admin API");
  const scopes = tokenScopes.filter((scope) => granted.includes(scope));
  return { actor: { kind: 'client', clientId: claims.client_id, organisationId: client.organisation_id, scopes }, roles: [] };
}

async function personActor(deps: Deps, claims: AccessTokenClaims): Promise<{ actor: AdminActor; roles: Role[] }> {
  const acr = typeof claims.acr === 'string' ? claims.acr : '';
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : 0;
  if (!AUTHORITY_ACRS.has(acr)) throw insufficientUserAuthentication('the sign-in behind this token did not use a passkey');
  if (authTime < Math.floor(deps.clock.now().getTime() / 1000) - REAUTH_MAX_AGE_SECONDS) throw insufficientUserAuthentication('the passkey sign-in behind this token is older than five minutes');
  // accessTokenInForce (in authenticateBearer) has refused a token of a user who is not active.
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', claims.sub).where('status', '=', 'active').executeTakeFirst();
  if (!user) throw invalidToken('DPoP', 'the user account is not active');
  const roles = await userRoles(deps.db, user.id);
  if (!roles.includes('admin')) throw new WartaError(403, 'forbidden', 'this needs the admin role');
  const until = privilegesHeldUntil(deps, user);
  if (until) throw privilegesHeld(until);
  return { actor: { kind: 'person', user, organisationId: user.organisation_id, session: undefined }, roles };
}

function insufficientScope(scope: string, description: string): WartaError {
  return new WartaError(403, 'insufficient_scope', description, { headers: { 'WWW-Authenticate': `DPoP realm="warta", error="insufficient_scope", scope="${scope}"` } });
}

/** RFC 9470 §3: the client can get a token that passes by signing the person in again with a passkey (acr_values, max_age). */
function insufficientUserAuthentication(description: string): WartaError {
  return new WartaError(403, 'insufficient_user_authentication', `${description}: sign in again with a passkey`, {
    headers: { 'WWW-Authenticate': `DPoP realm="warta", error="insufficient_user_authentication", error_description="${description}", acr_values="${ACR_PHISHING_RESISTANT}", max_age=${REAUTH_MAX_AGE_SECONDS}` },
  });
}
