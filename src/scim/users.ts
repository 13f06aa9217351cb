/**
 * The directory's acts on an organisation's people (RFC 7644 §3.3–3.6), each in one
 * transaction with its audit entries, as `client:<id>`:
 *
 * - create: a person, with a pending invitation (src/invitations/) whose link no SCIM
 *   answer carries: an admin hands it over from the console (resend), and the person
 *   enrols their own credential with it. A directory never sets a credential.
 * - replace (PUT, and PATCH through it): the kept attributes; `active: false` disables
 *   the person with everything a disable does (src/people/disable.ts), `active: true`
 *   enables them again (src/people/enable.ts), if a machine disabled them: a person an
 *   admin or the operator disabled is a person's to enable.
 * - delete: offboards the person (src/people/offboard.ts): they left, every credential
 *   goes, and the username is never given to anyone else.
 *
 * The people authority rules hold as for an admin client (src/authority/people.ts):
 * another organisation's person is 404, and a person holding a privileged role is a
 * person's to act on (403 `person_required`), so a directory neither takes an admin
 * out nor brings one back alone.
 */
import { sql, type Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { assertEmailInDomains } from '../authority/email-domains.js';
import type { Database, User } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import type { Deps } from '../deps.js';
import { WartaError } from '../errors.js';
import { type CheckedInvitation, storeInvitation } from '../invitations/service.js';
import { lockTarget, type Target } from '../authority/people.js';
import { personAct, takeAccessAway } from '../people/disable.js';
import { restoreAccess } from '../people/enable.js';
import { offboardPerson } from '../people/offboard.js';
import { createUser, usernameTaken } from '../users/service.js';
import type { ScimClient } from './authenticate.js';
import { scimError, userNotFound } from './errors.js';
import { assertIfMatch } from './etag.js';
import { likeLiteral, type UserComparison } from './filter.js';
import { isEmailUsername, isProvisionable, type ScimUserFields, userVersion } from './user-resource.js';

export type ScimDeps = Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'config'>;

const REASON = 'provisioned by the organisation directory (SCIM)';
export const MAX_COUNT = 200;

const uniqueness = (detail: string) => scimError(409, 'uniqueness', detail);

export const assertVersion = (user: User, ifMatch: string | undefined): void => assertIfMatch(userVersion(user), ifMatch);

async function assertUnique(trx: Transaction<Database>, organisationId: string, fields: ScimUserFields, current: User | null): Promise<void> {
  if (fields.userName.toLowerCase() !== current?.username.toLowerCase() && (await usernameTaken(trx, fields.userName))) throw uniqueness(`userName "${fields.userName}" is taken`);
  if (fields.externalId !== null && fields.externalId !== current?.external_id) {
    const taken = await trx.selectFrom('users').select('id').where('organisation_id', '=', organisationId).where('external_id', '=', fields.externalId).executeTakeFirst();
    if (taken) throw uniqueness(`externalId "${fields.externalId}" belongs to another user`);
  }
}

/** Machines of an organisation write e-mail addresses only in its own domains (issue 11, attack 10), as for invitations. */
async function assertEmailsAllowed(trx: Transaction<Database>, organisationId: string, fields: ScimUserFields): Promise<void> {
  const organisation = await trx.selectFrom('organisations').select('email_domains').where('id', '=', organisationId).executeTakeFirstOrThrow();
  for (const email of new Set([fields.email, isEmailUsername(fields.userName) ? fields.userName : null])) if (email) assertEmailInDomains(organisation, email);
}

/** Two directories writing the same userName at once: the unique index decides, and the loser hears 409, not 500. */
async function uniqueOrConflict<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if ((error as { code?: unknown }).code === '23505') throw uniqueness('userName or externalId is taken');
    throw error;
  }
}

