/**
 * Token revocation (RFC 7009). A refresh token revokes its whole grant (§2.1: "SHOULD
 * also invalidate all access tokens based on the same authorization grant"); an access
 * token is added to a deny-list until it expires. A client may revoke only its own
 * tokens; a token that is unknown, invalid or already revoked still gets 200 (§2.2).
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH } from '../crypto/random.js';
import type { OAuthClient } from '../db/schema.js';
import { WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { revokeGrant } from '../grants/service.js';
import type { Tokens } from './tokens.js';

const notYours = () => new WartaError(400, 'unauthorized_client', 'the token was not issued to this client');

/** Revokes `token` if `client` holds it; the context names the client as the actor. */
export async function revokeToken(deps: Deps, tokens: Tokens, client: OAuthClient, token: string, context: AuditContext): Promise<void> {
  if (!(await revokeRefreshToken(deps, client, token, context))) await revokeAccessToken(deps, tokens, client, token, context);
}

async function revokeRefreshToken(deps: Deps, client: OAuthClient, token: string, context: AuditContext): Promise<boolean> {
  if (token.length > MAX_ISSUED_TOKEN_LENGTH) return false;
  const row = await deps.db.selectFrom('oauth_refresh_tokens as r').innerJoin('oauth_grants as g', 'g.id', 'r.grant_id').select(['g.id', 'g.client_id']).where('r.token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row) return false;
  if (row.client_id !== client.client_id) throw notYours();
  await deps.db.transaction().execute(async (trx) => {
    if (await revokeGrant(trx, deps.clock, row.id, 'revoked_by_client'))
      await appendAudit(trx, deps, context, { action: 'oidc.grant_revoked', subject: `grant:${row.id}`, details: { client_id: client.client_id, via: 'refresh_token' } });
  });
  return true;
}

async function revokeAccessToken(deps: Deps, tokens: Tokens, client: OAuthClient, token: string, context: AuditContext): Promise<void> {
  const claims = await tokens.accessToken(token);
  if (!claims) return; // invalid or already expired: nothing left to revoke
  if (claims.client_id !== client.client_id) throw notYours();
  await deps.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('oauth_revoked_access_tokens')
      .values({ jti: claims.jti, expires_at: new Date(claims.exp * 1000) })
      .onConflict((oc) => oc.column('jti').doNothing())
      .returning('jti')
      .executeTakeFirst();
    if (inserted) await appendAudit(trx, deps, context, { action: 'oidc.access_token_revoked', subject: `client:${client.client_id}`, details: { jti: claims.jti, sub: claims.sub } });
  });
}
