import { sql } from 'kysely';
import type { Db, Role, User } from '../db/schema.js';
import { WartaError } from '../errors.js';
import { type OrganisationPolicy, resolvePolicy } from './policy.js';

/**
 * What to refuse when `method` is not allowed for this user by their
 * organisation or role, else undefined. TOTP in Warta is only ever the second
 * factor of a password sign-in, so a password also needs TOTP to be allowed.
 */
export function methodRefusal(method: 'password' | 'totp', policy: OrganisationPolicy, roles: readonly Role[]): WartaError | undefined {
  const role = roles.find((r) => policy.passkeyRequiredRoles.includes(r));
  if (role) return new WartaError(403, 'passkey_required', `your role (${role}) must sign in with a passkey`);
  if (!policy.allowTotp || (method === 'password' && !policy.allowPasswords))
    return new WartaError(403, 'passkey_required', `your organisation does not allow ${method === 'password' ? 'passwords' : 'authenticator apps'}; sign in with a passkey`);
  return undefined;
}

/** Why this user may not set up `method`, or undefined when they may. */
export async function methodRefusalFor(db: Db, user: Pick<User, 'id' | 'organisation_id'>, method: 'password' | 'totp'): Promise<WartaError | undefined> {
  const row = await db
    .selectFrom('organisations as o')
    .select(['o.policy', sql<Role[]>`array(select r.role from user_roles r where r.user_id = ${user.id} order by r.role)`.as('roles')])
    .where('o.id', '=', user.organisation_id)
    .executeTakeFirstOrThrow();
  return methodRefusal(method, resolvePolicy(row.policy), row.roles);
}

export async function assertMethodAllowed(db: Db, user: Pick<User, 'id' | 'organisation_id'>, method: 'password' | 'totp'): Promise<void> {
  const refusal = await methodRefusalFor(db, user, method);
  if (refusal) throw refusal;
}
