import type { Kysely, Transaction } from 'kysely';
import { countSignInMethods } from '../account/sign-in-methods.js';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Database, User, Db } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { type OrganisationPolicy, resolvePolicy } from '../orgs/policy.js';
import { userRoles } from '../users/service.js';
import { type Argon2Params, hashPassword } from './hash.js';
import { methodRefusal } from './method-policy.js';
import { type Blocklist, checkPasswordPolicy, minimumPasswordLength } from './policy.js';


/** RFC 8176 methods of a password + TOTP sign-in. */
export const PASSWORD_AMR = ['pwd', 'otp', 'mfa'];

/**
 * Warta never accepts a password on its own: password sign-in always asks for a
 * TOTP code too, so the minimum length is the one NIST sets for a password used
 * with a second factor.
 */
export const PASSWORD_REQUIRES_SECOND_FACTOR = true;

export const minimumLength = () => minimumPasswordLength({ secondFactorRequired: PASSWORD_REQUIRES_SECOND_FACTOR });

export async function organisationPolicyOf(db: Db, user: Pick<User, 'organisation_id'>): Promise<OrganisationPolicy> {
  const row = await db.selectFrom('organisations').select('policy').where('id', '=', user.organisation_id).executeTakeFirstOrThrow();
  return resolvePolicy(row.policy);
}

/** Why this user may not set up `method`, or undefined when they may. */
export async function methodRefusalFor(db: Db, user: Pick<User, 'id' | 'organisation_id'>, method: 'password' | 'totp'): Promise<WartaError | undefined> {
  return methodRefusal(method, await organisationPolicyOf(db, user), await userRoles(db, user.id));
}

export async function assertMethodAllowed(db: Db, user: Pick<User, 'id' | 'organisation_id'>, method: 'password' | 'totp'): Promise<void> {
  const refusal = await methodRefusalFor(db, user, method);
  if (refusal) throw refusal;
}

/** The password and TOTP methods a user has, for the account overview. */
export async function listTotpAndPassword(db: Db, userId: string): Promise<{ password: { createdAt: Date; updatedAt: Date } | null; totp: { createdAt: Date; lastUsedAt: Date | null } | null }> {
  const password = await db.selectFrom('password_credentials').select(['created_at', 'updated_at']).where('user_id', '=', userId).executeTakeFirst();
  const totp = await db.selectFrom('totp_credentials').select(['created_at', 'last_used_at']).where('user_id', '=', userId).executeTakeFirst();
  return {
    password: password ? { createdAt: password.created_at, updatedAt: password.updated_at } : null,
    totp: totp ? { createdAt: totp.created_at, lastUsedAt: totp.last_used_at } : null,
  };
}

/**
 * Removes one half of the password + TOTP pair inside `remove`. Without a
 * passkey that leaves no way to sign in, so it needs `confirmLastMethod`, as
 * removing the last passkey does (src/account/passkeys.ts). Locking the user
 * row first serialises this with every other change to their sign-in methods.
 */
export async function removeSignInFactor(
  deps: { db: Kysely<Database>; clock: Clock },
  context: AuditContext,
  input: { userId: string; confirmLastMethod: boolean; action: string },
  remove: (trx: Transaction<Database>) => Promise<Record<string, unknown> | undefined>,
): Promise<{ remaining: number }> {
  return deps.db.transaction().execute(async (trx) => {
    await trx.selectFrom('users').select('id').where('id', '=', input.userId).forUpdate().executeTakeFirstOrThrow();
    const details = await remove(trx);
    const { total: remaining } = await countSignInMethods(trx, input.userId);
    if (remaining === 0 && !input.confirmLastMethod)
      throw new WartaError(409, 'last_sign_in_method', 'without this you would have no way to sign in, and only the recovery desk could let you back in. Confirm to remove it anyway');
    await appendAudit(trx, deps.clock, context, { action: input.action, subject: `user:${input.userId}`, details: { ...details, remaining_sign_in_methods: remaining, ...(remaining === 0 ? { last_method_confirmed: true } : {}) } });
    return { remaining };
  });
}

export interface PasswordDeps {
  db: Kysely<Database>;
  clock: Clock;
  passwordBlocklist: Blocklist;
  config: { argon2: Argon2Params };
}

/** Refuses a new password the rules (NIST SP 800-63B) forbid: too short, common, or made of the user's names. */
export function checkNewPassword(blocklist: Blocklist, user: Pick<User, 'username' | 'email' | 'display_name'>, password: string): void {
  const context = [user.username, user.email, user.display_name].filter((word): word is string => !!word);
  checkPasswordPolicy(password, { minLength: minimumLength(), context, blocklist });
}

export async function storePasswordHash(trx: Transaction<Database>, clock: Clock, userId: string, hash: string): Promise<'password.set' | 'password.changed'> {
  const now = clock.now();
  const existing = await trx.selectFrom('password_credentials').select('user_id').where('user_id', '=', userId).forUpdate().executeTakeFirst();
  await trx
    .insertInto('password_credentials')
    .values({ user_id: userId, hash, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: now }))
    .execute();
  return existing ? 'password.changed' : 'password.set';
}

/**
 * Sets or changes the signed-in user's password. A change signs out the
 * user's other sessions: whoever may have learnt the old password loses the
 * sessions they made with it.
 */
export async function setPassword(deps: PasswordDeps, context: AuditContext, user: User, password: string, currentSessionId: string): Promise<'password.set' | 'password.changed'> {
  await assertMethodAllowed(deps.db, user, 'password');
  checkNewPassword(deps.passwordBlocklist, user, password);
  const hash = await hashPassword(password, deps.config.argon2);
  return deps.db.transaction().execute(async (trx) => {
    const action = await storePasswordHash(trx, deps.clock, user.id, hash);
    let revoked = 0;
    if (action === 'password.changed') {
      const result = await trx
        .updateTable('sessions')
        .set({ revoked_at: deps.clock.now(), revoked_reason: 'password_changed' })
        .where('user_id', '=', user.id)
        .where('id', '!=', currentSessionId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      revoked = Number(result.numUpdatedRows);
    }
    await appendAudit(trx, deps.clock, context, { action, subject: `user:${user.id}`, details: { other_sessions_revoked: revoked } });
    return action;
  });
}

export async function removePassword(deps: { db: Kysely<Database>; clock: Clock }, context: AuditContext, input: { userId: string; confirmLastMethod: boolean }): Promise<{ remaining: number }> {
  return removeSignInFactor(deps, context, { ...input, action: 'password.removed' }, async (trx) => {
    const removed = await trx.deleteFrom('password_credentials').where('user_id', '=', input.userId).returning('user_id').executeTakeFirst();
    if (!removed) throw new WartaError(404, 'password_not_set', 'there is no password to remove');
    return undefined;
  });
}
