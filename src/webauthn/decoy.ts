/**
 * Username-first sign-in must not tell who has an account. An unknown name (or
 * one without passkeys) is answered with decoy credentials derived from the name
 * with a key only Warta holds, so the same name always gets the same answer. How
 * many there are, how long their ids are and which transports they name are drawn
 * from the instance's real passkeys: a fixed decoy shape (one 32-byte id,
 * `internal,hybrid`) would itself tell decoys from the real accounts whose
 * security keys have 64-byte ids and name `usb`.
 */
import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { addSeconds, type Clock } from '../clock.js';
import type { Db, PasskeyShapes, WebauthnCredential } from '../db/schema.js';

/** How long a measured distribution serves before an options request measures it again. */
export const SHAPES_MAX_AGE_SECONDS = 3600;

/** Before the first passkey exists: one credential, as a platform authenticator makes it. */
const NO_PASSKEYS_YET: PasskeyShapes = { perAccount: [[1, 1]], idBytes: [[32, 1]], transports: [[['internal', 'hybrid'], 1]] };

/**
 * The distribution decoys are drawn from, kept in the database so every instance
 * draws from the same one. When it is stale, one request (the one whose update
 * claims the row) measures it again; the others keep using the stale row.
 */
export async function passkeyShapes(db: Db, clock: Clock): Promise<PasskeyShapes> {
  const now = clock.now();
  const row = await db.selectFrom('passkey_shapes').selectAll().where('id', '=', 1).executeTakeFirst();
  if (row && row.computed_at > addSeconds(now, -SHAPES_MAX_AGE_SECONDS)) return row.shapes;
  if (row) {
    const claimed = await db.updateTable('passkey_shapes').set({ computed_at: now }).where('id', '=', 1).where('computed_at', '=', row.computed_at).returning('id').executeTakeFirst();
    if (!claimed) return row.shapes;
  }
  const shapes = await measurePasskeyShapes(db);
  await db
    .insertInto('passkey_shapes')
    .values({ id: 1, shapes: JSON.stringify(shapes), computed_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ shapes: JSON.stringify(shapes), computed_at: now }))
    .execute();
  return shapes;
}

/** Counts what the real answers look like: passkeys per active account, id lengths in bytes, transport lists. */
export async function measurePasskeyShapes(db: Db): Promise<PasskeyShapes> {
  const usable = db
    .selectFrom('webauthn_credentials as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .where('u.status', '=', 'active')
    .where('c.revoked_at', 'is', null)
    .where('c.blocked_at', 'is', null);
  const perAccount = await db
    .selectFrom(usable.select((eb) => eb.fn.countAll<number>().as('n')).groupBy('c.user_id').as('accounts'))
    .select(['n', (eb) => eb.fn.countAll<number>().as('weight')])
    .groupBy('n')
    .orderBy('n')
    .execute();
  if (perAccount.length === 0) return NO_PASSKEYS_YET;
  const idLengths = await usable
    .select([sql<number>`length(c.credential_id)`.as('chars'), (eb) => eb.fn.countAll<number>().as('weight')])
    .groupBy(sql`length(c.credential_id)`)
    .orderBy(sql`length(c.credential_id)`)
    .execute();
  const transports = await usable
    .select([sql<string>`c.transports::text`.as('list'), (eb) => eb.fn.countAll<number>().as('weight')])
    .groupBy(sql`c.transports::text`)
    .orderBy(sql`c.transports::text`)
    .execute();
  return {
    perAccount: perAccount.map((row) => [Number(row.n), Number(row.weight)]),
    // Unpadded base64url: every 4 characters hold 3 bytes.
    idBytes: idLengths.map((row) => [Math.floor((Number(row.chars) * 3) / 4), Number(row.weight)]),
    transports: transports.map((row) => [JSON.parse(row.list) as string[], Number(row.weight)]),
  };
}

/** The decoy credentials for `username`: the same every time for the same name and distribution. */
export function decoyCredentials(key: Uint8Array, username: string, shapes: PasskeyShapes): Pick<WebauthnCredential, 'credential_id' | 'transports'>[] {
  const name = username.toLowerCase();
  const count = draw(shapes.perAccount, key, `decoy-count:${name}`);
  return Array.from({ length: count }, (_, index) => ({
    credential_id: keyedBytes(key, `decoy-credential:${name}:${index}`, draw(shapes.idBytes, key, `decoy-id-bytes:${name}:${index}`)).toString('base64url'),
    transports: draw(shapes.transports, key, `decoy-transports:${name}:${index}`),
  }));
}

/** A value of `weighted`, chosen with probability proportional to its weight by a keyed hash of `label`. */
function draw<T>(weighted: readonly [T, number][], key: Uint8Array, label: string): T {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let point = (createHmac('sha256', key).update(label, 'utf8').digest().readUIntBE(0, 6) / 2 ** 48) * total;
  for (const [value, weight] of weighted) {
    if (point < weight) return value;
    point -= weight;
  }
  return weighted.at(-1)![0];
}

/** `length` bytes derived from `label` with the key (HMAC-SHA256 blocks, counter appended). */
function keyedBytes(key: Uint8Array, label: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let block = 0; blocks.length * 32 < length; block++) blocks.push(createHmac('sha256', key).update(`${label}:${block}`, 'utf8').digest());
  return Buffer.concat(blocks).subarray(0, length);
}
