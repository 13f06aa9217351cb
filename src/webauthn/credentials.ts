import { sql, type Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { newToken } from '../crypto/random.js';
import type { Database, User, WebauthnCredential, Db } from '../db/schema.js';
import { withDates } from '../db/json-row.js';
import type { SessionLifetimePolicy } from '../sessions/service.js';
import { invalidRequest, WartaError } from '../errors.js';
import { awaitsConfirmation } from './binding.js';


/** The user's WebAuthn user handle, if they have one. */
export async function findUserHandle(db: Db, userId: string): Promise<string | undefined> {
  const row = await db.selectFrom('webauthn_user_handles').select('handle').where('user_id', '=', userId).executeTakeFirst();
  return row?.handle;
}

/**
 * The user's handle, created on first need. A new user gets the handle their
 * enrollment options carried (`proposed`); two first registrations at once both
 * end up with whichever handle was stored first.
 */
export async function ensureUserHandle(db: Db, clock: Clock, userId: string, proposed: string = newToken(32)): Promise<string> {
  await db.insertInto('webauthn_user_handles').values({ user_id: userId, handle: proposed, created_at: clock.now() }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
  return (await findUserHandle(db, userId))!;
}

/** Passkeys that can sign in: neither removed nor blocked. */
export function activePasskeys(db: Db, userId: string) {
  return db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).where('blocked_at', 'is', null);
}

/** Every passkey the user has not removed, blocked ones included (so the account page can say why one no longer works). */
export async function listPasskeys(db: Db, userId: string): Promise<WebauthnCredential[]> {
  return db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('created_at').execute();
}

/** What a sign-in needs about a passkey's owner: the user, their WebAuthn user handle, their organisation's policy, and their sign-in throttle row. */
export interface PasskeyOwner {
  user: User;
  userHandle: string | undefined;
  organisationPolicy: SessionLifetimePolicy;
  /** Present when the owner's throttle row exists (failures were counted): until when it blocks. */
  throttle: { blockedUntil: Date | null } | undefined;
}

/**
 * The credential with `credentialId` and its owner, in one query (a sign-in's
 * reads, one round trip). `ownerThrottleKeyPrefix` + the user id is the owner's
 * throttle key (throttle/sign-in.ts `userKey`).
 */
export async function findCredentialWithOwner(db: Db, credentialId: string, ownerThrottleKeyPrefix: string): Promise<PasskeyWithOwner | undefined> {
  return passkeyWithOwner(await credentialWithOwner(db, credentialId, ownerThrottleKeyPrefix).executeTakeFirst());
}

export interface PasskeyWithOwner {
  passkey: WebauthnCredential;
  owner: PasskeyOwner;
}

/** findCredentialWithOwner's query, not yet run (to read it in the same statement as other things: sign-in-reads.ts). */
export function credentialWithOwner(db: Db, credentialId: string, ownerThrottleKeyPrefix: string) {
  return db
    .selectFrom('webauthn_credentials as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .innerJoin('organisations as o', 'o.id', 'u.organisation_id')
    .leftJoin('webauthn_user_handles as h', 'h.user_id', 'c.user_id')
    .leftJoin('rate_limits as r', (join) => join.on('r.key', '=', sql<string>`${ownerThrottleKeyPrefix} || c.user_id`))
    .selectAll('c')
    .select([
      sql<Record<string, unknown>>`to_jsonb(u)`.as('owner_user'),
      'h.handle as owner_user_handle',
      'o.policy as owner_organisation_policy',
      'r.key as owner_throttle_key',
      'r.blocked_until as owner_throttle_blocked_until',
    ])
    .where('c.credential_id', '=', credentialId);
}

type CredentialWithOwnerRow = Awaited<ReturnType<ReturnType<typeof credentialWithOwner>['executeTakeFirstOrThrow']>>;

/** A row of credentialWithOwner as the passkey and its owner; undefined when no credential was found. */
export function passkeyWithOwner(row: CredentialWithOwnerRow | undefined): PasskeyWithOwner | undefined {
  if (!row) return undefined;
  const { owner_user, owner_user_handle, owner_organisation_policy, owner_throttle_key, owner_throttle_blocked_until, ...passkey } = row;
  return {
    passkey,
    owner: {
      user: withDates(owner_user) as unknown as User,
      userHandle: owner_user_handle ?? undefined,
      // Read as stored (orgs/policy-check.ts validated it), as sessions/service.ts reads it.
      organisationPolicy: (owner_organisation_policy ?? {}) as SessionLifetimePolicy,
      throttle: owner_throttle_key === null ? undefined : { blockedUntil: owner_throttle_blocked_until },
    },
  };
}


export async function findCredentialById(db: Db, credentialId: string): Promise<WebauthnCredential | undefined> {
  return db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
}

/** Why a stored credential cannot sign in, or undefined when it can. */
export function unusableCredential(credential: WebauthnCredential | undefined): WartaError | undefined {
  if (!credential) return new WartaError(401, 'credential_unknown', 'this passkey is not registered with Warta');
  if (credential.revoked_at) return new WartaError(401, 'credential_revoked', 'this passkey was removed from its account');
  if (credential.blocked_at) return credentialBlocked();
  return undefined;
}

export const credentialBlocked = () =>
  new WartaError(403, 'credential_blocked', 'this passkey has been blocked because it may have been copied; contact the recovery desk to restore access');

const NAME_MAX = 64;

/** A passkey's name as its owner typed it: trimmed, one line, at most 64 characters; empty when none was given. */
export function passkeyName(raw: string | undefined): string {
  const name = (raw ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
  if (name.length > NAME_MAX) throw invalidRequest(`a passkey name is at most ${NAME_MAX} characters`);
  if (/\p{Cc}/u.test(name)) throw invalidRequest('a passkey name must not contain control characters');
  return name;
}

/**
 * Moves the signature counter forward, atomically, as part of a sign-in
 * (§7.2 step 21). No row means the stored counter is not below the new one: the
 * authenticator may be cloned. Counters that stay 0 are authenticators that do
 * not count (most synced passkeys), which the spec allows.
 */
export async function advanceSignCount(trx: Transaction<Database>, clock: Clock, credential: WebauthnCredential, input: { signCount: number; backedUp: boolean }): Promise<WebauthnCredential | undefined> {
  return signCountAdvance(trx, { credentialId: credential.id, ...input, now: clock.now() }, signCounter(input.signCount)).executeTakeFirst();
}

/** Whether the authenticator counts its signatures: one that reports 0 does not, and its stored counter must stay 0. */
export type SignCounter = 'counting' | 'not counting';
export const signCounter = (signCount: number): SignCounter => (signCount === 0 ? 'not counting' : 'counting');

export interface SignCountAdvance {
  credentialId: string;
  signCount: number;
  backedUp: boolean;
  now: Date;
}

/** advanceSignCount's statement, not yet run: the gate of a sign-in made in one statement (sessions/sign-in.ts). */
export function signCountAdvance(db: Db, advance: SignCountAdvance, counter: SignCounter) {
  return db
    .updateTable('webauthn_credentials')
    .set({ sign_count: advance.signCount, backed_up: advance.backedUp, last_used_at: advance.now })
    .where('id', '=', advance.credentialId)
    .where('revoked_at', 'is', null)
    .where('blocked_at', 'is', null)
    .where('sign_count', counter === 'not counting' ? '=' : '<', advance.signCount)
    .returningAll();
}

export async function blockCredential(trx: Transaction<Database>, clock: Clock, credentialId: string, reason: string): Promise<void> {
  await trx.updateTable('webauthn_credentials').set({ blocked_at: clock.now(), blocked_reason: reason }).where('id', '=', credentialId).where('blocked_at', 'is', null).execute();
}

/** Public JSON view of a passkey: never the public key. */
export function passkeyView(credential: WebauthnCredential) {
  return {
    id: credential.id,
    name: credential.name,
    authenticator: credential.authenticator_name,
    aaguid: credential.aaguid,
    type: credential.backup_eligible ? 'synced' : 'device_bound',
    created_at: credential.created_at.toISOString(),
    last_used_at: credential.last_used_at?.toISOString() ?? null,
    blocked: credential.blocked_at !== null,
    // What a sign-in with it proves at most (webauthn/binding.ts); `confirmation_needed` while an mfa-bound passkey waits.
    bound_acr: credential.bound_acr,
    confirmation_needed: awaitsConfirmation(credential),
    confirmed_at: credential.confirmed_at?.toISOString() ?? null,
  };
}
