import { type Kysely, sql, type Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Database, Db, Role, User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { methodRefusal, methodRefusalFor } from '../orgs/method-policy.js';
import { resolvePolicy } from '../orgs/policy.js';

/** Passkeys that can sign in: neither removed nor blocked. */
export async function countActivePasskeys(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('webauthn_credentials')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('blocked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Password and TOTP count as one way to sign in, and only together and only
 * where the organisation and the user's roles allow them.
 */
export async function countPasswordAndTotp(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('users as u')
    .innerJoin('organisations as o', 'o.id', 'u.organisation_id')
    .innerJoin('password_credentials as p', 'p.user_id', 'u.id')
    .innerJoin('totp_credentials as t', 't.user_id', 'u.id')
    .select(['o.policy', sql<Role[]>`array(select r.role from user_roles r where r.user_id = u.id order by r.role)`.as('roles')])
    .where('u.id', '=', userId)
    .where('u.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return 0;
  return methodRefusal('password', resolvePolicy(row.policy), row.roles) ? 0 : 1;
}

/**
 * Ways a user can sign in by themselves, each counted by one function; a
 * capability with a new way to sign in adds its counter here.
 */
const COUNTERS: Record<string, (db: Db, userId: string) => Promise<number>> = {
  passkeys: countActivePasskeys,
  passwordAndTotp: countPasswordAndTotp,
};

export interface SignInMethods {
  total: number;
  byMethod: Record<string, number>;
}

/** How many independent ways the user has to sign in; 0 means only the recovery desk can let them back in. */
export async function countSignInMethods(db: Db, userId: string): Promise<SignInMethods> {
  const byMethod: Record<string, number> = {};
  for (const [method, count] of Object.entries(COUNTERS)) byMethod[method] = Number(await count(db, userId));
  return { total: Object.values(byMethod).reduce((sum, n) => sum + n, 0), byMethod };
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

type TotpAndPassword = Awaited<ReturnType<typeof listTotpAndPassword>>;

/** What the settings page of the password or the authenticator app shows: the user's own (null when none) and whether they may set it up. */
export async function methodSettings<Method extends 'password' | 'totp'>(db: Db, user: Pick<User, 'id' | 'organisation_id'>, method: Method): Promise<{ current: TotpAndPassword[Method]; allowed: boolean }> {
  const methods = await listTotpAndPassword(db, user.id);
  return { current: methods[method], allowed: (await methodRefusalFor(db, user, method)) === undefined };
}

/**
 * Removes a passkey, a password or an authenticator app inside `remove`, and
 * guards the last way to sign in: removing it needs `confirmLastMethod`,
 * because afterwards only the recovery desk can let the person back in.
 * Locking the user row first serialises this with every other change to their
 * sign-in methods, so two removals at once cannot both see "one left".
 */
export async function removeSignInFactor(
  deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array },
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
    await appendAudit(trx, deps, context, { action: input.action, subject: `user:${input.userId}`, details: { ...details, remaining_sign_in_methods: remaining, ...(remaining === 0 ? { last_method_confirmed: true } : {}) } });
    return { remaining };
  });
}
