/**
 * Authorization requests kept in the database: pushed ones (RFC 9126) until the
 * browser arrives with their request_uri, and interactive ones while the user signs
 * in or consents. Only a hash of each opaque id is stored; every instance can resume
 * any request, and a restart loses none.
 */
import { type RawBuilder, sql } from 'kysely';
import { addSeconds, type Clock } from '../../clock.js';
import { hashToken, MAX_ISSUED_TOKEN_LENGTH, newToken } from '../../crypto/random.js';
import { type Database, json, type Db } from '../../db/schema.js';
import type { AuthorizationParams } from '../checks/params.js';


export interface StoredRequest {
  params: AuthorizationParams;
  createdAt: Date;
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

/** An unused, unexpired interactive request; it stays usable until a code is issued for it. */
export async function findInteractiveRequest(db: Db, clock: Clock, id: string): Promise<StoredRequest | undefined> {
  if (id.length > MAX_ISSUED_TOKEN_LENGTH) return undefined;
  const row = await db
    .selectFrom('oauth_authorization_requests')
    .select(['params', 'created_at'])
    .where('id_hash', '=', hashToken(id))
    .where('kind', '=', 'interactive')
    .where('used_at', 'is', null)
    .where('expires_at', '>', clock.now())
    .executeTakeFirst();
  return row && { params: row.params as unknown as AuthorizationParams, createdAt: row.created_at };
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
  if (!stored || typeof stored.params.client_id !== 'string' || typeof stored.params.redirect_uri !== 'string') return undefined;
  const client = await db.selectFrom('oauth_clients').select('client_name').where('client_id', '=', stored.params.client_id).executeTakeFirst();
  return client && { clientName: client.client_name, redirectUri: stored.params.redirect_uri };
}
