/**
 * Claims about the End-User, released by scope (OIDC Core §5.4):
 *  - `profile`: name, preferred_username, updated_at, and Warta's own `org`
 *    ({id, name} of the user's organisation) and `roles`;
 *  - `email`: email and email_verified. Warta never verifies an address itself (an
 *    admin types it into the invitation), so email_verified is false: truthful.
 * `sub` is the user's id (stable, never reassigned, and not a name), or for a pairwise
 * client the value of its sector (oidc/subject.ts).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/** Claim names Warta can return (discovery `claims_supported`, with the ID token's own). */
export const USER_CLAIMS = ['name', 'preferred_username', 'updated_at', 'org', 'roles', 'email', 'email_verified'] as const;

export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  profile: ['name', 'preferred_username', 'updated_at', 'org', 'roles'],
  email: ['email', 'email_verified'],
};

export interface UserClaims {
  sub: string;
  [claim: string]: unknown;
}

/** The claims `scopes` release for an active user, under the `sub` its client sees (oidc/subject.ts); undefined when the user is gone or disabled. */
export async function userClaims(db: Kysely<Database>, input: { userId: string; subject: string; scopes: readonly string[] }): Promise<UserClaims | undefined> {
  const { userId, subject, scopes } = input;
  const row = await db
    .selectFrom('users')
    .innerJoin('organisations', 'organisations.id', 'users.organisation_id')
    .select([
      'users.id',
      'users.username',
      'users.display_name',
      'users.email',
      'users.updated_at',
      'organisations.id as organisation_id',
      'organisations.name as organisation_name',
      sql<string[]>`coalesce((select json_agg(role order by role) from user_roles where user_roles.user_id = users.id), '[]'::json)`.as('roles'),
    ])
    .where('users.id', '=', userId)
    .where('users.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return undefined;
  const claims: UserClaims = { sub: subject };
  if (scopes.includes('profile')) {
    claims.name = row.display_name;
    claims.preferred_username = row.username;
    claims.updated_at = Math.floor(row.updated_at.getTime() / 1000);
    claims.org = { id: row.organisation_id, name: row.organisation_name };
    claims.roles = row.roles;
  }
  if (scopes.includes('email') && row.email !== null) {
    claims.email = row.email;
    claims.email_verified = false;
  }
  return claims;
}
