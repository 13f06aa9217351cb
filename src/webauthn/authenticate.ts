/**
 * Authentication ceremonies (WebAuthn §7.2): sign-in, usernameless or
 * username-first, and re-authentication of a signed-in session.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { hashToken } from '../crypto/random.js';
import type { Database, Session, User, WebauthnCeremony, WebauthnCredential } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { assertNotThrottled, clearFailures, refuseWhileBlocked } from '../throttle/counters.js';
import type { Deps } from '../deps.js';
import { reauthenticateSession } from '../sessions/service.js';
import { completeSignInWhen, type SignedIn, signInStatement, type SignInRequest } from '../sessions/sign-in.js';
import { findUserByUsername } from '../users/service.js';
import { passkeyAmr } from './amr.js';
import { passkeyAcrCeiling } from './binding.js';
import { decoyCredentials, passkeyShapes } from './decoy.js';
import { type ChallengeBinding, challengeAlreadyUsed, type ChallengeSpend, challengeSpend, consumeChallenge, issueChallenge, issueSealedChallenge, type SealedChallenge, sealedChallengeSpend, spendSealedChallenge, unspentSealedChallenge } from './challenges.js';
import type { SealedCeremony } from './sealed-challenge.js';
import { checkAssertionSignature } from './assertion-signature.js';
import { checkAuthenticatorData, checkBackupFlags, checkClientData, readAuthenticationResponse, readAuthenticatorData, readClientData } from './checks.js';
import { activePasskeys, advanceSignCount, blockCredential, credentialBlocked, findCredentialById, findCredentialWithOwner, type PasskeyOwner, type PasskeyWithOwner, type SignCountAdvance, type SignCounter, signCountAdvance, signCounter, unusableCredential } from './credentials.js';
import { type Attempt, countingSignInFailure, ipKey, USER_KEY_PREFIX, userKey } from '../throttle/sign-in.js';
import { requestOptions } from './options.js';
import { readSignIn } from './sign-in-reads.js';

/**
 * Sign-in options. Without a username: usernameless (discoverable credentials,
 * also what conditional UI autofill uses). With one: that account's passkeys.
 * An unknown name, or one without passkeys, gets decoy credentials shaped like
 * real ones (decoy.ts), so the answer does not tell who has an account.
 * The challenge is sealed, not stored (sealed-challenge.ts): nothing is written.
 */
export async function startAuthentication(
  deps: Deps,
  input: { username?: string | undefined },
  ceremony: SealedCeremony = 'authentication',
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const username = input.username?.trim();
  if (!username) return requestOptions(deps.config, { challenge: issueSealedChallenge(deps, { ceremony }), allow: [] });
  const user = await findUserByUsername(deps.db, username);
  const passkeys = user?.status === 'active' ? await activePasskeys(deps.db, user.id).execute() : [];
  const challenge = issueSealedChallenge(deps, { ceremony, userId: passkeys.length ? user!.id : undefined });
  const allow = passkeys.length ? passkeys : decoyCredentials(deps.tokenHashKey, username, await passkeyShapes(deps.db, deps.clock));
  return requestOptions(deps.config, { challenge, allow });
}

/** Verifies a sign-in assertion and, in one transaction, moves the counter forward and starts the session. */
export async function finishAuthentication(deps: Deps, request: SignInRequest, input: { credential: unknown }): Promise<SignedIn & { user: User; passkey: WebauthnCredential }> {
  return signInWithAssertion(deps, request, { credential: input.credential, ceremony: 'authentication' });
}

/**
 * The same sign-in for the authorization challenge endpoint (src/first-party/):
 * the assertion must answer the one challenge issued for that auth_session. The
 * origin check is the same exact one, so an app signed with another key gets nothing.
 */
export async function finishChallengeAuthentication(deps: Deps, request: SignInRequest, input: { credential: unknown; challengeHash: string }): Promise<SignedIn & { user: User; passkey: WebauthnCredential }> {
  return signInWithAssertion(deps, request, { credential: input.credential, ceremony: 'authorization_challenge', challengeHash: input.challengeHash });
}

