/**
 * `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client acting for
 * itself. The access token's `sub` is the client_id (RFC 9068 §2.2); no refresh
 * token (§4.4.3) and no OpenID scopes, since there is no End-User.
 */
import { isAdminScope } from '../../clients/admin-scopes.js';
import { WartaError } from '../../errors.js';
import { checkRequestedScope, parseScope } from '../checks/scope.js';
import type { GrantRequest, TokenResponse } from './response.js';

const USER_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export async function clientCredentialsGrant({ tokens, client, form, jkt, x5t }: GrantRequest): Promise<TokenResponse> {
  const requested = form.get('scope');
  // RFC 6749 §3.3: without a scope parameter, the client's registered scopes apply.
  const scopes = requested === undefined ? parseScope(client.scope).filter((scope) => !USER_SCOPES.has(scope)) : checkRequestedScope(requested, client.scope);
  if (scopes.some((scope) => USER_SCOPES.has(scope))) throw new WartaError(400, 'invalid_scope', 'OpenID scopes need a user: use the authorization code flow');
  // The admin API takes only sender-constrained tokens (authority/admin-token.ts): say so here rather than mint a bearer token it will refuse.
  if (!jkt && scopes.some(isAdminScope)) throw new WartaError(400, 'invalid_dpop_proof', 'admin scopes are issued only in DPoP-bound tokens: send a DPoP proof');
  const access = await tokens.issueAccessToken({ client, subject: client.client_id, scopes, ...(jkt ? { jkt } : {}), ...(x5t ? { x5t } : {}) });
  return { access_token: access.accessToken, token_type: access.tokenType, expires_in: access.expiresIn, scope: scopes.join(' ') };
}
