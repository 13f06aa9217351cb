import type { Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { newToken } from '../crypto/random.js';
import type { Database, WebauthnCredential, Db } from '../db/schema.js';
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
  return trx
    .updateTable('webauthn_credentials')
    .set({ sign_count: input.signCount, backed_up: input.backedUp, last_used_at: clock.now() })
    .where('id', '=', credential.id)
    .where('revoked_at', 'is', null)
    .where('blocked_at', 'is', null)
    .where('sign_count', input.signCount === 0 ? '=' : '<', input.signCount)
    .returningAll()
    .executeTakeFirst();
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
