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
import { sql } from 'kysely';
import { addSeconds, type Clock } from '../clock.js';
import { newId } from '../crypto/random.js';
import { revokeLiveRows } from '../db/revoke.js';
import { type Database, json, type OAuthClient, type OAuthGrant, type Session, type Db } from '../db/schema.js';


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
  const row = newGrantRow(clock, input);
  return db.insertInto('oauth_grants').values({ ...row, amr: json(row.amr) }).returningAll().executeTakeFirstOrThrow();
}

/** The row createGrant inserts, for a caller that writes it within a larger statement (src/db/insert-when.ts). */
export function newGrantRow(clock: Clock, input: NewGrant): Omit<OAuthGrant, 'mtls_x5t'> {
  const now = clock.now();
  return {
    id: newId(),
    client_id: input.clientId,
    user_id: input.session.user_id,
    session_id: input.session.id,
    scope: input.scope,
    offline: input.scope.split(' ').includes('offline_access'),
    auth_time: input.session.auth_time,
    acr: input.acr ?? input.session.acr,
    amr: input.session.amr,
    dpop_jkt: input.dpopJkt,
    created_at: now,
    expires_at: addSeconds(now, input.lifetimeSeconds),
    revoked_at: null,
    revoked_reason: null,
  };
}

/** Revokes one grant (a refresh token family); false when it was already revoked. */
export async function revokeGrant(db: Db, clock: Clock, grantId: string, reason: string): Promise<boolean> {
  return (await revokeLiveRows(db, clock, 'oauth_grants', { id: grantId }, reason)) > 0;
}

/**
 * Revokes one client's live grants (only those of users outside `keepOrganisationId`
 * when given) and, when the client registered a back-channel logout URI, queues it
 * one logout token per session those grants were issued in (OIDC Back-Channel
 * Logout §2.7): the client learns that the sign-ins it holds have ended. One
 * statement, so the logouts match exactly the grants it revoked.
 */
export async function revokeClientGrants(
  db: Db,
  clock: Clock,
  client: Pick<OAuthClient, 'client_id' | 'backchannel_logout_uri'>,
  reason: string,
  keepOrganisationId?: string,
): Promise<{ grantsRevoked: number; backchannelLogouts: number }> {
  const now = clock.now();
  const outsiders = keepOrganisationId === undefined ? sql`true` : sql`user_id in (select id from users where organisation_id <> ${keepOrganisationId})`;
  const { rows } = await sql<{ grants: number; logouts: number }>`
    with revoked as (
      update oauth_grants set revoked_at = ${now}, revoked_reason = ${reason}
      where client_id = ${client.client_id} and revoked_at is null and ${outsiders}
      returning user_id, session_id),
    queued as (
      insert into backchannel_logouts (id, client_id, user_id, session_id, created_at, next_attempt_at, attempts)
      select gen_random_uuid(), ${client.client_id}, live.user_id, live.session_id, ${now}, ${now}, 0
      from (select distinct user_id, session_id from revoked where session_id is not null and ${client.backchannel_logout_uri !== null}) live
      returning id)
    select (select count(*) from revoked)::int as grants, (select count(*) from queued)::int as logouts`.execute(db);
  return { grantsRevoked: rows[0]!.grants, backchannelLogouts: rows[0]!.logouts };
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
