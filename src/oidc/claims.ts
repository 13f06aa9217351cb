/**
 * Claims about the End-User, released by scope (OIDC Core §5.4):
 *  - `profile`: name, preferred_username, updated_at, and Warta's own `org`
 *    ({id, name} of the user's organisation) and `roles`;
 *  - `email`: email and email_verified. Warta never verifies an address itself (an
 *    admin types it into the invitation), so email_verified is false: truthful;
 *  - `groups`: `groups`, the paths of the user's groups and of their ancestors
 *    ("/ministry/department/unit" brings "/ministry" and "/ministry/department");
 *  - `attr:<name>`: the organisation's attribute <name> as a member of `attributes`
 *    (`{"clearance_level": "secret"}`); one scope per attribute, so a client is
 *    registered (and a person consents) for exactly the attributes it may see.
 * `sub` is the user's id (stable, never reassigned, and not a name), or for a pairwise
 * client the value of its sector (oidc/subject.ts).
 */
import { type Kysely, sql } from 'kysely';
import { ATTRIBUTE_SCOPE_PREFIX, attributesOf } from '../attributes/service.js';
import type { AttributeValue, Database } from '../db/schema.js';
import { groupPathsOf } from '../groups/service.js';

/** Claim names Warta can return (discovery `claims_supported`, with the ID token's own). */
export const USER_CLAIMS = ['name', 'preferred_username', 'updated_at', 'org', 'roles', 'email', 'email_verified', 'groups', 'attributes'] as const;

export const GROUPS_SCOPE = 'groups';
export { ATTRIBUTE_SCOPE_PREFIX };

export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  profile: ['name', 'preferred_username', 'updated_at', 'org', 'roles'],
  email: ['email', 'email_verified'],
  [GROUPS_SCOPE]: ['groups'],
};

/** The attribute names the `attr:<name>` scopes among `scopes` release. */
export const releasedAttributes = (scopes: readonly string[]): string[] => scopes.filter((s) => s.startsWith(ATTRIBUTE_SCOPE_PREFIX)).map((s) => s.slice(ATTRIBUTE_SCOPE_PREFIX.length));

/** Whether `scopes` release any claim about the user beyond `sub`. */
export const releasesUserClaims = (scopes: readonly string[]): boolean => scopes.some((scope) => Object.hasOwn(SCOPE_CLAIMS, scope)) || releasedAttributes(scopes).length > 0;

/** The claims a scope releases, for the consent page: its claim names, or for `attr:<name>` the attribute. */
export function claimsOfScope(scope: string): readonly string[] {
  if (scope.startsWith(ATTRIBUTE_SCOPE_PREFIX)) return [`attributes.${scope.slice(ATTRIBUTE_SCOPE_PREFIX.length)}`];
  return SCOPE_CLAIMS[scope] ?? [];
}

export interface UserClaims {
  sub: string;
  [claim: string]: unknown;
}

/**
 * The claims that carry authority (`groups`, `attributes`) `scopes` release, and no
 * other: what a JWT access token carries besides its own claims (RFC 9068 §2.2.3.1).
 */
export async function authorityClaims(db: Kysely<Database>, userId: string, scopes: readonly string[]): Promise<{ groups?: string[]; attributes?: Record<string, AttributeValue> }> {
  const claims: { groups?: string[]; attributes?: Record<string, AttributeValue> } = {};
  if (scopes.includes(GROUPS_SCOPE)) claims.groups = await groupPathsOf(db, userId);
  const names = releasedAttributes(scopes);
  if (names.length > 0) {
    const all = await attributesOf(db, userId);
    claims.attributes = Object.fromEntries(names.filter((name) => Object.hasOwn(all, name)).map((name) => [name, all[name]!]));
  }
  return claims;
}

/** A user's roles as a JSON array, for a select over a table of users whose id column is `userId` (e.g. `users.id`). */
export const rolesOf = (userId: string) => sql<string[]>`coalesce((select json_agg(role order by role) from user_roles where user_roles.user_id = ${sql.ref(userId)}), '[]'::json)`;

/** What the user claims are made from: the user's own fields, their organisation and roles. */
export interface UserClaimsSource {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  updated_at: Date;
  organisation_id: string;
  organisation_name: string;
  roles: string[];
}

/** The claims `scopes` release for an active user, under the `sub` its client sees (oidc/subject.ts); undefined when the user is gone or disabled. */
export async function userClaims(db: Kysely<Database>, input: { userId: string; subject: string; scopes: readonly string[] }): Promise<UserClaims | undefined> {
  const { userId, subject, scopes } = input;
  const row = await db
    .selectFrom('users')
    .innerJoin('organisations', 'organisations.id', 'users.organisation_id')
    .select(['users.id', 'users.username', 'users.display_name', 'users.email', 'users.updated_at', 'organisations.id as organisation_id', 'organisations.name as organisation_name', rolesOf('users.id').as('roles')])
    .where('users.id', '=', userId)
    .where('users.status', '=', 'active')
    .executeTakeFirst();
  return row && { ...userClaimsOf(row, subject, scopes), ...(await authorityClaims(db, userId, scopes)) };
}

/** The claims `scopes` release from the user's own record, read already (authorityClaims adds groups and attributes). */
export function userClaimsOf(user: UserClaimsSource, subject: string, scopes: readonly string[]): UserClaims {
  const claims: UserClaims = { sub: subject };
  if (scopes.includes('profile')) {
    claims.name = user.display_name;
    claims.preferred_username = user.username;
    claims.updated_at = Math.floor(user.updated_at.getTime() / 1000);
    claims.org = { id: user.organisation_id, name: user.organisation_name };
    claims.roles = user.roles;
  }
  if (scopes.includes('email') && user.email !== null) {
    claims.email = user.email;
    claims.email_verified = false;
  }
  return claims;
}
