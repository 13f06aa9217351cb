/**
 * A passkey's assurance is bounded by how it was bound. A phished password and
 * TOTP code give an attacker an `mfa` session; if that session could add a
 * passkey that then signs in as `phishing-resistant`, the phished factors would
 * have minted the highest assurance Warta knows. So each passkey records the
 * assurance of the proof that added it (`bound_acr`), and sign-ins with it never
 * claim more (sessions/service.ts acrFor's ceiling).
 *
 * Phishing-resistant bindings: invitation enrollment, the recovery desk, and a
 * session whose latest proof was a phishing-resistant passkey. Anything else
 * stays at the adding session's acr until confirmed, by an officer at the desk
 * (recovery/confirm-passkey.ts) or by the owner from a passkey session
 * (confirmOwnPasskey below).
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Db, PasskeyBinding, Session, WebauthnCredential } from '../db/schema.js';
import { notFound, WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { assertRecentPasskey } from '../sessions/reauth.js';
import { ACR_HARDWARE, ACR_PHISHING_RESISTANT, acrReaches, weakerAcr } from '../sessions/service.js';

export interface Binding {
  boundAcr: string;
  via: PasskeyBinding;
}

/** Ceremonies that prove presence in person or by invitation bind at the phishing-resistant level. */
export const INVITATION_BINDING: Binding = { boundAcr: ACR_PHISHING_RESISTANT, via: 'invitation' };
export const RECOVERY_BINDING: Binding = { boundAcr: ACR_PHISHING_RESISTANT, via: 'recovery' };

/** A passkey added from a signed-in session is worth what that session's latest proof was, and never more than phishing-resistant. */
export function sessionBinding(session: Pick<Session, 'acr'>): Binding {
  if (acrReaches(session.acr, ACR_PHISHING_RESISTANT)) return { boundAcr: ACR_PHISHING_RESISTANT, via: 'passkey_session' };
  return { boundAcr: weakerAcr(session.acr, ACR_PHISHING_RESISTANT), via: 'session' };
}

/**
 * The most a sign-in with this passkey may prove. A phishing-resistant binding
 * does not cap the passkey (a device-bound key then reaches `hardware`); any
 * other value, known or not, is the cap (fail closed).
 */
export function passkeyAcrCeiling(passkey: Pick<WebauthnCredential, 'bound_acr'>): string {
  return passkey.bound_acr === ACR_PHISHING_RESISTANT ? ACR_HARDWARE : passkey.bound_acr;
}

/** Whether the passkey still waits for a confirmation to sign in as phishing-resistant. */
export const awaitsConfirmation = (passkey: Pick<WebauthnCredential, 'bound_acr'>): boolean => passkey.bound_acr !== ACR_PHISHING_RESISTANT;

/** Raises one named passkey to phishing-resistant; undefined when it is not (or no longer) awaiting confirmation. Single-use in SQL. */
export async function markPasskeyConfirmed(db: Db, clock: Clock, input: { userId: string; passkeyId: string; confirmedBy: string }): Promise<WebauthnCredential | undefined> {
  return db
    .updateTable('webauthn_credentials')
    .set({ bound_acr: ACR_PHISHING_RESISTANT, confirmed_at: clock.now(), confirmed_by: input.confirmedBy })
    .where('id', '=', input.passkeyId)
    .where('user_id', '=', input.userId)
    .where('revoked_at', 'is', null)
    .where('blocked_at', 'is', null)
    .where('bound_acr', '!=', ACR_PHISHING_RESISTANT)
    .returningAll()
    .executeTakeFirst();
}

export const passkeyNotAwaiting = () => new WartaError(409, 'passkey_not_awaiting_confirmation', 'this passkey is already phishing-resistant, removed or blocked');

/**
 * The owner confirms one of their own named passkeys from a session whose
 * latest proof was a phishing-resistant passkey, re-verified within 5 minutes:
 * the phishing-resistant passkey vouches for the new one. Refusals are audited.
 */
export async function confirmOwnPasskey(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, input: { session: Session; passkeyId: string }): Promise<WebauthnCredential> {
  const userId = input.session.user_id;
  const refuse = async (error: WartaError): Promise<never> => {
    await appendAudit(deps.db, deps, context, { action: 'passkey.confirmation_refused', subject: `user:${userId}`, outcome: 'failure', details: { passkey_id: input.passkeyId, reason: error.code, session_acr: input.session.acr } });
    throw error;
  };
  try {
    assertRecentPasskey(input.session, deps.clock);
  } catch (error) {
    if (error instanceof WartaError) return refuse(error);
    throw error;
  }
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const passkey = await markPasskeyConfirmed(trx, deps.clock, { userId, passkeyId: input.passkeyId, confirmedBy: userId });
    if (!passkey) return { refusal: await whyNotConfirmable(trx, { userId, passkeyId: input.passkeyId }) };
    await appendAudit(trx, deps, context, { action: 'passkey.confirmed', subject: `user:${userId}`, details: { passkey_id: passkey.id, name: passkey.name, by: 'owner', session_id: input.session.id, session_acr: input.session.acr } });
    return { passkey };
  });
  return outcome.passkey ?? refuse(outcome.refusal!);
}

/** Why markPasskeyConfirmed changed nothing: no such passkey on the account, or it is not awaiting confirmation. */
export async function whyNotConfirmable(db: Db, input: { userId: string; passkeyId: string }): Promise<WartaError> {
  const exists = await db.selectFrom('webauthn_credentials').select('id').where('id', '=', input.passkeyId).where('user_id', '=', input.userId).executeTakeFirst();
  return exists ? passkeyNotAwaiting() : notFound('passkey_not_found', 'no such passkey on this account');
}
