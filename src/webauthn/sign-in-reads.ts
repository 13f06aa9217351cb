import { sql } from 'kysely';
import { hashToken } from '../crypto/random.js';
import type { Db, WebauthnChallenge } from '../db/schema.js';
import { withDates } from '../db/json-row.js';
import { statementTemplate } from '../db/statement-template.js';
import { credentialWithOwner, type PasskeyWithOwner, passkeyWithOwner } from './credentials.js';

/** Everything a passkey sign-in reads before its one writing statement, read in one statement. */
export interface SignInReads {
  /** The address's throttle: until when it is backed off or locked (null or past: not). */
  addressBlockedUntil: Date | null;
  /** The row of the challenge the response carries: for a sealed sign-in challenge, there only once spent (unspentSealedChallenge judges it). */
  challenge: WebauthnChallenge | undefined;
  /** The credential the response names, with its owner (unusableCredential judges it). */
  credential: PasskeyWithOwner | undefined;
}

/**
 * The address's throttle row, the challenge and the credential with its owner, in
 * one round trip: the challenge (from clientDataJSON) and the credential ID (from
 * the body) are both known before any query. Reading decides nothing: the caller
 * applies the checks in their order (throttle first, then the challenge, then the
 * credential), so the answers and their precedence are those of three reads in a row.
 */
export async function readSignIn(db: Db, input: { addressKey: string; challenge: string; credentialId: string; ownerThrottleKeyPrefix: string }): Promise<SignInReads> {
  const { rows } = await SIGN_IN_READS.execute(db, { addressKey: input.addressKey, challengeHash: hashToken(input.challenge), credentialId: input.credentialId, ownerThrottleKeyPrefix: input.ownerThrottleKeyPrefix });
  const { address_blocked_until, challenge_row, ...found } = rows[0]!;
  return {
    addressBlockedUntil: address_blocked_until,
    challenge: challenge_row ? (withDates(challenge_row) as unknown as WebauthnChallenge) : undefined,
    credential: found.id === null ? undefined : passkeyWithOwner(found as Parameters<typeof passkeyWithOwner>[0]),
  };
}

const SIGN_IN_READS = statementTemplate('passkey sign-in reads', (db, values: { addressKey: string; challengeHash: string; credentialId: string; ownerThrottleKeyPrefix: string }) =>
  db
    // One row whatever is found: the credential is left-joined to a constant row.
    .selectFrom(sql<{ one: number }>`(select 1 as one)`.as('one'))
    .leftJoin(credentialWithOwner(db, values.credentialId, values.ownerThrottleKeyPrefix).as('found'), (join) => join.onTrue())
    .selectAll('found')
    .select((eb) => [
      eb.selectFrom('rate_limits').select('blocked_until').where('key', '=', values.addressKey).as('address_blocked_until'),
      eb.selectFrom('webauthn_challenges as ch').select(sql<Record<string, unknown>>`to_jsonb(ch)`.as('row')).where('ch.challenge_hash', '=', values.challengeHash).as('challenge_row'),
    ]),
);
