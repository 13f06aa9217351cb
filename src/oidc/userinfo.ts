/** The UserInfo endpoint (OIDC Core §5.3): the claims released by the token's scopes. */
import type { Deps } from '../deps.js';
import { authenticateBearer, dpopNonceToSend, invalidToken, type ResourceRequest } from './bearer.js';
import { type UserClaims, userClaims } from './claims.js';
import type { Tokens } from './tokens.js';

/** The user's claims, and the DPoP nonce to send with them (RFC 9449 §9) when the token's client must use one. */
export async function userinfo(deps: Deps, tokens: Tokens, request: ResourceRequest): Promise<{ claims: UserClaims; dpopNonce: string | undefined }> {
  const token = await authenticateBearer(deps, tokens, request, 'openid');
  // The token's `sub` may be pairwise (oidc/subject.ts): the person is the one its grant is for.
  const grant = token.grant_id === undefined ? undefined : await deps.db.selectFrom('oauth_grants').select('user_id').where('id', '=', token.grant_id).executeTakeFirst();
  const claims = grant && (await userClaims(deps.db, { userId: grant.user_id, subject: token.sub, scopes: (token.scope ?? '').split(' ') }));
  if (!claims) throw invalidToken(token.cnf?.jkt ? 'DPoP' : 'Bearer', 'the user account is not active');
  return { claims, dpopNonce: await dpopNonceToSend(deps, token) };
}