export function createScimUser(deps: ScimDeps, context: AuditContext, client: ScimClient, fields: ScimUserFields): Promise<User> {
  return uniqueOrConflict(() =>
    deps.db.transaction().execute(async (trx) => {
      const organisationId = client.organisationId;
      await trx.selectFrom('organisations').select('id').where('id', '=', organisationId).forUpdate().executeTakeFirstOrThrow();
      await assertUnique(trx, organisationId, fields, null);
      await assertEmailsAllowed(trx, organisationId, fields);
      const employeeId = isEmailUsername(fields.userName) ? null : fields.userName;
      const created = await createUser(trx, deps.clock, { organisationId, username: fields.userName, displayName: fields.displayName, email: fields.email, employeeId, role: 'member' });
      const now = deps.clock.now();
      const user = await trx
        .updateTable('users')
        .set({ external_id: fields.externalId, given_name: fields.givenName, family_name: fields.familyName, ...(fields.active ? {} : { status: 'disabled', disabled_at: now, disabled_by: `client:${client.clientId}`, disabled_reason: REASON }) })
        .where('id', '=', created.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const invitation: CheckedInvitation = {
        organisationId,
        displayName: fields.displayName,
        email: fields.email,
        employeeId,
        username: fields.userName,
        role: 'member',
        ttlSeconds: deps.config.invitations.ttlSeconds,
        createdBy: null,
        createdByClient: client.clientId,
        grantsOperator: false,
        approvalRequired: false,
      };
      // The link is dropped here: the answer and the log never see it; an admin gives the person a fresh one from the console.
      const { invitation: stored } = await storeInvitation(trx, deps, context, invitation);
      await trx.updateTable('invitations').set({ user_id: user.id }).where('id', '=', stored.id).execute();
      await appendAudit(trx, deps, context, {
        action: 'scim.user_created',
        subject: `user:${user.id}`,
        details: { organisation_id: organisationId, username: user.username, external_id: user.external_id, active: fields.active, invitation_id: stored.id },
      });
      return user;
    }),
  );
}

/** A person of the client's organisation, as SCIM sees them (an offboarded one is gone). */
export async function findScimUser(deps: Pick<ScimDeps, 'db'>, client: ScimClient, id: string): Promise<User> {
  if (!isUuid(id)) throw userNotFound();
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', id).where('organisation_id', '=', client.organisationId).executeTakeFirst();
  if (!user || !isProvisionable(user)) throw userNotFound();
  return user;
}

export async function listScimUsers(deps: Pick<ScimDeps, 'db'>, client: ScimClient, query: { filter: UserComparison[]; startIndex: number; count: number }): Promise<{ total: number; users: User[] }> {
  let base = deps.db.selectFrom('users').where('organisation_id', '=', client.organisationId).where('status', '<>', 'offboarded');
  for (const { attribute, operator, value } of query.filter) {
    // userName is caseExact false (RFC 7643 §4.1.1), externalId caseExact true (§3.1).
    const column = attribute === 'userName' ? sql<string>`lower(username)` : sql<string>`external_id`;
    const operand = attribute === 'userName' ? value.toLowerCase() : value;
    if (operator === 'eq') base = base.where(column, '=', operand);
    else base = base.where(column, 'like', operator === 'co' ? `%${likeLiteral(operand)}%` : `${likeLiteral(operand)}%`);
  }
  const { total } = await base.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow();
  const users = query.count === 0 ? [] : await base.selectAll().orderBy('created_at').orderBy('id').offset(query.startIndex - 1).limit(query.count).execute();
  return { total: Number(total), users };
}

/** The person locked for a change, refused as the people rules refuse a client (404 elsewhere, 403 a privileged person). */
async function lockScimTarget(trx: Transaction<Database>, client: ScimClient, id: string): Promise<Target> {
  if (!isUuid(id)) throw userNotFound();
  const target = await lockTarget(trx, client, id).catch((error: unknown) => {
    throw error instanceof WartaError && error.code === 'person_not_found' ? userNotFound() : error;
  });
  if (!isProvisionable(target.person)) throw userNotFound();
  return target;
}

/** PUT (RFC 7644 §3.5.1), and the result of a PATCH: the person becomes `fields`. */
export function replaceScimUser(deps: ScimDeps, context: AuditContext, client: ScimClient, input: { id: string; ifMatch: string | undefined; fields: (current: User) => ScimUserFields }): Promise<User> {
  return uniqueOrConflict(() =>
    personAct(deps, context, 'scim.user_replaced', { actor: client, personId: input.id, reason: REASON }, async (trx, reason) => {
      const target = await lockScimTarget(trx, client, input.id);
      const current = target.person;
      assertVersion(current, input.ifMatch);
      const fields = input.fields(current);
      await assertUnique(trx, current.organisation_id, fields, current);
      if (fields.email !== current.email || fields.userName.toLowerCase() !== current.username.toLowerCase()) await assertEmailsAllowed(trx, current.organisation_id, fields);

      const next = {
        username: fields.userName,
        display_name: fields.displayName,
        given_name: fields.givenName,
        family_name: fields.familyName,
        email: fields.email,
        employee_id: isEmailUsername(fields.userName) ? current.employee_id : fields.userName,
        external_id: fields.externalId,
      };
      const changed = (Object.keys(next) as (keyof typeof next)[]).filter((key) => next[key] !== current[key]);
      if (changed.length) {
        await trx.updateTable('users').set({ ...next, updated_at: deps.clock.now() }).where('id', '=', current.id).execute();
        await appendAudit(trx, deps, context, { action: 'scim.user_replaced', subject: `user:${current.id}`, details: { organisation_id: current.organisation_id, changed } });
      }
      const wasActive = current.status === 'active';
      if (wasActive && !fields.active) await disableInTransaction(trx, deps, context, client, target, reason);
      if (!wasActive && fields.active) {
        // A machine undoes only a machine's disable: a person an admin or the operator took out stays out until a person brings them back.
        if (!current.disabled_by?.startsWith('client:')) throw new WartaError(403, 'person_required', `this person was disabled by ${current.disabled_by === 'cli' ? 'the operator' : 'an admin'}: an admin enables them, not the directory`);
        await restoreAccess(trx, deps, context, target, reason);
      }
      return trx.selectFrom('users').selectAll().where('id', '=', current.id).executeTakeFirstOrThrow();
    }),
  );
}

/** What src/people/disable.ts does, in this act's transaction: status, sessions, grants, back-channel logouts, the event, the entry. */
async function disableInTransaction(trx: Transaction<Database>, deps: ScimDeps, context: AuditContext, client: ScimClient, target: Target, reason: string): Promise<void> {
  const ended = await takeAccessAway(trx, deps, client, target, 'disabled', reason);
  await appendAudit(trx, deps, context, {
    action: 'person.disabled',
    subject: `user:${target.person.id}`,
    details: { organisation_id: target.person.organisation_id, username: target.person.username, roles: target.roles, reason, ...ended },
  });
}

/**
 * DELETE (RFC 7644 §3.6): the directory says the person is gone, so they are offboarded.
 * If-Match is checked first; offboarding then refuses a person no longer there.
 */
export async function deleteScimUser(deps: ScimDeps, context: AuditContext, client: ScimClient, input: { id: string; ifMatch: string | undefined }): Promise<void> {
  const user = await findScimUser(deps, client, input.id);
  assertVersion(user, input.ifMatch);
  await offboardPerson(deps, context, { actor: client, personId: user.id, reason: 'removed from the organisation directory (SCIM DELETE)', confirm: true }).catch((error: unknown) => {
    throw error instanceof WartaError && (error.code === 'person_not_found' || error.code === 'person_offboarded') ? userNotFound() : error;
  });
}
