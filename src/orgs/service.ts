import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import { newId } from '../crypto/random.js';
import { withinTransaction } from '../db/transaction.js';
import { type Database, type Db, json, type Organisation, type User } from '../db/schema.js';
import { conflict, invalidRequest, notFound } from '../errors.js';
import { type OrganisationPolicy, resolvePolicy } from './policy.js';

/** Creates an organisation, in `deps.db`'s transaction when it is one. */
export async function createOrganisation(
  deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array },
  context: AuditContext,
  input: { name: string; policy?: Partial<OrganisationPolicy> },
): Promise<Organisation> {
  const name = input.name.trim();
  if (name.length < 2 || name.length > 200) throw invalidRequest('organisation name must be 2 to 200 characters');
  return withinTransaction(deps.db, async (trx) => {
    const organisation = await trx
      .insertInto('organisations')
      .values({ id: newId(), name, policy: json(input.policy ?? {}), created_at: deps.clock.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!organisation) throw conflict('organisation_exists', `an organisation named "${name}" already exists`);
    await appendAudit(trx, deps, context, { action: 'organisation.created', subject: `org:${organisation.id}`, details: { name } });
    return organisation;
  });
}

export async function getOrganisation(db: Kysely<Database>, id: string): Promise<Organisation> {
  const organisation = await db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!organisation) throw notFound('organisation_not_found', 'no such organisation');
  return organisation;
}

export async function findOrganisationByName(db: Kysely<Database>, name: string): Promise<Organisation> {
  const organisation = await db.selectFrom('organisations').selectAll().where('name', '=', name.trim()).executeTakeFirst();
  if (!organisation) throw notFound('organisation_not_found', `no organisation named "${name}"`);
  return organisation;
}

/** The policy of the user's organisation, defaults filled in. */
export async function organisationPolicyOf(db: Db, user: Pick<User, 'organisation_id'>): Promise<OrganisationPolicy> {
  const row = await db.selectFrom('organisations').select('policy').where('id', '=', user.organisation_id).executeTakeFirstOrThrow();
  return resolvePolicy(row.policy);
}
