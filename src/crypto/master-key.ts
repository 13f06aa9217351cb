import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';

/** The key-encryption key. It only ever wraps data keys (crypto/secret-box.ts), never data. */
export interface MasterKey {
  /** Public fingerprint, stored beside what it wraps, to name the right key in errors. */
  id: string;
  key: Buffer;
}

export function masterKeyFromBase64(base64: string): MasterKey {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new Error('a master key is 32 bytes, base64-encoded');
  return { id: createHash('sha256').update('warta master key id\0').update(key).digest('hex').slice(0, 16), key };
}

export const generateMasterKeyBase64 = (): string => randomBytes(32).toString('base64');

/** Writes a new key file readable by its owner only; refuses to overwrite. */
export function writeMasterKeyFile(file: string, base64: string): void {
  // The folder holds the key (and, by default, the embedded database): this OS user's alone.
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${base64}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
}

/**
 * Resolves the configured master key. In development with none configured it
 * creates ./data/master.key once; `onGenerated` lets start-up warn about it.
 */
export function loadMasterKey(config: Pick<Config, 'masterKey'>, onGenerated?: (file: string) => void): MasterKey {
  const { masterKey } = config;
  if (masterKey.base64) return masterKeyFromBase64(masterKey.base64);
  const file = masterKey.file!;
  if (!existsSync(file)) {
    writeMasterKeyFile(file, generateMasterKeyBase64());
    onGenerated?.(file);
  }
  return masterKeyFromBase64(readFileSync(file, 'utf8'));
}

/**
 * What start-up prints to stderr while the master key is the development one: a log
 * line is easy to miss, and losing this file loses every secret in the database.
 */
export function developmentMasterKeyWarning(file: string): string {
  return [
    '',
    '  WARNING: Warta is using a development master key, generated into',
    `    ${file}`,
    '  Every TOTP secret, signing key and instance secret in the database is encrypted',
    '  under it. If this file is lost, they are lost: people need recovery at the desk and',
    '  relying parties see new signing keys. A database backup does not hold it.',
    '  Back this file up separately from the database, or set WARTA_MASTER_KEY or',
    '  WARTA_MASTER_KEY_FILE (docs/operations.md#what-to-back-up).',
    '',
    '',
  ].join('\n');
}
