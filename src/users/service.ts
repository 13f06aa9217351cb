import { sql, type Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { newId } from '../crypto/random.js';
import type { Database, Role, User, Db } from '../db/schema.js';
import { conflict, notFound } from '../errors.js';


export interface NewUser {
  organisationId: string;
  username: string;
  displayName: string;
  email: string | null;
  employeeId: string | null;
  role: Role;
}

/** Creates an active user with one role. Call inside the transaction that consumes the invitation. */
export async function createUser(trx: Transaction<Database>, clock: Clock, input: NewUser): Promise<User> {
  const now = clock.now();
  if (await usernameTaken(trx, input.username)) throw conflict('user_exists', `a user named "${input.username}" already exists`);
  const user = await trx
    .insertInto('users')
    .values({
      id: newId(),
      organisation_id: input.organisationId,
      username: input.username,
      display_name: input.displayName,
      email: input.email,
      employee_id: input.employeeId,
      status: 'active',
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx.insertInto('user_roles').values({ user_id: user.id, role: input.role, granted_at: now }).execute();
  return user;
}

export async function usernameTaken(db: Db, username: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where(sql`lower(username)`, '=', username.toLowerCase()).executeTakeFirst();
  return row !== undefined;
}

export async function findUserByUsername(db: Db, username: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where(sql`lower(username)`, '=', username.trim().toLowerCase()).executeTakeFirst();
}

export async function getUser(db: Db, id: string): Promise<User> {
  const user = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  if (!user) throw notFound('user_not_found', 'no such user');
  return user;
}

export async function userRoles(db: Db, userId: string): Promise<Role[]> {
  const rows = await db.selectFrom('user_roles').select('role').where('user_id', '=', userId).orderBy('role').execute();
  return rows.map((r) => r.role);
}
