import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Database, Session, User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { parsedValue, type Parsed } from '../parsed.js';
import type { Deps } from '../deps.js';
import { hashPassword, needsRehash, verifyPassword } from './hash.js';
import { consumeTimeStep, matchCredentialCode, timeStepConsumption, type TimeStepUse } from '../totp/service.js';
import { reauthenticateSession } from '../sessions/service.js';
import { completeSignIn, completeSignInWhen, type SignedIn, signInStatement, type SignInRequest } from '../sessions/sign-in.js';
import type { PasswordSignInInput } from './input.js';
import { methodRefusal } from '../orgs/method-policy.js';
import { type PasswordAccount, passwordAccountFrom, passwordAccountQuery } from './password-account.js';
import { PASSWORD_AMR } from './service.js';
import {
  type PasswordReservation,
  type PasswordSettlement,
  type PasswordThrottleKeys,
  passwordSuccessSettlement,
  passwordThrottleKeys,
  recordPasswordFailure,
  type ReservedKeys,
  reservedKeys,
  releasePasswordAttempt,
  reservePasswordAttempt,
  settlePasswordSuccess,
} from '../throttle/passwords.js';

/** One answer for every wrong attempt, so it reveals neither which factor was wrong nor whether the account exists. */
export const invalidCredentials = () =>
  new WartaError(401, 'invalid_credentials', 'the username, password or code is not right; each code works only once, so wait for the next one before trying again');

type Ceremony = 'signin' | 'reauth';

/**
 * Checks the password and the TOTP code of `account`. With no account, or no
 * password, a dummy hash is verified so the answer takes as long as a wrong
 * password. The attempt was counted by `reservation` before this ran; every
 * failure is audited. What is proven is not yet committed: the code's time step
 * is consumed by the statement or transaction that completes the ceremony.
 */
async function provePasswordAndCode(deps: Deps, context: AuditContext, ceremony: Ceremony, keys: PasswordThrottleKeys, reservation: PasswordReservation, account: PasswordAccount | undefined, attempt: { password: string; code: string }): Promise<ProvenAttempt> {
  const failed = (reason: string) => refuseAttempt(deps, context, ceremony, keys, reservation, account, reason);
  const storedHash = account?.passwordHash ?? null;
  const dummyHash = await deps.dummyPasswordHash;
  const passwordMatches = await hashOrRelease(deps, keys, () => verifyPassword(storedHash ?? dummyHash, attempt.password));
  if (!account) throw await failed('unknown_account');
  if (storedHash === null || !passwordMatches) throw await failed(storedHash === null ? 'no_password' : 'wrong_password');
  const totp = account.totp;
  if (!totp) throw await failed('no_totp');
  const step = matchCredentialCode(deps, totp, attempt.code);
  if (step === null) throw await failed('wrong_code');

  // Only now, with both factors proven, may the answer say more than "wrong".
  const refusal = account.user.status !== 'active' ? new WartaError(403, 'account_disabled', 'this account is disabled; contact your administrator') : methodRefusal('password', account.policy, account.roles);
  if (refusal) {
    // Both factors were right: not a guess, so it is not counted.
    await releasePasswordAttempt(deps, keys);
    await appendAudit(deps.db, deps, context, { action: `${ceremony}.refused`, subject: `user:${account.user.id}`, outcome: 'failure', details: { reason: refusal.description } });
    throw refusal;
  }

  // A rehash is an upgrade, not part of the proof: with no hashing capacity now it waits for a later sign-in.
  const rehashed = needsRehash(storedHash, deps.config.passwords.argon2) ? await deps.passwordHashing.run(() => hashPassword(attempt.password, deps.config.passwords.argon2)).catch(() => undefined) : undefined;
  return { account, totpId: totp.id, step, storedHash, rehashed };
}

/** Both factors proven, the code's time step not yet consumed; `rehashed` when the stored hash is to be upgraded. */
interface ProvenAttempt {
  account: PasswordAccount;
  totpId: string;
  step: number;
  storedHash: string;
  rehashed: string | undefined;
}

/** Audits and counts a failed attempt (its reservation is the count); the answer never says which factor was wrong. */
async function refuseAttempt(deps: Deps, context: AuditContext, ceremony: Ceremony, keys: PasswordThrottleKeys, reservation: PasswordReservation, account: PasswordAccount | undefined, reason: string): Promise<WartaError> {
  await recordPasswordFailure(deps, context, keys, reservation, { action: `${ceremony}.failed`, reason, userId: account?.user.id });
  return invalidCredentials();
}

/**
 * Completes a proven attempt in one transaction: consumes the code's time step
 * (a code works once), stores the upgraded hash if any, and runs `commit`; then
 * settles the failure counters.
 */
