/**
 * Who calls /scim/v2: a client of one organisation, with a client-credentials access
 * token carrying `scim` (RFC 7644 §2: the protocol leaves authentication to OAuth).
 * `scim` is a reserved scope (clients/reserved-scopes.ts): only the instance operator
 * lets a client hold it (`warta client set-scim`), and withdrawing it takes effect at
 * once, whatever tokens the client still holds. Bearer tokens are accepted, as
 * directories (Entra ID, Okta) cannot make DPoP proofs; a DPoP-bound token must come
 * with its proof. A user's token is refused: a directory acts for the organisation, not
 * as a person.
 */
import type { AuditContext } from '../audit/audit.js';
import { resolveTokenAuthority } from '../authority/token-refusal.js';
import { SCIM_SCOPE } from '../clients/reserved-scopes.js';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';
import { authenticateBearer, invalidToken, type ResourceRequest } from '../oidc/bearer.js';
import type { PeopleActor } from '../authority/people.js';

export type ScimClient = Extract<PeopleActor, { kind: 'client' }>;

/**
 * The SCIM client behind the request's token. Every refusal of a token Warta signed is
 * audited (`authority.refused`), as at the admin API; a token that does not verify is
 * refused without an entry, so anonymous garbage does not grow the audit log.
 */
export async function authenticateScimClient(deps: Deps, context: AuditContext, request: ResourceRequest & { method: string }): Promise<ScimClient> {
  return resolveTokenAuthority(deps, context, request, { role: 'scim', scope: SCIM_SCOPE, scheme: request.accessToken?.scheme ?? 'Bearer' }, () => scimClientOf(deps, request));
}

async function scimClientOf(deps: Deps, request: ResourceRequest): Promise<ScimClient> {
  const claims = await authenticateBearer(deps, deps.tokens, request, SCIM_SCOPE, { audience: deps.config.issuer });
  const scheme = request.accessToken!.scheme;
  if (claims.grant_id !== undefined) throw new WartaError(403, 'insufficient_scope', 'SCIM takes a client-credentials token of the directory, not a token issued to a person');
  const client = await deps.db.selectFrom('oauth_clients').select(['organisation_id', 'scope']).where('client_id', '=', claims.client_id).executeTakeFirst();
  if (!client) throw invalidToken(scheme, 'the client of this access token is no longer registered');
  if (!client.scope.split(' ').includes(SCIM_SCOPE))
    throw new WartaError(403, 'insufficient_scope', 'the instance operator no longer lets this client hold the scim scope', { headers: { 'WWW-Authenticate': `${scheme} realm="warta", error="insufficient_scope", scope="${SCIM_SCOPE}"` } });
  // The operator's own clients belong to no organisation, so they provision none.
  if (client.organisation_id === null) throw new WartaError(403, 'forbidden', 'a client owned by the instance operator provisions no organisation');
  return { kind: 'client', clientId: claims.client_id, organisationId: client.organisation_id };
}