async function signInWithAssertion(
  deps: Deps,
  request: SignInRequest,
  input: { credential: unknown; ceremony: SealedCeremony; challengeHash?: string },
): Promise<SignedIn & { user: User; passkey: WebauthnCredential }> {
  const { context } = request;
  const attempt: Attempt = {};
  const counting = <T>(run: () => Promise<T>) => countingSignInFailure(deps, context, { action: 'signin.failed', attempt }, run);
  let response: AssertionResponse;
  try {
    response = readAssertion(input.credential, input.challengeHash);
  } catch (refusal) {
    // A response that does not parse names no challenge nor credential: a throttled address is still told so first.
    await assertNotThrottled(deps.db, deps.clock, ipKey(context.ip));
    return counting(() => Promise.reject(refusal));
  }
  // The sign-in's reads in one statement; checked in the order of the ceremony (throttled address, challenge, credential).
  const read = await readSignIn(deps.db, { addressKey: ipKey(context.ip), challenge: response.clientData.challenge, credentialId: response.response.id, ownerThrottleKeyPrefix: USER_KEY_PREFIX });
  refuseWhileBlocked(read.addressBlockedUntil, deps.clock);
  return counting(async () => {
    // Opened here and spent by the sign-in's own statement (one commit); a response refused on the way spends it on its own.
    const challenge = unspentSealedChallenge(deps, { challenge: response.clientData.challenge, ceremony: input.ceremony, spent: read.challenge });
    const asserted = await spendingOnRefusal(deps, challenge, async () => checkAssertion(deps, response, { boundUserId: challenge.userId, found: read.credential, attempt }));
    const { user, passkey } = asserted;
    // The challenge is spent, the counter moves forward and the session starts in one statement. The amr and acr come from the
    // passkey as read before: backup eligibility never changes, and a binding confirmed meanwhile only counts from the next sign-in.
    const outcome = await completeSignInWhen(
      deps,
      request,
      { userId: user.id, amr: passkeyAmr(passkey, asserted.userVerified), acrCeiling: passkeyAcrCeiling(passkey), method: 'passkey', organisationPolicy: asserted.owner.organisationPolicy },
      PASSKEY_SIGN_IN,
      { spend: challengeSpend(deps.clock, challenge), advance: { credentialId: passkey.id, signCount: asserted.signCount, backedUp: asserted.backedUp, now: deps.clock.now() } },
      signCounter(asserted.signCount),
    );
    if ('failedGate' in outcome) {
      // Another answer to the same challenge came first: it alone signs in.
      if (outcome.failedGate === 0) throw challengeAlreadyUsed();
      return refuseStalledCounter(deps, context, asserted);
    }
    // Nothing to forget when no failure was ever counted for the account (the common case: no delete).
    if (asserted.owner.throttle) await clearFailures(deps.db, userKey(user.id));
    return { ...outcome.signedIn, user, passkey };
  });
}

/** The challenge is spent (single use: its unique hash), then the counter moves forward, then the session starts: one statement. */
const PASSKEY_SIGN_IN = signInStatement<{ spend: ChallengeSpend; advance: SignCountAdvance }, SignCounter>('passkey sign-in', (counter) => ({
  gates: [(db, values) => sealedChallengeSpend(db, values.spend), (db, values, challengeSpent) => signCountAdvance(db, values.advance, counter).where(challengeSpent)],
}));

/** Runs the checks of a response whose challenge is not yet spent; when they refuse it, the challenge is spent first. */
async function spendingOnRefusal<T>(deps: Deps, challenge: SealedChallenge, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    await spendSealedChallenge(deps.db, deps.clock, challenge);
    throw error;
  }
}

/** Options to re-prove presence with one of the signed-in user's own passkeys. */
export async function startReauthentication(deps: Deps, input: { session: Session; user: User }): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const passkeys = await activePasskeys(deps.db, input.user.id).execute();
  if (passkeys.length === 0) throw new WartaError(409, 'no_passkey', 'this account has no passkey to confirm with; sign in again instead');
  const { challenge } = await issueChallenge(deps.db, deps, { ceremony: 'reauthentication', binding: { userId: input.user.id, sessionId: input.session.id } });
  return requestOptions(deps.config, { challenge, allow: passkeys });
}