async function commitProvenAttempt<T>(deps: Deps, context: AuditContext, ceremony: Ceremony, keys: PasswordThrottleKeys, reservation: PasswordReservation, proven: ProvenAttempt, commit: (trx: Transaction<Database>, account: PasswordAccount) => Promise<T>): Promise<T> {
  const { account, storedHash, rehashed } = proven;
  const outcome = await deps.db.transaction().execute(async (trx) => {
    if (!(await consumeTimeStep(trx, deps.clock, proven.totpId, proven.step))) return { reused: true as const };
    if (rehashed) {
      // Conditional on the old hash: a password changed meanwhile is not overwritten.
      const updated = await trx.updateTable('password_credentials').set({ hash: rehashed }).where('user_id', '=', account.user.id).where('hash', '=', storedHash).executeTakeFirst();
      if (Number(updated.numUpdatedRows) > 0) await appendAudit(trx, deps, { ...context, actor: `user:${account.user.id}` }, { action: 'password.rehashed', subject: `user:${account.user.id}`, details: { ...deps.config.passwords.argon2 } });
    }
    return { reused: false as const, value: await commit(trx, account) };
  });
  if (outcome.reused) throw await refuseAttempt(deps, context, ceremony, keys, reservation, account, 'code_reused');
  await settlePasswordSuccess(deps, keys);
  return outcome.value;
}

/** Runs a hash through the instance's gate; refused for lack of capacity, the attempt was not evaluated and its reservation is given back. */
async function hashOrRelease<T>(deps: Deps, keys: PasswordThrottleKeys, hash: () => Promise<T>): Promise<T> {
  try {
    return await deps.passwordHashing.run(hash);
  } catch (error) {
    if (error instanceof WartaError && error.status === 503) await releasePasswordAttempt(deps, keys);
    throw error;
  }
}

/** The attempt's fields; a malformed attempt is counted like a wrong one (against the signed-in user, if any). */
async function readAttempt<T>(deps: Deps, context: AuditContext, ceremony: Ceremony, keys: PasswordThrottleKeys, reservation: PasswordReservation, attempt: Parsed<T>, signedInUserId: string | undefined): Promise<T> {
  try {
    return parsedValue(attempt);
  } catch (error) {
    const reason = error instanceof WartaError ? error.code : 'malformed_request';
    await recordPasswordFailure(deps, context, keys, reservation, { action: `${ceremony}.failed`, reason, userId: signedInUserId });
    throw error;
  }
}

/**
 * Sign-in with username, password and TOTP code in one request: there is no
 * half-signed-in state between the factors to keep, expire or attack.
 */
export async function signInWithPassword(deps: Deps, request: SignInRequest, input: PasswordSignInInput): Promise<SignedIn> {
  const { context, previousSession } = request;
  const keys = passwordThrottleKeys(deps.tokenHashKey, context.ip ?? null, input.username);
  // The account is read by the statement that counts the attempt (a malformed attempt reads none).
  const lookup = input.attempt.ok ? passwordAccountQuery(deps.db, { username: input.attempt.value.username }) : undefined;
  const { reservation, read } = await reservePasswordAttempt(deps, keys, lookup);
  const attempt = await readAttempt(deps, context, 'signin', keys, reservation, input.attempt, previousSession?.user_id);
  const account = passwordAccountFrom(read);
  const proven = await provePasswordAndCode(deps, context, 'signin', keys, reservation, account, attempt);
  const signIn = { userId: proven.account.user.id, amr: PASSWORD_AMR, method: 'password+totp', organisationPolicy: proven.account.policy };
  // The rare upgrade of a stored hash takes the transaction; otherwise the code's time step is consumed, the session
  // started and audited, and the failure counters settled in one statement (one commit).
  if (proven.rehashed) return commitProvenAttempt(deps, context, 'signin', keys, reservation, proven, (trx) => completeSignIn(deps, trx, request, signIn));
  const outcome = await completeSignInWhen(deps, request, signIn, PASSWORD_SIGN_IN, { use: { credentialId: proven.totpId, step: proven.step, now: deps.clock.now() }, settled: { ipKey: keys.ip, accountKey: keys.account ?? null, now: deps.clock.now() } }, reservedKeys(keys));
  if ('failedGate' in outcome) throw await refuseAttempt(deps, context, 'signin', keys, reservation, proven.account, 'code_reused');
  return outcome.signedIn;
}

/** The code's time step is consumed (single use), the session started and audited, and the failure counters settled: one statement. */
const PASSWORD_SIGN_IN = signInStatement<{ use: TimeStepUse; settled: PasswordSettlement }, ReservedKeys>('password sign-in', (reserved) => ({
  gates: [(db, values) => timeStepConsumption(db, values.use)],
  afterwards: (db, values, sessionStarted) => passwordSuccessSettlement(db, values.settled, reserved, sessionStarted),
}));

/** Fresh proof of presence for the signed-in user, before a sensitive change. Shares the sign-in failure counters. */
export async function reauthenticateWithPassword(deps: Deps, context: AuditContext, input: { user: User; session: Session; attempt: Parsed<{ password: string; code: string }> }): Promise<Session> {
  const { user, session } = input;
  const keys = passwordThrottleKeys(deps.tokenHashKey, context.ip ?? null, user.username);
  const { reservation, read } = await reservePasswordAttempt(deps, keys, passwordAccountQuery(deps.db, { userId: user.id }));
  const attempt = await readAttempt(deps, context, 'reauth', keys, reservation, input.attempt, user.id);
  const account = passwordAccountFrom(read);
  const proven = await provePasswordAndCode(deps, context, 'reauth', keys, reservation, account, attempt);
  return commitProvenAttempt(deps, context, 'reauth', keys, reservation, proven, async (trx) => {
    const updated = await reauthenticateSession(trx, deps.clock, session, PASSWORD_AMR);
    await appendAudit(trx, deps, context, { action: 'reauth.succeeded', subject: `user:${user.id}`, details: { method: 'password+totp', session_id: session.id } });
    return updated;
  });
}
