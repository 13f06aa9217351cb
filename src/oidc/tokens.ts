/**
 * The tokens Warta signs (ES256, with the cached signing key):
 *  - access tokens, JWTs per RFC 9068 (`typ: at+jwt`), short-lived, with `cnf.jkt` when
 *    DPoP-bound (RFC 9449 §6.1), `cnf["x5t#S256"]` when bound to a TLS client certificate
 *    (RFC 8705 §3.1; a token may carry both, and must then pass both checks), and the private claim `grant_id` naming the grant they
 *    came from, so revoking the grant makes them inactive at introspection and userinfo;
 *  - ID tokens per OIDC Core §2 and §3.1.3.6 (`at_hash`, `auth_time`, `acr`, `amr`, `sid`).
 * Times come from the injected clock.
 */
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { SIGNING_ALG, type SigningKeys } from '../crypto/signing-keys.js';
import type { Database, OAuthClient, OAuthGrant } from '../db/schema.js';
import { ACCOUNT_SCOPE, SCIM_SCOPE } from '../clients/reserved-scopes.js';
import { isAdminScope } from '../clients/admin-scopes.js';
import { leftHalfHash } from './hashes.js';
import { CompactJws } from './jws.js';

export interface IssuedAccessToken {
  accessToken: string;
  tokenType: 'Bearer' | 'DPoP';
  expiresIn: number;
}

export interface AccessTokenInput {
  client: Pick<OAuthClient, 'client_id' | 'access_token_audience'>;
  /** The user's id, or the client_id for client_credentials. */
  subject: string;
  scopes: readonly string[];
  grant?: Pick<OAuthGrant, 'id' | 'auth_time' | 'acr' | 'amr'>;
  /** JWK thumbprint of the DPoP key the token is bound to. */
  jkt?: string;
  /** `x5t#S256` of the TLS client certificate the token is bound to. */
  x5t?: string;
  /** `groups` and `attributes`, exactly as the granted scopes release them (oidc/claims.ts authorityClaims). */
  authority?: { groups?: string[]; attributes?: Record<string, unknown> };
}

export interface IdTokenInput {
  client: Pick<OAuthClient, 'client_id'>;
  grant: Pick<OAuthGrant, 'auth_time' | 'acr' | 'amr' | 'session_id'>;
  /** `sub` and the claims the granted scopes release. */
  claims: Record<string, unknown> & { sub: string };
  nonce?: string | null;
  accessToken: string;
}

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  client_id: string;
  jti: string;
  exp: number;
  iat: number;
  scope?: string;
  grant_id?: string;
  cnf?: { jkt?: string; 'x5t#S256'?: string };
}

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** RFC 9068 §4: `at+jwt`, which RFC 7515 §4.1.9 lets be written `application/at+jwt`. */
const isAccessTokenTyp = (typ: unknown) => typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ);

/**
 * Issues and checks the JWTs the provider signs. One per app (it keeps the key
 * objects of the current signing keys); times come from the injected clock.
 */
export class Tokens {
  private readonly jws: CompactJws;

  constructor(private readonly deps: { config: Config; clock: Clock; signingKeys: SigningKeys }) {
    this.jws = new CompactJws(deps.signingKeys);
  }

  async issueAccessToken(input: AccessTokenInput): Promise<IssuedAccessToken> {
    const iat = seconds(this.deps.clock.now());
    const ttl = this.deps.config.oidc.accessTokenTtlSeconds;
    const payload: Record<string, unknown> = {
      // RFC 9068 §2.2.3.1: groups (and Warta's attributes) only as the scopes release them; never another user claim.
      ...(input.authority?.groups === undefined ? {} : { groups: input.authority.groups }),
      ...(input.authority?.attributes === undefined ? {} : { attributes: input.authority.attributes }),
      iss: this.deps.config.issuer,
      sub: input.subject,
      aud: this.audienceOf(input),
      client_id: input.client.client_id,
      iat,
      exp: iat + ttl,
      jti: randomUUID(),
      scope: input.scopes.join(' '),
    };
    if (input.grant) {
      payload.auth_time = seconds(input.grant.auth_time);
      payload.acr = input.grant.acr;
      payload.amr = input.grant.amr;
      payload.grant_id = input.grant.id;
    }
    if (input.jkt || input.x5t) payload.cnf = { ...(input.jkt ? { jkt: input.jkt } : {}), ...(input.x5t ? { 'x5t#S256': input.x5t } : {}) };
    return { accessToken: await this.jws.sign(payload, 'at+jwt'), tokenType: input.jkt ? 'DPoP' : 'Bearer', expiresIn: ttl };
  }

