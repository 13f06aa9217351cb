import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Deps } from '../deps.js';
import { isRefusal } from '../errors.js';
import { authenticateBearer, invalidToken, type ResourceRequest } from '../oidc/bearer.js';
import type { AccessTokenClaims } from '../oidc/tokens.js';

export interface TokenAuthority {
  /** The `role` the audit entry names: which door refused (`admin`, `scim`). */
  role: string;
  /** A scope the door takes, for the RFC 6750 answer to a token that does not verify. */
  scope: string;
  /** The scheme of that answer. */
  scheme: 'Bearer' | 'DPoP';
  /** More for the audit entry, from the token. */
  details?: (claims: AccessTokenClaims) => Record<string, unknown>;
}

/**
 * Who a Warta access token acts for at a privileged door, by `resolve`. Every refusal of
 * a token Warta signed is audited (`authority.refused`), like a refused session; a token
 * that does not verify is refused without an entry, so anonymous garbage does not grow
 * the audit log.
 */
export async function resolveTokenAuthority<T>(
  deps: Deps,
  context: AuditContext,
  request: ResourceRequest & { method: string },
  authority: TokenAuthority,
  resolve: (claims: AccessTokenClaims) => Promise<T>,
): Promise<T> {
  const claims = request.accessToken ? await deps.tokens.accessToken(request.accessToken.token) : undefined;
  if (!claims) {
    // Missing, malformed, forged or expired: authenticateBearer gives the RFC 6750 answer.
    await authenticateBearer(deps, deps.tokens, request, authority.scope);
    throw invalidToken(authority.scheme, 'the access token is invalid or expired');
  }
  const subject = claims.grant_id === undefined ? `client:${claims.client_id}` : `user:${claims.sub}`;
  try {
    return await resolve(claims);
  } catch (error) {
    if (isRefusal(error))
      await appendAudit(deps.db, deps, { ...context, actor: subject }, {
        action: 'authority.refused',
        subject,
        outcome: 'failure',
        details: { role: authority.role, reason: error.code, method: request.method, path: request.path, via: 'access_token', ...authority.details?.(claims) },
      });
    throw error;
  }
}