/** Verifies a re-authentication assertion and records the fresh proof on the session (auth_time, amr, acr). */
export async function finishReauthentication(deps: Deps, context: AuditContext, input: { session: Session; credential: unknown }): Promise<Session> {
  const { session } = input;
  await assertNotThrottled(deps.db, deps.clock, ipKey(context.ip));
  const attempt: Attempt = { userId: session.user_id };
  return countingSignInFailure(deps, context, { action: 'reauthentication.failed', attempt }, async () => {
    const asserted = await verifyAssertion(deps, input.credential, { ceremony: 'reauthentication', binding: { userId: session.user_id, sessionId: session.id }, attempt });
    const updated = await commitAssertion(deps, context, asserted, async (trx, passkey) => {
      const refreshed = await reauthenticateSession(trx, deps.clock, session, passkeyAmr(passkey, asserted.userVerified), passkeyAcrCeiling(passkey));
      await appendAudit(trx, deps, context, { action: 'session.reauthenticated', subject: `user:${session.user_id}`, details: { method: 'passkey', passkey_id: passkey.id, session_id: session.id, amr: refreshed.amr, acr: refreshed.acr } });
      return refreshed;
    });
    if (asserted.owner.throttle) await clearFailures(deps.db, userKey(session.user_id));
    return updated;
  });
}

interface VerifiedAssertion {
  passkey: WebauthnCredential;
  user: User;
  owner: PasskeyOwner;
  signCount: number;
  backedUp: boolean;
  userVerified: boolean;
}

interface AssertionResponse {
  response: ReturnType<typeof readAuthenticationResponse>;
  clientData: ReturnType<typeof readClientData>;
}

/** The response and its client data, parsed; with `challengeHash`, the one challenge it must answer. */
function readAssertion(body: unknown, challengeHash: string | undefined): AssertionResponse {
  const response = readAuthenticationResponse(body);
  const clientData = readClientData(response.response.clientDataJSON);
  // Checked before the challenge is spent: an answer to another auth_session's challenge must not cancel that one.
  if (challengeHash !== undefined && hashToken(clientData.challenge) !== challengeHash) throw new WartaError(400, 'challenge_mismatch', 'this passkey response answers a different challenge');
  return { response, clientData };
}

/** §7.2, in order: challenge (spent once), then checkAssertion. */
async function verifyAssertion(deps: Deps, body: unknown, input: { ceremony: WebauthnCeremony; binding?: ChallengeBinding; attempt: Attempt }): Promise<VerifiedAssertion> {
  const response = readAssertion(body, undefined);
  const challenge = await consumeChallenge(deps.db, deps.clock, { challenge: response.clientData.challenge, ceremony: input.ceremony, ...(input.binding ? { binding: input.binding } : {}), sealKey: deps.challengeSealKey });
  const found = await findCredentialWithOwner(deps.db, response.response.id, USER_KEY_PREFIX);
  return checkAssertion(deps, response, { boundUserId: challenge.user_id, found, attempt: input.attempt });
}

/**
 * §7.2 once the challenge is known, in order: client data, credential and its owner (`found`, read by
 * the caller: undefined when no credential has the response's ID), authenticator data, signature.
 * `boundUserId`: the account the challenge was issued for, if any.
 */
