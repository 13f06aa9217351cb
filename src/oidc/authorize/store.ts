/**
 * Authorization requests kept in the database: pushed ones (RFC 9126) until the
 * browser arrives with their request_uri, and interactive ones while the user signs
 * in or consents. Only a hash of each opaque id is stored; every instance can resume
 * any request, and a restart loses none.
 */
import { type RawBuilder, sql } from 'kysely';
import { addSeconds, type Clock } from '../../clock.js';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH, newToken } from '../../crypto/random.js';
import { type Database, json, type Db, type OAuthClient } from '../../db/schema.js';
import type { AuthorizationParams } from '../checks/params.js';


export interface StoredRequest {
  params: AuthorizationParams;
  createdAt: Date;
}

/** An interactive request, read with the client it waits for: the client as registered now, checked again when the request resumes. */
export interface WaitingRequest extends StoredRequest {
  client: OAuthClient;
}

/** Stores `params`; returns the opaque id that refers to them. */
export async function saveAuthorizationRequest(db: Db, clock: Clock, input: { kind: 'pushed' | 'interactive'; params: AuthorizationParams; ttlSeconds: number }): Promise<string> {
  const id = newToken();
  const now = clock.now();
  await db
    .insertInto('oauth_authorization_requests')
    .values({
      id_hash: hashToken(id),
      kind: input.kind,
      client_id: input.params.client_id,
      params: json({ ...input.params, request_uri: undefined }),
      created_at: now,
      expires_at: addSeconds(now, input.ttlSeconds),
      used_at: null,
    })
    .execute();
  return id;
}

/**
 * An unused, unexpired interactive request and its client, in one read; it stays
 * usable until a code is issued for it. Undefined also when the client is gone.
 */
export async function findInteractiveRequest(db: Db, clock: Clock, id: string): Promise<WaitingRequest | undefined> {
  if (id.length > MAX_ISSUED_TOKEN_LENGTH) return undefined;
  const row = await db
    .selectFrom('oauth_authorization_requests as r')
    .innerJoin('oauth_clients as c', 'c.client_id', 'r.client_id')
    .selectAll('c')
    .select(['r.params as request_params', 'r.created_at as request_created_at'])
    .where('r.id_hash', '=', hashToken(id))
    .where('r.kind', '=', 'interactive')
    .where('r.used_at', 'is', null)
    .where('r.expires_at', '>', clock.now())
    .executeTakeFirst();
  if (!row) return undefined;
  const { request_params, request_created_at, ...client } = row;
  return { params: request_params as unknown as AuthorizationParams, createdAt: request_created_at, client };
}

/** Uses a pushed request once (RFC 9126 §4: request_uri is one-time use); undefined if unknown, used, expired or another client's. */
export async function consumePushedRequest(db: Db, clock: Clock, id: string, clientId: string): Promise<AuthorizationParams | undefined> {
  if (id.length > MAX_ISSUED_TOKEN_LENGTH) return undefined;
  const now = clock.now();
  const row = await db
    .updateTable('oauth_authorization_requests')
    .set({ used_at: now })
    .where('id_hash', '=', hashToken(id))
    .where('kind', '=', 'pushed')
    .where('client_id', '=', clientId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('params')
    .executeTakeFirst();
  return row?.params as unknown as AuthorizationParams | undefined;
}

/** Counts one more trip to the sign-in page for the request; returns the count. */
export async function countSignInRound(db: Db, id: string): Promise<number> {
  const row = await db
    .updateTable('oauth_authorization_requests')
    .set((eb) => ({ sign_in_rounds: eb('sign_in_rounds', '+', 1) }))
    .where('id_hash', '=', hashToken(id))
    .returning('sign_in_rounds')
    .executeTakeFirst();
  return row?.sign_in_rounds ?? 0;
}

/**
 * Marks an interactive request (or an auth_session) done, as a step of the statement
 * that issues its code, when `condition` holds; it returns a row only when the request
 * was not done already (`used_at IS NULL`): one request, one code.
 */
export function completeRequestStep(clock: Clock, id: string, condition: RawBuilder<boolean>): RawBuilder<unknown> {
  return sql`update oauth_authorization_requests set used_at = ${clock.now()}
    where id_hash = ${hashToken(id)} and used_at is null and ${condition}
    returning 1`;
}

/** Which service is waiting for this interactive request, and where its answer goes: for the sign-in page's words and its way back. */
export async function waitingService(db: Db, clock: Clock, id: string): Promise<{ clientName: string; redirectUri: string } | undefined> {
  const stored = await findInteractiveRequest(db, clock, id);
  if (!stored || typeof stored.params.redirect_uri !== 'string') return undefined;
  return { clientName: stored.client.client_name, redirectUri: stored.params.redirect_uri };
}
