/**
 * Who may act on a person, checked inside the act's transaction. An admin acts
 * on people of their own organisation only (anyone else is 404, as if absent),
 * never on themselves, and never leaves the organisation without an active
 * admin. The organisation's row is locked first, so two admins disabling each
 * other at the same moment are serialised: the second finds itself disabled.
 */
import type { Transaction } from 'kysely';
import { isUuid } from '../db/uuid.js';
import type { Database, Role, User } from '../db/schema.js';
import { isPrivileged } from './role-grant.js';
import { notFound, WartaError } from '../errors.js';

/** An admin through the admin API, an organisation's admin client (an access token), or the operator on the host (the `warta` CLI). */
export type PeopleActor = { kind: 'admin'; userId: string } | { kind: 'client'; clientId: string; organisationId: string } | { kind: 'cli' };

export const actorName = (actor: PeopleActor) => (actor.kind === 'cli' ? 'cli' : actor.kind === 'client' ? `client:${actor.clientId}` : `user:${actor.userId}`);

export const personSubject = (personId: string) => (isUuid(personId) ? `user:${personId}` : null);

const personNotFound = () => notFound('person_not_found', 'no such person in your organisation');

export interface Target {
  person: User;
  roles: Role[];
}

/** The actor's organisation (an admin's), or null for the operator. */
async function actingOrganisation(trx: Transaction<Database>, actor: PeopleActor): Promise<string | null> {
  if (actor.kind === 'cli') return null;
  if (actor.kind === 'client') return actor.organisationId;
  const admin = await trx.selectFrom('users').select('organisation_id').where('id', '=', actor.userId).where('status', '=', 'active').executeTakeFirst();
  const isAdmin = admin && (await trx.selectFrom('user_roles').select('role').where('user_id', '=', actor.userId).where('role', '=', 'admin').executeTakeFirst());
  if (!admin || !isAdmin) throw new WartaError(403, 'forbidden', 'this needs the admin role');
  return admin.organisation_id;
}

/** Locks the person's organisation and returns the person as they are now; refuses an admin acting on someone else's organisation or on themselves. */
export async function lockTarget(trx: Transaction<Database>, actor: PeopleActor, personId: string): Promise<Target> {
  if (!isUuid(personId)) throw personNotFound();
  const organisationId = await actingOrganisation(trx, actor);
  const found = await trx.selectFrom('users').select('organisation_id').where('id', '=', personId).executeTakeFirst();
  if (!found || (organisationId !== null && found.organisation_id !== organisationId)) throw personNotFound();
  await trx.selectFrom('organisations').select('id').where('id', '=', found.organisation_id).forUpdate().executeTakeFirstOrThrow();
  // Read again under the lock: a concurrent act on this organisation has committed by now.
  if (actor.kind === 'admin') await actingOrganisation(trx, actor);
  const person = await trx.selectFrom('users').selectAll().where('id', '=', personId).executeTakeFirstOrThrow();
  if (actor.kind === 'admin' && person.id === actor.userId) throw new WartaError(403, 'cannot_act_on_self', 'an admin cannot disable, enable or offboard themselves; ask another admin');
  const roles = (await trx.selectFrom('user_roles').select('role').where('user_id', '=', person.id).execute()).map((row) => row.role);
  // A machine acts on members only: taking an admin or officer out, or bringing one back, is a person's decision, seen by the other admins.
  if (actor.kind === 'client' && roles.some(isPrivileged)) throw new WartaError(403, 'person_required', `this person holds ${roles.filter(isPrivileged).join(', ')}: an admin acts on them, not an admin client`);
  return { person, roles };
}

/** Taking an active admin out must leave the organisation another active admin: else no one could administer it but the operator. */
export async function assertNotLastAdmin(trx: Transaction<Database>, target: Target): Promise<void> {
  if (target.person.status !== 'active' || !target.roles.includes('admin')) return;
  const other = await trx
    .selectFrom('users as u')
    .innerJoin('user_roles as r', 'r.user_id', 'u.id')
    .select('u.id')
    .where('u.organisation_id', '=', target.person.organisation_id)
    .where('u.status', '=', 'active')
    .where('r.role', '=', 'admin')
    .where('u.id', '<>', target.person.id)
    .executeTakeFirst();
  if (!other) throw new WartaError(409, 'last_admin', "this is the organisation's last active admin; make someone else admin first");
}
