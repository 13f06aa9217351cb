import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Kysely, Transaction } from 'kysely';
import type { Database, Db, Session } from '../db/schema.js';
import { removeSignInFactor } from '../users/sign-in-methods.js';
import { WartaError } from '../errors.js';
import { ACR_MFA, ACR_PHISHING_RESISTANT, ACR_SINGLE_FACTOR, acrRank, acrReaches, authenticatedWithin, weakerAcr } from './service.js';

/** How recent a proof of presence must be for changes to how the account signs in. */
export const REAUTH_MAX_AGE_SECONDS = 300;

/**
 * Adding a sign-in method needs a fresh sign-in or re-authentication: a stolen
 * session cookie alone must not be enough to plant a lasting way back in.
 */
export function assertRecentlyAuthenticated(session: Session, clock: Clock): void {
  if (!authenticatedWithin(session, clock, REAUTH_MAX_AGE_SECONDS))
    throw new WartaError(403, 'reauthentication_required', 'confirm it is you first: sign in again or use a passkey');
}

/**
 * Removing one needs a passkey used within the last five minutes. The session's
 * acr describes the most recent proof (reauthenticateSession sets it from that
 * proof alone), so a later password step-up does not count as a passkey.
 */
export function assertRecentPasskey(session: Session, clock: Clock): void {
  if (!authenticatedWithin(session, clock, REAUTH_MAX_AGE_SECONDS) || !acrReaches(session.acr, ACR_PHISHING_RESISTANT))
    throw new WartaError(403, 'reauthentication_required', 'confirm it is you with one of your passkeys first');
}

/** For pages at `path`: where to send a browser that is not signed in, or signed in too long ago; undefined when it may stay. */
export function reauthenticationRedirect(session: Session | undefined, clock: Clock, path: string): string | undefined {
  const here = encodeURIComponent(path);
  if (!session) return `/signin?return_to=${here}`;
  if (!authenticatedWithin(session, clock, REAUTH_MAX_AGE_SECONDS)) return `/account/reauth?return_to=${here}`;
  return undefined;
}

/**
 * The strongest assurance the user can sign in with today: a phishing-resistant
 * passkey (capped there: losing a device-bound key must not strand a user who
 * also has a synced one), else their best passkey binding, else password +
 * TOTP (mfa), else a password alone.
 */
export async function strongestSignInAcr(db: Db, userId: string): Promise<string> {
  const passkeys = await db.selectFrom('webauthn_credentials').select('bound_acr').where('user_id', '=', userId).where('revoked_at', 'is', null).where('blocked_at', 'is', null).execute();
  const password = await db.selectFrom('password_credentials').select('user_id').where('user_id', '=', userId).executeTakeFirst();
  const totp = await db.selectFrom('totp_credentials').select('user_id').where('user_id', '=', userId).executeTakeFirst();
  const candidates = [...passkeys.map((passkey) => weakerAcr(passkey.bound_acr, ACR_PHISHING_RESISTANT)), ...(password && totp ? [ACR_MFA] : password ? [ACR_SINGLE_FACTOR] : [])];
  return candidates.reduce((best, acr) => (acrRank(acr) > acrRank(best) ? acr : best), ACR_SINGLE_FACTOR);
}

/**
 * Removing a second factor (TOTP, password) or a passkey needs a proof within
 * the last five minutes at least as strong as the strongest way the user can
 * sign in: a phished password (+ TOTP) must not be able to strip the passkey
 * or the factors that protect the account. The session's acr describes its
 * latest proof alone (reauthenticateSession), so a later password re-auth does
 * not borrow an earlier passkey's assurance. A refusal is audited.
 */
export async function assertStrongReauthentication(deps: { db: Db; clock: Clock; auditEntryKey: Uint8Array }, context: AuditContext, input: { session: Session; removing: string }): Promise<void> {
  const { session } = input;
  const required = await strongestSignInAcr(deps.db, session.user_id);
  if (authenticatedWithin(session, deps.clock, REAUTH_MAX_AGE_SECONDS) && acrReaches(session.acr, required)) return;
  await appendAudit(deps.db, deps, context, {
    action: 'factor_removal.refused',
    subject: `user:${session.user_id}`,
    outcome: 'failure',
    details: { removing: input.removing, reason: 'reauthentication_required', required_acr: required, session_acr: session.acr, session_id: session.id },
  });
  throw new WartaError(403, 'reauthentication_required', acrReaches(required, ACR_PHISHING_RESISTANT) ? 'confirm it is you with one of your passkeys first' : 'confirm it is you first: sign in again');
}

/**
 * Removes one of the user's sign-in factors after the strong re-authentication
 * every removal needs (assertStrongReauthentication), guarding the last way to
 * sign in (removeSignInFactor). `remove` deletes the factor in the transaction.
 */
export async function removeFactorAfterStrongProof(
  deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array },
  context: AuditContext,
  input: { session: Session; confirmLastMethod: boolean; factor: 'password' | 'totp' | 'passkey' },
  remove: (trx: Transaction<Database>, userId: string) => Promise<Record<string, unknown> | undefined>,
): Promise<{ remaining: number }> {
  await assertStrongReauthentication(deps, context, { session: input.session, removing: input.factor });
  const userId = input.session.user_id;
  return removeSignInFactor(deps, context, { userId, confirmLastMethod: input.confirmLastMethod, action: `${input.factor}.removed` }, (trx) => remove(trx, userId));
}
