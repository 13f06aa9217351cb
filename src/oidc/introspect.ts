/**
 * Token introspection (RFC 7662). Callers are confidential clients (resource servers).
 * An access token is described to the client it was issued to, to a client named in its
 * `aud`, and to a resource server the operator let introspect that audience
 * (`introspection_audiences`); refresh tokens only to the client they were issued to.
 * §4: the server may limit what it tells whom, and another client's token says who
 * signed in, how, and to what (`sub`, `scope`, `acr`, `amr`). Anything unknown,
 * expired, revoked or not shown is `{"active": false}` and nothing more (§2.2).
 */
import { sql } from 'kysely';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH } from '../crypto/random.js';
import type { OAuthClient } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { subjectFor } from './subject.js';
import { type AccessTokenClaims, accessTokenInForce, type Tokens } from './tokens.js';

/** What `client` may be told about `token`. */
export async function introspectToken(deps: Deps, tokens: Tokens, client: OAuthClient, input: { token: string; tokenTypeHint: string | undefined }): Promise<Record<string, unknown>> {
  // The hint only orders the look-ups (§2.1: the server may ignore it).
  const refreshFirst = input.tokenTypeHint === 'refresh_token';
  const lookups = refreshFirst ? [introspectRefreshToken, introspectAccessToken] : [introspectAccessToken, introspectRefreshToken];
  for (const lookup of lookups) {
    const result = await lookup(deps, tokens, client, input.token);
    if (result) return result;
  }
  return { active: false };
}

async function introspectAccessToken(deps: Deps, tokens: Tokens, client: OAuthClient, token: string): Promise<Record<string, unknown> | undefined> {
  const claims = await tokens.accessToken(token);
  if (!claims || !mayIntrospect(client, claims) || !(await accessTokenInForce(deps.db, claims))) return undefined;
  return {
    active: true,
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    client_id: claims.client_id,
    scope: claims.scope ?? '',
    token_type: claims.cnf?.jkt ? 'DPoP' : 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    ...(claims.auth_time === undefined ? {} : { auth_time: claims.auth_time, acr: claims.acr, amr: claims.amr }),
    // RFC 8705 §3.2 and RFC 9449 §6.2: the resource server checks the binding itself.
    ...(claims.cnf ? { cnf: claims.cnf } : {}),
  };
}

/** The token's own client, a client its `aud` names, or a resource server allowed one of its audiences. */
function mayIntrospect(client: OAuthClient, claims: AccessTokenClaims): boolean {
  if (claims.client_id === client.client_id) return true;
  const audiences: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return audiences.some((aud) => typeof aud === 'string' && (aud === client.client_id || client.introspection_audiences.includes(aud)));
}

async function introspectRefreshToken(deps: Deps, _tokens: Tokens, client: OAuthClient, token: string): Promise<Record<string, unknown> | undefined> {
  if (token.length > MAX_ISSUED_TOKEN_LENGTH) return undefined;
  const now = deps.clock.now();
  const { rows } = await sql<{ user_id: string; scope: string; created_at: Date; expires_at: Date }>`
    select g.user_id, g.scope, r.created_at, r.expires_at
    from oauth_refresh_tokens r
    join oauth_grants g on g.id = r.grant_id
    join users u on u.id = g.user_id
    where r.token_hash = ${hashToken(token)} and r.used_at is null and r.expires_at > ${now}
      and g.client_id = ${client.client_id} and g.revoked_at is null and u.status = 'active'
      and (g.offline or exists (select 1 from sessions s where s.id = g.session_id and s.revoked_at is null and s.expires_at > ${now}))`.execute(deps.db);
  const row = rows[0];
  if (!row) return undefined;
  return {
    active: true,
    iss: deps.config.issuer,
    sub: subjectFor(deps, client, row.user_id),
    client_id: client.client_id,
    scope: row.scope,
    exp: Math.floor(row.expires_at.getTime() / 1000),
    iat: Math.floor(row.created_at.getTime() / 1000),
  };
}
