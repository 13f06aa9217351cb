import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { newId } from './random.js';
import type { MasterKey } from './master-key.js';

/**
 * Envelope encryption. Secrets (TOTP seeds, signing keys, instance secrets) are
 * sealed with AES-256-GCM under a data key; data keys are stored wrapped by the
 * master key. Rotating the master key re-wraps the few data keys and touches no
 * secret, and a database dump without the master key reveals nothing.
 *
 * Sealed form: `v1.<dataKeyId>.<iv>.<ciphertext>.<tag>` (base64url parts). The
 * caller's `context` is bound as associated data, so a ciphertext copied into
 * another row or column does not decrypt there.
 */
export class SecretBox {
  constructor(
    private readonly dataKeys: ReadonlyMap<string, Buffer>,
    private readonly activeKeyId: string,
  ) {}

  seal(plaintext: Uint8Array | string, context: string): string {
    const key = this.dataKeys.get(this.activeKeyId)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
    return ['v1', this.activeKeyId, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, context: string): Buffer {
    const [version, keyId, iv, body, tag] = sealed.split('.');
    if (version !== 'v1' || !keyId || iv === undefined || body === undefined || tag === undefined) throw new DecryptionError('not a sealed value');
    const key = this.dataKeys.get(keyId);
    if (!key) throw new DecryptionError(`unknown data key ${keyId}`);
    return gcmOpen(key, Buffer.from(iv, 'base64url'), Buffer.from(body, 'base64url'), Buffer.from(tag, 'base64url'), context);
  }

  openText(sealed: string, context: string): string {
    return this.open(sealed, context).toString('utf8');
  }
}

export class DecryptionError extends Error {
  constructor(reason: string) {
    super(`decryption failed: ${reason}`);
    this.name = 'DecryptionError';
  }
}

/** The master key does not fit the data keys in the database: start-up must stop. */
export class MasterKeyMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyMismatchError';
  }
}

function gcmOpen(key: Buffer, iv: Buffer, body: Buffer, tag: Buffer, context: string): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new DecryptionError('authentication tag mismatch (wrong key or tampered data)');
  }
}

function wrapDataKey(master: MasterKey, dataKeyId: string, dataKey: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', master.key, iv);
  cipher.setAAD(Buffer.from(`warta data key ${dataKeyId}`, 'utf8'));
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

function unwrapDataKey(master: MasterKey, dataKeyId: string, wrapped: string): Buffer {
  const [iv, body, tag] = wrapped.split('.');
  return gcmOpen(master.key, Buffer.from(iv ?? '', 'base64url'), Buffer.from(body ?? '', 'base64url'), Buffer.from(tag ?? '', 'base64url'), `warta data key ${dataKeyId}`);
}

/**
 * Loads (creating on first start) the data keys and returns the box. Fails with
 * MasterKeyMismatchError when the master key cannot unwrap them: serving with
 * garbage keys is never an option.
 */
export async function openSecretBox(db: Kysely<Database>, master: MasterKey, clock: Clock): Promise<SecretBox> {
  const id = `dk-${newId()}`;
  await db
    .insertInto('data_keys')
    .values({ id, wrapped_key: wrapDataKey(master, id, randomBytes(32)), master_key_id: master.id, active: true, created_at: clock.now() })
    .onConflict((oc) => oc.column('active').where('active', '=', true).doNothing())
    .execute();
  const rows = await db.selectFrom('data_keys').selectAll().execute();
  const keys = new Map<string, Buffer>();
  let activeKeyId: string | undefined;
  for (const row of rows) {
    if (row.master_key_id !== master.id)
      throw new MasterKeyMismatchError(`data key ${row.id} is wrapped with master key ${row.master_key_id}, but the configured master key is ${master.id}: wrong WARTA_MASTER_KEY?`);
    try {
      keys.set(row.id, unwrapDataKey(master, row.id, row.wrapped_key));
    } catch {
      throw new MasterKeyMismatchError(`the configured master key ${master.id} does not decrypt data key ${row.id}: wrong or corrupted WARTA_MASTER_KEY?`);
    }
    if (row.active) activeKeyId = row.id;
  }
  if (!activeKeyId) throw new MasterKeyMismatchError('no active data key found');
  return new SecretBox(keys, activeKeyId);
}

/**
 * Re-wraps every data key with `next`, in one transaction under a row lock: a
 * crash leaves either all keys under the old master key or all under the new.
 * Running instances keep working (they hold the unwrapped data keys); each needs
 * the new master key at its next start.
 */
export async function rewrapDataKeys(db: Kysely<Database>, current: MasterKey, next: MasterKey): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('data_keys').selectAll().forUpdate().execute();
    for (const row of rows) {
      if (row.master_key_id === next.id) continue;
      if (row.master_key_id !== current.id) throw new MasterKeyMismatchError(`data key ${row.id} is wrapped with master key ${row.master_key_id}, not the configured ${current.id}`);
      let dataKey: Buffer;
      try {
        dataKey = unwrapDataKey(current, row.id, row.wrapped_key);
      } catch {
        throw new MasterKeyMismatchError(`the configured master key ${current.id} does not decrypt data key ${row.id}`);
      }
      await trx.updateTable('data_keys').set({ wrapped_key: wrapDataKey(next, row.id, dataKey), master_key_id: next.id }).where('id', '=', row.id).execute();
    }
    return rows.length;
  });
}

/**
 * A named random key shared by every instance (audit chain key, token HMAC key),
 * created by whichever instance asks first.
 */
export async function instanceSecret(db: Kysely<Database>, box: SecretBox, name: string, clock: Clock, options: { onCreated?: (secret: Buffer) => Promise<void> } = {}): Promise<Buffer> {
  const created = await db
    .insertInto('instance_secrets')
    .values({ name, value_enc: box.seal(randomBytes(32), `instance secret ${name}`), created_at: clock.now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('name')
    .executeTakeFirst();
  const row = await db.selectFrom('instance_secrets').select('value_enc').where('name', '=', name).executeTakeFirstOrThrow();
  const secret = box.open(row.value_enc, `instance secret ${name}`);
  // Only the instance whose insert won runs it, so two instances starting together do it once.
  if (created) await options.onCreated?.(secret);
  return secret;
}

