import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { WartaError } from '../errors.js';

// Arbitrary constant naming "the first organisation" for the advisory locks below.
const FIRST_ORGANISATION_LOCK = 7_114_000_003;

/**
 * Waits until no other transaction makes the first organisation or a setup link,
 * and keeps them out until this one ends: two setups (or a setup and `warta
 * bootstrap`) cannot both find no organisation and each make a first one.
 */
export async function holdFirstOrganisationLock(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${FIRST_ORGANISATION_LOCK})`.execute(trx);
}

/** The same lock without waiting: false when another instance holds it (it is making the link, or the first organisation). */
export async function tryFirstOrganisationLock(trx: Transaction<Database>): Promise<boolean> {
  const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${FIRST_ORGANISATION_LOCK}) as locked`.execute(trx);
  return rows[0]?.locked === true;
}

/** The oldest organisation's name, or undefined while Warta has none. */
export async function firstOrganisationName(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db.selectFrom('organisations').select('name').orderBy('created_at').limit(1).executeTakeFirst();
  return row?.name;
}

export const alreadySetUp = (name: string) =>
  new WartaError(409, 'already_set_up', `Warta is already set up (organisation "${name}" exists). To create another organisation on purpose: warta org create --name NAME --domains example.gov, then warta invite --org NAME --role admin for its first admin`);
