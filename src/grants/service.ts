/**
 * Grants: one user's authorization of one client, created when an authorization code
 * is issued. The code, every refresh token rotated from it and every access token
 * minted from those belong to the grant, so revoking the grant ends them all: the
 * refresh tokens cannot be redeemed, and introspection and userinfo report the
 * access tokens inactive (they carry the grant id).
 *
 * The revocation hooks here are for other capabilities too (device and session
 * management): call them inside the transaction that makes the change, with its audit entry.
 */
import { addSeconds, type Clock } from '../clock.js';
import { newId } from '../crypto/random.js';
import { revokeLiveRows } from '../db/revoke.js';
import { type Database, json, type OAuthGrant, type Session, type Db } from '../db/schema.js';


export interface NewGrant {
  clientId: string;
  session: Pick<Session, 'id' | 'user_id' | 'auth_time' | 'acr' | 'amr'>;
  /** The acr the grant's tokens claim; the session's when omitted. */
  acr?: string | undefined;
  scope: string;
  dpopJkt: string | null;
  lifetimeSeconds: number;
}

export async function createGrant(db: Db, clock: Clock, input: NewGrant): Promise<OAuthGrant> {
  const now = clock.now();
  return db
    .insertInto('oauth_grants')
    .values({
      id: newId(),
      client_id: input.clientId,
      user_id: input.session.user_id,
      session_id: input.session.id,
      scope: input.scope,
      offline: input.scope.split(' ').includes('offline_access'),
      auth_time: input.session.auth_time,
      acr: input.acr ?? input.session.acr,
      amr: json(input.session.amr),
      dpop_jkt: input.dpopJkt,
      created_at: now,
      expires_at: addSeconds(now, input.lifetimeSeconds),
      revoked_at: null,
      revoked_reason: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Revokes one grant (a refresh token family); false when it was already revoked. */
export async function revokeGrant(db: Db, clock: Clock, grantId: string, reason: string): Promise<boolean> {
  return (await revokeLiveRows(db, clock, 'oauth_grants', { id: grantId }, reason)) > 0;
}

/**
 * What ending a Warta session means for the clients signed in through it: grants
 * without offline_access end with the session (OIDC Core §11), and every client
 * that registered a back-channel logout URI is queued a logout token. Call it in
 * the transaction that revokes the session. Returns the client ids notified.
 */
export async function endSessionGrants(db: Db, clock: Clock, session: Pick<Session, 'id' | 'user_id'>, reason: string): Promise<string[]> {
  await db
    .updateTable('oauth_grants')
    .set({ revoked_at: clock.now(), revoked_reason: reason })
    .where('session_id', '=', session.id)
    .where('offline', '=', false)
    .where('revoked_at', 'is', null)
    .execute();
  return enqueueBackchannelLogouts(db, clock, session);
}

/** Queues a back-channel logout for every client with a back-channel URI that received tokens in the session. */
export async function enqueueBackchannelLogouts(db: Db, clock: Clock, session: Pick<Session, 'id' | 'user_id'>): Promise<string[]> {
  const clients = await db
    .selectFrom('oauth_grants')
    .innerJoin('oauth_clients', 'oauth_clients.client_id', 'oauth_grants.client_id')
    .select('oauth_clients.client_id')
    .distinct()
    .where('oauth_grants.session_id', '=', session.id)
    .where('oauth_clients.backchannel_logout_uri', 'is not', null)
    .execute();
  if (clients.length === 0) return [];
  const now = clock.now();
  await db
    .insertInto('backchannel_logouts')
    .values(
      clients.map(({ client_id }) => ({
        id: newId(),
        client_id,
        user_id: session.user_id,
        session_id: session.id,
        created_at: now,
        next_attempt_at: now,
        attempts: 0,
        delivered_at: null,
        abandoned_at: null,
        last_error: null,
      })),
    )
    .execute();
  return clients.map((c) => c.client_id);
}
