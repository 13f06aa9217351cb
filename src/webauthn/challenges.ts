import type { Config } from '../config.js';
import { addSeconds, type Clock } from '../clock.js';
import { hashToken, newId, newToken } from '../crypto/random.js';
import type { Database, WebauthnCeremony, WebauthnChallenge, Db } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';
import type { Logger } from '../log.js';
import { type AnonymousRequest, insertWithinRequestLimit } from '../throttle/requests.js';


/** What a challenge is bound to besides its ceremony; a field left out must be null on the row. */
export interface ChallengeBinding {
  userId?: string;
  sessionId?: string;
  invitationId?: string;
}

export interface IssuedChallenge {
  /** base64url, as it goes into the options and comes back in clientDataJSON. */
  challenge: string;
  row: WebauthnChallenge;
}

// Used and expired challenges are kept a while for diagnosis (`challenge_used` vs `challenge_unknown`), then purged.
const KEEP_SPENT_SECONDS = 3600;

/**
 * A fresh 256-bit challenge for one ceremony, stored (hashed) in the database so
 * any instance can finish the ceremony and a restart forgets nothing. With
 * `limit` (an anonymous request), the request is counted against its address in
 * the same statement, and past the limit refused with nothing stored.
 */
export async function issueChallenge(
  db: Db,
  deps: { clock: Clock; config: Pick<Config, 'webauthn' | 'audit'> },
  input: { ceremony: WebauthnCeremony; binding?: ChallengeBinding; userHandle?: string; limit?: AnonymousRequest },
): Promise<IssuedChallenge> {
  const now = deps.clock.now();
  const challenge = newToken(32);
  const row: WebauthnChallenge = {
    id: newId(),
    challenge_hash: hashToken(challenge),
    ceremony: input.ceremony,
    user_id: input.binding?.userId ?? null,
    session_id: input.binding?.sessionId ?? null,
    invitation_id: input.binding?.invitationId ?? null,
    user_handle: input.userHandle ?? null,
    created_at: now,
    expires_at: addSeconds(now, deps.config.webauthn.challengeTtlSeconds),
    used_at: null,
  };
  if (input.limit) await insertWithinRequestLimit({ db, clock: deps.clock, config: deps.config }, input.limit, 'webauthn_challenges', row);
  else await db.insertInto('webauthn_challenges').values(row).execute();
  return { challenge, row };
}

/**
 * Deletes challenges that expired more than an hour ago. A periodic job rather than
 * part of issuing one: a sign-in pays for its own row, not for a sweep.
 */
export async function purgeSpentChallenges(deps: { db: Db; clock: Clock }): Promise<number> {
  const result = await deps.db.deleteFrom('webauthn_challenges').where('expires_at', '<', addSeconds(deps.clock.now(), -KEEP_SPENT_SECONDS)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const PURGE_INTERVAL_MS = 10 * 60 * 1000;

export function startChallengeHousekeeping(deps: { db: Db; clock: Clock; log: Logger }): PeriodicJob {
  return startPeriodicJob({ name: 'WebAuthn challenge housekeeping', intervalMs: PURGE_INTERVAL_MS, log: deps.log, round: () => purgeSpentChallenges(deps) });
}

/**
 * Spends the challenge a response carries, once. The conditional UPDATE is the
 * single-use guarantee: of two concurrent answers to one challenge, the second
 * waits for the first's row lock and then finds `used_at` set. The binding is in
 * the WHERE clause, so nobody can spend (and so cancel) someone else's ceremony.
 * Called outside the ceremony's transaction on purpose: a response that fails
 * verification has still used up its challenge.
 */
export async function consumeChallenge(
  db: Db,
  clock: Clock,
  input: { challenge: string; ceremony: WebauthnCeremony; binding?: ChallengeBinding },
): Promise<WebauthnChallenge> {
  const now = clock.now();
  const challengeHash = hashToken(input.challenge);
  const binding = input.binding ?? {};
  let query = db
    .updateTable('webauthn_challenges')
    .set({ used_at: now })
    .where('challenge_hash', '=', challengeHash)
    .where('ceremony', '=', input.ceremony)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now);
  if (binding.userId !== undefined) query = query.where('user_id', '=', binding.userId);
  if (binding.sessionId !== undefined) query = query.where('session_id', '=', binding.sessionId);
  if (binding.invitationId !== undefined) query = query.where('invitation_id', '=', binding.invitationId);
  const claimed = await query.returningAll().executeTakeFirst();
  if (claimed) return claimed;

  const current = await db.selectFrom('webauthn_challenges').selectAll().where('challenge_hash', '=', challengeHash).executeTakeFirst();
  throw unusableChallenge(current, input.ceremony, binding, now);
}

/**
 * The challenge a response carries (`row`, read by its hash), not yet spent, for
 * a ceremony that spends it in the statement that completes it (challengeSpend),
 * so that a sign-in commits once. Refused as consumeChallenge would refuse it.
 * Reading is no claim: single-use is the spend's conditional UPDATE, and a
 * response refused on the way must still be spent (spendChallenge).
 */
export function unspentChallenge(row: WebauthnChallenge | undefined, ceremony: WebauthnCeremony, clock: Clock): WebauthnChallenge {
  const now = clock.now();
  if (row && row.ceremony === ceremony && row.used_at === null && row.expires_at > now) return row;
  throw unusableChallenge(row, ceremony, {}, now);
}

/** Spends a challenge that unspentChallenge accepted, not yet run: changes its row only if nobody spent it first. */
export function challengeSpend(db: Db, clock: Clock, challenge: WebauthnChallenge) {
  const now = clock.now();
  return db.updateTable('webauthn_challenges').set({ used_at: now }).where('id', '=', challenge.id).where('used_at', 'is', null).where('expires_at', '>', now).returning('id');
}

/** Spends a challenge whose response was refused: an answer that failed verification cannot be tried again. */
export async function spendChallenge(db: Db, clock: Clock, challenge: WebauthnChallenge): Promise<void> {
  await db.updateTable('webauthn_challenges').set({ used_at: clock.now() }).where('id', '=', challenge.id).where('used_at', 'is', null).execute();
}

/** The answer to a response whose challenge another answer spent first (challengeSpend changed nothing). */
export const challengeAlreadyUsed = () => new WartaError(400, 'challenge_used', 'this response was already used; start again');

function unusableChallenge(row: WebauthnChallenge | undefined, ceremony: WebauthnCeremony, binding: ChallengeBinding, now: Date): WartaError {
  if (!row) return new WartaError(400, 'challenge_unknown', 'this sign-in attempt is not known here; start again');
  const foreign =
    row.ceremony !== ceremony ||
    (binding.userId !== undefined && row.user_id !== binding.userId) ||
    (binding.sessionId !== undefined && row.session_id !== binding.sessionId) ||
    (binding.invitationId !== undefined && row.invitation_id !== binding.invitationId);
  if (foreign) return new WartaError(400, 'challenge_foreign', 'this response answers a different ceremony; start again');
  if (row.used_at) return challengeAlreadyUsed();
  if (row.expires_at <= now) return new WartaError(400, 'challenge_expired', 'this attempt took too long; start again');
  return challengeAlreadyUsed();
}