  /**
   * A token that may manage the user's devices is for Warta alone (RFC 9068 §3 `aud`): the
   * client's own service never receives a token it could replay at /api/me. The client gets
   * a token for its service by refreshing with a scope without warta:account. The same
   * holds for a token carrying an admin area scope (`warta:admin:*`) or `scim`.
   */
  private audienceOf(input: AccessTokenInput): string {
    if (input.scopes.some((scope) => scope === ACCOUNT_SCOPE || scope === SCIM_SCOPE || isAdminScope(scope))) return this.deps.config.issuer;
    return input.client.access_token_audience ?? input.client.client_id;
  }

  async issueIdToken(input: IdTokenInput): Promise<string> {
    const iat = seconds(this.deps.clock.now());
    // The claims, then the ID Token's own over them. Not an object spread followed by these ten: V8 builds
    // that object in its slow dictionary form, and it cost 12-17 µs a token to build and serialise, 1 µs this way.
    const payload: Record<string, unknown> = Object.assign({}, input.claims);
    payload.iss = this.deps.config.issuer;
    payload.sub = input.claims.sub;
    payload.aud = input.client.client_id;
    payload.iat = iat;
    payload.exp = iat + this.deps.config.oidc.idTokenTtlSeconds;
    payload.auth_time = seconds(input.grant.auth_time);
    payload.acr = input.grant.acr;
    payload.amr = input.grant.amr;
    payload.at_hash = leftHalfHash(input.accessToken, SIGNING_ALG);
    if (input.nonce) payload.nonce = input.nonce;
    if (input.grant.session_id) payload.sid = input.grant.session_id;
    return this.jws.sign(payload, 'JWT');
  }

  /** The claims of a valid, unexpired access token Warta issued; undefined for anything else. */
  async accessToken(token: string): Promise<AccessTokenClaims | undefined> {
    const verified = await this.jws.verify(token);
    if (!verified || !isAccessTokenTyp(verified.header.typ)) return undefined;
    const claims = verified.payload;
    const now = seconds(this.deps.clock.now());
    if (claims.iss !== this.deps.config.issuer) return undefined;
    if (typeof claims.exp !== 'number' || claims.exp <= now || typeof claims.iat !== 'number') return undefined;
    if (typeof claims.sub !== 'string' || typeof claims.client_id !== 'string' || typeof claims.jti !== 'string') return undefined;
    if (claims.grant_id !== undefined && typeof claims.grant_id !== 'string') return undefined;
    return claims as AccessTokenClaims;
  }

  /**
   * The claims of an ID token Warta issued, expired or not (RP-Initiated Logout §2:
   * an expired ID token is still a fine hint); undefined when the signature or issuer fails.
   */
  async idTokenHint(token: string): Promise<(JWTPayload & { sub: string }) | undefined> {
    const verified = await this.jws.verify(token);
    if (!verified || (verified.header.typ !== undefined && verified.header.typ !== 'JWT')) return undefined;
    const claims = verified.payload;
    if (claims.iss !== this.deps.config.issuer || typeof claims.sub !== 'string' || claims.aud === undefined) return undefined;
    return claims as JWTPayload & { sub: string };
  }
}

/**
 * Whether a signature-valid access token is still in force: its client still
 * registered and not suspended, the token not revoked, and (for a user's token) its grant live and
 * the user active. One round trip.
 */
export async function accessTokenInForce(db: Kysely<Database>, claims: AccessTokenClaims): Promise<boolean> {
  const grantId = typeof claims.grant_id === 'string' ? claims.grant_id : null;
  const { rows } = await sql<{ client_live: boolean; revoked: boolean; grant_live: boolean }>`
    select
      exists (select 1 from oauth_clients where client_id = ${claims.client_id} and suspended_at is null) as client_live,
      exists (select 1 from oauth_revoked_access_tokens where jti = ${claims.jti}) as revoked,
      (${grantId}::uuid is null or exists (
        select 1 from oauth_grants g join users u on u.id = g.user_id
        where g.id = ${grantId}::uuid and g.revoked_at is null and u.status = 'active')) as grant_live`.execute(db);
  const row = rows[0];
  return row !== undefined && row.client_live && !row.revoked && row.grant_live;
}
