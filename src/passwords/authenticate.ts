import type { Transaction } from 'kysely';
import { appendAudit } from '../audit/audit.js';
import type { Database, Session } from '../db/schema.js';
import { type AppContext, auditContext } from '../http/context.js';
import { WartaError } from '../errors.js';
import { requiredString } from '../http/json-body.js';
import { clearFailures } from '../throttle/counters.js';
import { completeSignIn } from '../sessions/sign-in.js';
import { reauthenticateSession } from '../sessions/service.js';
import { consumeTimeStep, matchCredentialCode } from '../totp/service.js';
import { hashPassword, needsRehash, verifyPassword } from './hash.js';
import { readPassword } from './input.js';
import { readTotpCode } from '../totp/input.js';
import { methodRefusal } from '../orgs/method-policy.js';
import { findPasswordAccount, type PasswordAccount } from './password-account.js';
import { PASSWORD_AMR } from './service.js';
import { assertPasswordAttemptAllowed, type PasswordThrottleKeys, passwordThrottleKeys, recordPasswordFailure } from '../throttle/passwords.js';

/** One answer for every wrong attempt, so it reveals neither which factor was wrong nor whether the account exists. */
export const invalidCredentials = () =>
  new WartaError(401, 'invalid_credentials', 'the username, password or code is not right; each code works only once, so wait for the next one before trying again');

type Ceremony = 'signin' | 'reauth';

/**
 * Checks the password and the TOTP code of `account`, then runs `commit` in the
 * transaction that consumes the code's time step. With no account, or no
 * password, a dummy hash is verified so the answer takes as long as a wrong
 * password. Every failure is counted and audited.
 */
async function authenticateWithPasswordAndCode<T>(
  c: AppContext,
  ceremony: Ceremony,
  keys: PasswordThrottleKeys,
  account: PasswordAccount | undefined,
  attempt: { password: string; code: string },
  commit: (trx: Transaction<Database>, account: PasswordAccount) => Promise<T>,
): Promise<T> {
  const deps = c.get('deps');
  const context = auditContext(c);
  const failed = async (reason: string) => {
    await recordPasswordFailure(deps, context, keys, { action: `${ceremony}.failed`, reason, userId: account?.user.id });
    return invalidCredentials();
  };

  const storedHash = account?.passwordHash ?? null;
  const passwordMatches = await verifyPassword(storedHash ?? deps.dummyPasswordHash, attempt.password);
  if (!account) throw await failed('unknown_account');
  if (storedHash === null || !passwordMatches) throw await failed(storedHash === null ? 'no_password' : 'wrong_password');
  const totp = account.totp;
  if (!totp) throw await failed('no_totp');
  const step = matchCredentialCode(deps, totp, attempt.code);
  if (step === null) throw await failed('wrong_code');

  // Only now, with both factors proven, may the answer say more than "wrong".
  const refusal = methodRefusal('password', account.policy, account.roles);
  if (refusal) {
    await appendAudit(deps.db, deps.clock, context, { action: `${ceremony}.refused`, subject: `user:${account.user.id}`, outcome: 'failure', details: { reason: refusal.description } });
    throw refusal;
  }

  const rehashed = needsRehash(storedHash, deps.config.argon2) ? await hashPassword(attempt.password, deps.config.argon2) : undefined;
  const outcome = await deps.db.transaction().execute(async (trx) => {
    if (!(await consumeTimeStep(trx, deps.clock, totp.id, step))) return { reused: true as const };
    if (rehashed) {
      // Conditional on the old hash: a password changed meanwhile is not overwritten.
      const updated = await trx.updateTable('password_credentials').set({ hash: rehashed }).where('user_id', '=', account.user.id).where('hash', '=', storedHash).executeTakeFirst();
      if (Number(updated.numUpdatedRows) > 0) await appendAudit(trx, deps.clock, { ...context, actor: `user:${account.user.id}` }, { action: 'password.rehashed', subject: `user:${account.user.id}`, details: { ...deps.config.argon2 } });
    }
    return { reused: false as const, value: await commit(trx, account) };
  });
  if (outcome.reused) throw await failed('code_reused');
  if (keys.account) await clearFailures(deps.db, keys.account);
  return outcome.value;
}

/** Reads the attempt's fields; a malformed attempt is counted like a wrong one. */
async function readAttempt<T>(c: AppContext, ceremony: Ceremony, keys: PasswordThrottleKeys, read: () => T): Promise<T> {
  try {
    return read();
  } catch (error) {
    const reason = error instanceof WartaError ? error.code : 'malformed_request';
    await recordPasswordFailure(c.get('deps'), auditContext(c), keys, { action: `${ceremony}.failed`, reason, userId: c.get('user')?.id });
    throw error;
  }
}

/**
 * Sign-in with username, password and TOTP code in one request: there is no
 * half-signed-in state between the factors to keep, expire or attack.
 */
export async function signInWithPassword(c: AppContext, body: Record<string, unknown>): Promise<Session> {
  const deps = c.get('deps');
  const keys = passwordThrottleKeys(deps.tokenHashKey, c.get('clientIp'), typeof body.username === 'string' ? body.username : undefined);
  await assertPasswordAttemptAllowed(deps.db, deps.clock, keys);
  const attempt = await readAttempt(c, 'signin', keys, () => ({ username: requiredString(body, 'username', 320), password: readPassword(body), code: readTotpCode(body) }));
  const account = await findPasswordAccount(deps.db, { username: attempt.username });
  return authenticateWithPasswordAndCode(c, 'signin', keys, account, attempt, (trx, { user }) => completeSignIn(c, trx, { userId: user.id, amr: PASSWORD_AMR, method: 'password+totp' }));
}

/** Fresh proof of presence for the signed-in user, before a sensitive change. Shares the sign-in failure counters. */
export async function reauthenticateWithPassword(c: AppContext, body: Record<string, unknown>): Promise<Session> {
  const deps = c.get('deps');
  const user = c.get('user')!;
  const session = c.get('session')!;
  const keys = passwordThrottleKeys(deps.tokenHashKey, c.get('clientIp'), user.username);
  await assertPasswordAttemptAllowed(deps.db, deps.clock, keys);
  const attempt = await readAttempt(c, 'reauth', keys, () => ({ password: readPassword(body), code: readTotpCode(body) }));
  const account = await findPasswordAccount(deps.db, { userId: user.id });
  return authenticateWithPasswordAndCode(c, 'reauth', keys, account, attempt, async (trx) => {
    const updated = await reauthenticateSession(trx, deps.clock, session, PASSWORD_AMR);
    await appendAudit(trx, deps.clock, auditContext(c), { action: 'reauth.succeeded', subject: `user:${user.id}`, details: { method: 'password+totp', session_id: session.id } });
    return updated;
  });
}
