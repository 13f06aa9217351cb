import { sql } from 'kysely';
import type { Database, Role, User, Db } from '../db/schema.js';
import { type OrganisationPolicy, resolvePolicy } from '../orgs/policy.js';
import type { TotpCredential } from '../totp/service.js';


/** Everything a password + TOTP attempt needs about an account, in one query (the same query whether or not the account exists). */
export interface PasswordAccount {
  user: User;
  roles: Role[];
  policy: OrganisationPolicy;
  passwordHash: string | null;
  totp: TotpCredential | null;
}

export type PasswordAccountLookup = { username: string } | { userId: string };

/** Not run here: it rides in the statement that reserves the attempt (throttle/passwords.ts), read with passwordAccountFrom. */
export function passwordAccountQuery(db: Db, by: PasswordAccountLookup) {
  return db
    .selectFrom('users as u')
    .innerJoin('organisations as o', 'o.id', 'u.organisation_id')
    .leftJoin('password_credentials as p', 'p.user_id', 'u.id')
    .leftJoin('totp_credentials as t', 't.user_id', 'u.id')
    .selectAll('u')
    .select([
      'o.policy as org_policy',
      'p.hash as password_hash',
      't.id as totp_id',
      't.secret_enc as totp_secret_enc',
      't.algorithm as totp_algorithm',
      't.digits as totp_digits',
      't.period as totp_period',
      't.last_used_step as totp_last_used_step',
      't.created_at as totp_created_at',
      't.last_used_at as totp_last_used_at',
      sql<Role[]>`array(select r.role from user_roles r where r.user_id = u.id order by r.role)`.as('roles'),
    ])
    // Any status: a disabled account is told so only once both factors are proven (authenticate.ts).
    .where('u.status', '<>', 'offboarded')
    .$if('username' in by, (qb) => qb.where(sql`lower(u.username)`, '=', 'username' in by ? by.username.trim().toLowerCase() : ''))
    .$if('userId' in by, (qb) => qb.where('u.id', '=', 'userId' in by ? by.userId : ''));
}

export type PasswordAccountRow = Awaited<ReturnType<ReturnType<typeof passwordAccountQuery>['executeTakeFirstOrThrow']>>;

export function passwordAccountFrom(row: PasswordAccountRow | undefined): PasswordAccount | undefined {
  if (!row) return undefined;
  const { org_policy, password_hash, roles, totp_id, totp_secret_enc, totp_algorithm, totp_digits, totp_period, totp_last_used_step, totp_created_at, totp_last_used_at, ...user } = row;
  const totp =
    totp_id === null
      ? null
      : { id: totp_id, user_id: user.id, secret_enc: totp_secret_enc!, algorithm: totp_algorithm!, digits: totp_digits!, period: totp_period!, last_used_step: totp_last_used_step, created_at: totp_created_at!, last_used_at: totp_last_used_at };
  return { user, roles, policy: resolvePolicy(org_policy), passwordHash: password_hash, totp };
}