function checkAssertion(deps: Deps, { response, clientData }: AssertionResponse, input: { boundUserId: string | null; found: PasskeyWithOwner | undefined; attempt: Attempt }): VerifiedAssertion {
  const { boundUserId, found, attempt } = input;
  checkClientData(clientData, { type: 'webauthn.get', origins: deps.config.webauthn.allowedOrigins });

  const passkey = found?.passkey;
  if (passkey) {
    attempt.passkeyId = passkey.id;
    attempt.userId = passkey.user_id;
  }
  const unusable = unusableCredential(passkey);
  if (unusable) throw unusable;
  // §7.2 steps 5–6: the credential must belong to the user the ceremony was for, and the user handle must be theirs.
  if (boundUserId && boundUserId !== passkey!.user_id) throw new WartaError(401, 'credential_not_allowed', 'this passkey belongs to a different account');
  const { owner } = found!;
  const userHandle = response.response.userHandle;
  if (userHandle) {
    if (userHandle !== owner.userHandle) throw new WartaError(401, 'user_handle_mismatch', 'this passkey belongs to a different account');
  } else if (!boundUserId) {
    throw new WartaError(400, 'user_handle_missing', 'a usernameless sign-in needs a discoverable passkey (the response carried no user handle)');
  }
  const { user } = owner;
  if (user.status !== 'active') throw new WartaError(403, 'account_disabled', 'this account is disabled; contact the recovery desk');
  refuseWhileBlocked(owner.throttle?.blockedUntil, deps.clock);

  const authenticatorData = Buffer.from(response.response.authenticatorData, 'base64url');
  const authData = readAuthenticatorData(authenticatorData);
  checkAuthenticatorData(authData, deps.config.webauthn.rpId);
  checkBackupFlags(authData);
  // The counter is checked by advanceSignCount once the signature holds: checked here,
  // a forged assertion with a low counter could get someone else's passkey blocked.
  checkAssertionSignature(passkey!.public_key, { authenticatorData, clientDataJSON: clientData.json, signature: Buffer.from(response.response.signature, 'base64url') });
  // WebAuthn L3 §7.2 step 17: backup eligibility is fixed when the credential is created.
  if (authData.flags.be !== passkey!.backup_eligible) throw new WartaError(401, 'backup_eligibility_changed', 'this passkey reported a different kind of authenticator than when it was registered');
  return { passkey: passkey!, user, owner, signCount: authData.counter, backedUp: authData.flags.bs, userVerified: authData.flags.uv };
}

/**
 * Moves the counter forward and runs `then` in the same transaction. A counter
 * that did not move forward means a cloned authenticator (§6.1.1): the passkey is
 * blocked and audited (committed), and the sign-in refused.
 */
async function commitAssertion<T>(deps: Deps, context: AuditContext, asserted: VerifiedAssertion, then: (trx: Transaction<Database>, passkey: WebauthnCredential) => Promise<T>): Promise<T> {
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const updated = await advanceSignCount(trx, deps.clock, asserted.passkey, { signCount: asserted.signCount, backedUp: asserted.backedUp });
    if (updated) return { done: await then(trx, updated) };
    await blockRegressedPasskey(trx, deps, context, asserted);
    return { blocked: true as const };
  });
  if ('blocked' in outcome) throw credentialBlocked();
  return outcome.done;
}

/** The counter did not move forward (sign-in made in one statement): the passkey is blocked and audited, and the sign-in refused. */
async function refuseStalledCounter(deps: Deps, context: AuditContext, asserted: VerifiedAssertion): Promise<never> {
  await deps.db.transaction().execute((trx) => blockRegressedPasskey(trx, deps, context, asserted));
  throw credentialBlocked();
}

/** Blocks a passkey whose counter did not move forward, unless it was removed or blocked meanwhile (then that is the answer). */
async function blockRegressedPasskey(trx: Transaction<Database>, deps: Deps, context: AuditContext, asserted: VerifiedAssertion): Promise<void> {
  const current = await findCredentialById(trx, asserted.passkey.credential_id);
  const unusable = unusableCredential(current);
  if (unusable) throw unusable;
  await blockCredential(trx, deps.clock, asserted.passkey.id, 'sign_count_regressed');
  await appendAudit(trx, deps, context, {
    action: 'passkey.blocked',
    subject: `user:${asserted.user.id}`,
    outcome: 'failure',
    details: { passkey_id: asserted.passkey.id, reason: 'sign_count_regressed', stored_sign_count: Number(current!.sign_count), presented_sign_count: asserted.signCount },
  });
}
