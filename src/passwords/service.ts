import type { Config } from '../config.js';
import type { Kysely, Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Database, Session, User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { assertMethodAllowed } from '../orgs/method-policy.js';
import { removeFactorAfterStrongProof } from '../sessions/reauth.js';
import { hashPassword } from './hash.js';
import type { HashGate } from './hash-gate.js';
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

export interface PasswordDeps {
  db: Kysely<Database>;
  clock: Clock;
  auditEntryKey: Uint8Array;
  passwordBlocklist: Blocklist;
  passwordHashing: HashGate;
  config: Pick<Config, 'passwords'>;
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
  const hash = await deps.passwordHashing.run(() => hashPassword(password, deps.config.passwords.argon2));
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
    await appendAudit(trx, deps, context, { action, subject: `user:${user.id}`, details: { other_sessions_revoked: revoked } });
    return action;
  });
}

export async function removePassword(deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array }, context: AuditContext, input: { session: Session; confirmLastMethod: boolean }): Promise<{ remaining: number }> {
  return removeFactorAfterStrongProof(deps, context, { ...input, factor: 'password' }, async (trx, userId) => {
    const removed = await trx.deleteFrom('password_credentials').where('user_id', '=', userId).returning('user_id').executeTakeFirst();
    if (!removed) throw new WartaError(404, 'password_not_set', 'there is no password to remove');
    return undefined;
  });
}
