/**
 * The issuer the server serves, recorded at each start so that the `warta` CLI,
 * which prints invitation links, prints links to that server and not to
 * whatever its own environment would default to.
 *
 * The record carries a MAC under an instance key sealed by the master key: a
 * hand with write access to the database alone cannot point the links an admin
 * hands out at a server of its choosing (the CLI refuses a record whose MAC fails).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';

const ISSUER = 'issuer';

const macOf = (key: Uint8Array, issuer: string) => createHmac('sha256', key).update(`instance-setting:issuer:${issuer}`, 'utf8').digest('base64url');

/** Records `issuer` as the one the server serves; returns the one recorded before, when it was another. */
export async function recordIssuer(deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array }, issuer: string): Promise<string | undefined> {
  const before = await recordedIssuer(deps).catch(() => undefined);
  const value = JSON.stringify({ issuer, mac: macOf(deps.auditEntryKey, issuer) });
  await deps.db
    .insertInto('instance_settings')
    .values({ name: ISSUER, value, updated_at: deps.clock.now() })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: deps.clock.now() }))
    .execute();
  return before !== undefined && before !== issuer ? before : undefined;
}

export class TamperedIssuerError extends Error {}

/** The issuer the server last recorded, or undefined before its first start; throws TamperedIssuerError when the record's MAC fails. */
export async function recordedIssuer(deps: { db: Kysely<Database>; auditEntryKey: Uint8Array }): Promise<string | undefined> {
  const row = await deps.db.selectFrom('instance_settings').select('value').where('name', '=', ISSUER).executeTakeFirst();
  if (!row) return undefined;
  let record: { issuer?: unknown; mac?: unknown };
  try {
    record = JSON.parse(row.value) as typeof record;
  } catch {
    throw new TamperedIssuerError('the recorded issuer is not one the server wrote');
  }
  if (typeof record.issuer !== 'string' || typeof record.mac !== 'string') throw new TamperedIssuerError('the recorded issuer is not one the server wrote');
  const expected = Buffer.from(macOf(deps.auditEntryKey, record.issuer));
  const given = Buffer.from(record.mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new TamperedIssuerError('the recorded issuer is not one the server wrote');
  return record.issuer;
}
