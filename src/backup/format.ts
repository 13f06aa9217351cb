import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { MasterKey } from '../crypto/master-key.js';
import { WartaError } from '../errors.js';

/**
 * A `warta backup` file:
 *
 *   WARTA BACKUP\n
 *   {manifest as one line of JSON}\n
 *   payload (the embedded database's data directory, a gzipped tar)
 *   HMAC-SHA256 of everything above (32 bytes)
 *
 * The manifest is readable with `head -2`. The MAC is keyed from the master key, so
 * only someone holding it can make a file that restores, and a flipped or cut-off
 * byte is refused before anything is written.
 */
const MAGIC = Buffer.from('WARTA BACKUP\n');
export const BACKUP_FORMAT = 1;
const MAC_BYTES = 32;
/** A manifest is a few kilobytes (the migration names); this only bounds a file that is not a backup. */
const MAX_MANIFEST_BYTES = 64 * 1024;

export interface BackupManifest {
  format: number;
  warta_version: string;
  created_at: string;
  database: 'pglite';
  /** The master key that wraps the data keys inside, and that keys this file's MAC. */
  master_key_id: string;
  /** The migrations the database had applied when it was copied. */
  migrations: string[];
  payload_bytes: number;
  payload_sha256: string;
}

/** The MAC key: derived, so the master key itself never keys anything but data keys and this. */
function backupMacKey(masterKey: MasterKey): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey.key, Buffer.alloc(0), 'warta backup', 32));
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function encodeBackup(masterKey: MasterKey, manifest: Omit<BackupManifest, 'format' | 'master_key_id' | 'payload_bytes' | 'payload_sha256'>, payload: Uint8Array): Buffer {
  const full: BackupManifest = { format: BACKUP_FORMAT, ...manifest, master_key_id: masterKey.id, payload_bytes: payload.byteLength, payload_sha256: sha256(payload) };
  const body = Buffer.concat([MAGIC, Buffer.from(`${JSON.stringify(full)}\n`), payload]);
  return Buffer.concat([body, createHmac('sha256', backupMacKey(masterKey)).update(body).digest()]);
}

const notABackup = (why: string) => new WartaError(422, 'backup_unreadable', `this file is not a Warta backup (${why})`);

/** The manifest alone, unauthenticated: for naming the master key a backup needs before its MAC can be checked. */
export function readBackupManifest(file: Uint8Array): BackupManifest {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw notABackup('it does not start with "WARTA BACKUP"');
  const end = bytes.indexOf(0x0a, MAGIC.length);
  if (end < 0 || end - MAGIC.length > MAX_MANIFEST_BYTES) throw notABackup('no manifest line');
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(bytes.subarray(MAGIC.length, end).toString('utf8')) as BackupManifest;
  } catch {
    throw notABackup('the manifest is not JSON');
  }
  if (typeof manifest !== 'object' || manifest === null || typeof manifest.master_key_id !== 'string' || !Array.isArray(manifest.migrations) || !manifest.migrations.every((name) => typeof name === 'string'))
    throw notABackup('the manifest lacks its fields');
  if (manifest.format !== BACKUP_FORMAT) throw new WartaError(422, 'backup_from_newer_warta', `this backup has format ${String(manifest.format)}; this Warta reads format ${BACKUP_FORMAT}: restore it with the Warta version that made it (${String(manifest.warta_version)}) or a newer one`);
  return manifest;
}

/**
 * The manifest and payload of a backup made under `masterKey`, or a refusal: another
 * master key, a MAC that does not match (modified or truncated), a payload that does
 * not match its manifest.
 */
export function decodeBackup(file: Uint8Array, masterKey: MasterKey): { manifest: BackupManifest; payload: Buffer } {
  const manifest = readBackupManifest(file);
  if (manifest.master_key_id !== masterKey.id)
    throw new WartaError(
      409,
      'backup_master_key_mismatch',
      `this backup was made with master key ${manifest.master_key_id}; the configured master key is ${masterKey.id}: restore needs the master key in use when the backup was made`,
    );
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const tampered = new WartaError(422, 'backup_tampered', 'this backup has been modified or cut short (its MAC does not match): nothing was restored; use another copy');
  if (bytes.length < MAGIC.length + MAC_BYTES) throw tampered;
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  const mac = bytes.subarray(bytes.length - MAC_BYTES);
  if (!timingSafeEqual(mac, createHmac('sha256', backupMacKey(masterKey)).update(body).digest())) throw tampered;
  const payload = body.subarray(body.indexOf(0x0a, MAGIC.length) + 1);
  // Only a bug in the writer gets here (the MAC covers both), but a wrong payload must never be restored.
  if (payload.length !== manifest.payload_bytes || sha256(payload) !== manifest.payload_sha256) throw tampered;
  return { manifest, payload };
}
