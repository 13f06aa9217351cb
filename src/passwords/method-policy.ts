import type { Role } from '../db/schema.js';
import { WartaError } from '../errors.js';
import type { OrganisationPolicy } from '../orgs/policy.js';

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
