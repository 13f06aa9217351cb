/**
 * An officer at the desk confirms a person's named passkey that was added from
 * a password + TOTP session (webauthn/binding.ts): with the person in front of
 * them, the officer checks that the passkey on the person's device is the one
 * named, and from then on it signs in as phishing-resistant.
 *
 * Like an approval: the officer's own passkey session re-verified within 5
 * minutes, only people of the officer's organisation, never the officer's own
 * passkey (nobody vouches for themselves). Every refusal is audited.
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Session, User, WebauthnCredential } from '../db/schema.js';
import { notFound, WartaError } from '../errors.js';
import type { Deps } from '../deps.js';
import { assertRecentPasskey } from '../sessions/reauth.js';
import { markPasskeyConfirmed, whyNotConfirmable } from '../webauthn/binding.js';
import { listPasskeys } from '../webauthn/credentials.js';
import { findPersonForOfficer } from './people.js';

export interface DeskConfirmation {
  officer: User;
  session: Session;
  userId: string;
  passkeyId: string;
}

/** The person's passkeys as the officer sees them (names, kinds, which wait for confirmation). */
export async function personPasskeys(deps: Pick<Deps, 'db'>, officer: Pick<User, 'organisation_id'>, userId: string): Promise<WebauthnCredential[]> {
  const person = await findPersonForOfficer(deps.db, officer, userId);
  if (!person) throw notFound('user_not_found', 'no such person in your organisation');
  return listPasskeys(deps.db, person.id);
}

export async function confirmPasskeyAtDesk(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, input: DeskConfirmation): Promise<WebauthnCredential> {
  const { officer, session } = input;
  const refuse = async (error: WartaError): Promise<never> => {
    await appendAudit(deps.db, deps, context, {
      action: 'passkey.confirmation_refused',
      subject: `user:${input.userId}`,
      outcome: 'failure',
      details: { passkey_id: input.passkeyId, by: 'officer', officer_id: officer.id, reason: error.code },
    });
    throw error;
  };
  try {
    assertRecentPasskey(session, deps.clock);
  } catch (error) {
    if (error instanceof WartaError) return refuse(error);
    throw error;
  }
  if (input.userId === officer.id) return refuse(new WartaError(403, 'own_passkey', 'an officer cannot confirm their own passkey; another officer must'));
  const person = await findPersonForOfficer(deps.db, officer, input.userId);
  if (!person) return refuse(notFound('user_not_found', 'no such person in your organisation'));

  const outcome = await deps.db.transaction().execute(async (trx) => {
    const passkey = await markPasskeyConfirmed(trx, deps.clock, { userId: person.id, passkeyId: input.passkeyId, confirmedBy: officer.id });
    if (!passkey) return { refusal: await whyNotConfirmable(trx, { userId: person.id, passkeyId: input.passkeyId }) };
    await appendAudit(trx, deps, context, {
      action: 'passkey.confirmed',
      subject: `user:${person.id}`,
      details: { passkey_id: passkey.id, name: passkey.name, by: 'officer', officer_id: officer.id, officer_session_id: session.id },
    });
    return { passkey };
  });
  return outcome.passkey ?? refuse(outcome.refusal!);
}
