/**
 * The issuer the server serves, recorded at each start so that the `warta` CLI,
 * which prints invitation links, prints links to that server and not to
 * whatever its own environment would default to.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';

const ISSUER = 'issuer';

/** Records `issuer` as the one the server serves; returns the one recorded before, when it was another. */
export async function recordIssuer(db: Kysely<Database>, clock: Clock, issuer: string): Promise<string | undefined> {
  const before = await recordedIssuer(db);
  await db
    .insertInto('instance_settings')
    .values({ name: ISSUER, value: issuer, updated_at: clock.now() })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value: issuer, updated_at: clock.now() }))
    .execute();
  return before !== undefined && before !== issuer ? before : undefined;
}

export async function recordedIssuer(db: Kysely<Database>): Promise<string | undefined> {
  return (await db.selectFrom('instance_settings').select('value').where('name', '=', ISSUER).executeTakeFirst())?.value;
}
