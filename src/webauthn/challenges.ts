import { sql } from 'kysely';
import type { Config } from '../config.js';
import { addSeconds, type Clock } from '../clock.js';
import { hashToken, newId, newToken } from '../crypto/random.js';
import type { WebauthnCeremony, WebauthnChallenge, Db } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';
import type { Logger } from '../log.js';
import { openChallenge, sealChallenge, type SealedCeremony } from './sealed-challenge.js';


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
 * any instance can finish the ceremony and a restart forgets nothing. For the
 * ceremonies bound to a session or an invitation; a sign-in's is sealed instead
 * (issueSealedChallenge).
 */
export async function issueChallenge(
  db: Db,
  deps: { clock: Clock; config: Pick<Config, 'webauthn'> },
  input: { ceremony: WebauthnCeremony; binding?: ChallengeBinding; userHandle?: string },
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
  await db.insertInto('webauthn_challenges').values(row).execute();
  return { challenge, row };
}

/**
 * A sign-in challenge, sealed (sealed-challenge.ts) and stored nowhere: the
 * options request writes nothing. Bound to `userId` for a username-first request.
 */
export function issueSealedChallenge(deps: { clock: Clock; config: Pick<Config, 'webauthn'>; challengeSealKey: Uint8Array }, input: { ceremony: SealedCeremony; userId?: string | undefined }): string {
  const expiresAt = addSeconds(deps.clock.now(), deps.config.webauthn.challengeTtlSeconds);
  return sealChallenge(deps.challengeSealKey, { ceremony: input.ceremony, expiresAt, userId: input.userId });
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
 * verification has still used up its challenge. With `sealKey`, a sign-in's
 * sealed challenge (never stored) is refused as foreign rather than unknown.
 */
export async function consumeChallenge(
  db: Db,
  clock: Clock,
  input: { challenge: string; ceremony: WebauthnCeremony; binding?: ChallengeBinding; sealKey?: Uint8Array },
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
  if (!current && input.sealKey && openChallenge(input.sealKey, input.challenge)) throw challengeForeign();
  throw unusableChallenge(current, input.ceremony, binding, now);
}

/** A sign-in challenge whose seal holds, for this ceremony, unexpired and not yet spent. */
export interface SealedChallenge {
  /** As it came back in clientDataJSON. */
  challenge: string;
  ceremony: SealedCeremony;
  expiresAt: Date;
  userId: string | null;
}

/**
 * The sealed challenge a response carries, judged with the answers a stored one
 * had, in their order: not a seal of this instance's key (`challenge_unknown`; a
 * stored challenge of another ceremony is `challenge_foreign`), another ceremony's
 * seal, spent (`spent`: its row, read by its hash; only spending writes one), expired.
 * Judging is no claim: single use is the spend's insert (sealedChallengeSpend), and
 * a response refused on the way must still be spent (spendSealedChallenge).
 */
export function unspentSealedChallenge(
  deps: { clock: Clock; challengeSealKey: Uint8Array },
  input: { challenge: string; ceremony: SealedCeremony; spent: WebauthnChallenge | undefined },
): SealedChallenge {
  const opened = openChallenge(deps.challengeSealKey, input.challenge);
  if (!opened) throw input.spent && input.spent.ceremony !== input.ceremony ? challengeForeign() : challengeUnknown();
  if (opened.ceremony !== input.ceremony) throw challengeForeign();
  if (input.spent) throw challengeAlreadyUsed();
  if (opened.expiresAt <= deps.clock.now()) throw challengeExpired();
  return { challenge: input.challenge, ceremony: input.ceremony, expiresAt: opened.expiresAt, userId: opened.userId };
}

/**
 * Spends a sealed challenge, not yet run: inserts its row, spent, unless one is
 * there. The unique hash is the single-use guarantee: of two concurrent answers,
 * the second waits for the first's insert to commit and then inserts nothing.
 * The row lives until the housekeeping purges it an hour after the seal expired,
 * and an expired seal is refused before it is spent (unspentSealedChallenge), so a
 * purged row never makes a spent challenge spendable again.
 */
export function sealedChallengeSpend(db: Db, spend: ChallengeSpend) {
  return db
    .insertInto('webauthn_challenges')
    .values({
      id: spend.id,
      challenge_hash: spend.challengeHash,
      ceremony: spend.ceremony,
      // Null if the account was deleted since the options (or the seal named none): the row only records the spend.
      user_id: sql<string | null>`(select id from users where id = ${spend.userId})`,
      session_id: null,
      invitation_id: null,
      user_handle: null,
      created_at: spend.now,
      expires_at: spend.expiresAt,
      used_at: spend.now,
    })
    .onConflict((oc) => oc.column('challenge_hash').doNothing())
    .returning('id');
}

/** The row sealedChallengeSpend inserts, as values: worked out before, so a statement template can take them (sessions/sign-in.ts). */
export interface ChallengeSpend {
  id: string;
  challengeHash: string;
  ceremony: SealedCeremony;
  userId: string | null;
  expiresAt: Date;
  now: Date;
}

export function challengeSpend(clock: Clock, challenge: SealedChallenge): ChallengeSpend {
  return { id: newId(), challengeHash: hashToken(challenge.challenge), ceremony: challenge.ceremony, userId: challenge.userId, expiresAt: challenge.expiresAt, now: clock.now() };
}

/** Spends a sealed challenge whose response was refused: an answer that failed verification cannot be tried again. */
export async function spendSealedChallenge(db: Db, clock: Clock, challenge: SealedChallenge): Promise<void> {
  await sealedChallengeSpend(db, challengeSpend(clock, challenge)).execute();
}

/** The answer to a response whose challenge another answer spent first (sealedChallengeSpend inserted nothing). */
export const challengeAlreadyUsed = () => new WartaError(400, 'challenge_used', 'this response was already used; start again');

const challengeUnknown = () => new WartaError(400, 'challenge_unknown', 'this sign-in attempt is not known here; start again');
const challengeForeign = () => new WartaError(400, 'challenge_foreign', 'this response answers a different ceremony; start again');
const challengeExpired = () => new WartaError(400, 'challenge_expired', 'this attempt took too long; start again');

function unusableChallenge(row: WebauthnChallenge | undefined, ceremony: WebauthnCeremony, binding: ChallengeBinding, now: Date): WartaError {
  if (!row) return challengeUnknown();
  const foreign =
    row.ceremony !== ceremony ||
    (binding.userId !== undefined && row.user_id !== binding.userId) ||
    (binding.sessionId !== undefined && row.session_id !== binding.sessionId) ||
    (binding.invitationId !== undefined && row.invitation_id !== binding.invitationId);
  if (foreign) return challengeForeign();
  if (row.used_at) return challengeAlreadyUsed();
  if (row.expires_at <= now) return challengeExpired();
  return challengeAlreadyUsed();
}
