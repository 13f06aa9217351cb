import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { migrations as knownMigrations } from '../../migrations/index.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { loadMasterKey } from '../crypto/master-key.js';
import { embeddedDatabaseHolder, lockDataDir } from '../db/connect.js';
import { loadPglite, pgliteStartParams } from '../db/pglite.js';
import { WartaError } from '../errors.js';
import { decodeBackup } from './format.js';

export interface RestoredBackup {
  database: string;
  from: string;
  created_at: string;
  warta_version: string;
  master_key_id: string;
  /** Where the database that was there before now is (`--replace`); it is never deleted. */
  replaced: string | undefined;
  /** Migrations this code knows that the backup lacks: applied at the next start. */
  pending_migrations: string[];
}

/**
 * Puts a `warta backup` file back as the embedded database of `config`'s data
 * directory. Everything that can refuse is checked before anything is written:
 * the master key the backup was made under, its MAC, migrations this code does not
 * know, a server holding the database, a database already there (without
 * `replace`). The copy is unpacked beside the data directory's database, started
 * once to prove it opens, and only then moved into place.
 */
export async function restoreEmbeddedDatabase(config: Pick<Config, 'database' | 'masterKey'>, clock: Clock, input: { file: string; replace: boolean }): Promise<RestoredBackup> {
  if (config.database.url !== undefined)
    throw new WartaError(409, 'restore_not_embedded', 'warta restore puts back the embedded database; on PostgreSQL restore a pg_dump with pg_restore (docs/operations.md#postgresql-backups)');
  if (config.masterKey.source === 'generated' && !existsSync(config.masterKey.file!))
    throw new WartaError(
      409,
      'master_key_missing',
      `no master key is configured and ${config.masterKey.file} does not exist: restore needs the master key in use when the backup was made (put that file back, or set WARTA_MASTER_KEY or WARTA_MASTER_KEY_FILE)`,
    );
  const masterKey = loadMasterKey(config);

  let file: Buffer;
  try {
    file = await readFile(input.file);
  } catch (error) {
    throw new WartaError(400, 'backup_unreadable', `cannot read ${input.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const { manifest, payload } = decodeBackup(file, masterKey);
  const unknown = manifest.migrations.filter((name) => !(name in knownMigrations));
  if (unknown.length)
    throw new WartaError(409, 'backup_from_newer_warta', `this backup was made by Warta ${manifest.warta_version} and holds migrations this version does not know (${unknown.join(', ')}): restore it with that version or a newer one`);

  const { dataDir } = config.database;
  const database = path.join(dataDir, 'pglite');
  const holder = embeddedDatabaseHolder(database);
  if (holder !== undefined) throw new WartaError(409, 'database_in_use', `the embedded database in ${database} is in use by process ${holder}: stop Warta first, then restore`);
  const occupied = existsSync(database) && readdirSync(database).length > 0;
  if (occupied && !input.replace)
    throw new WartaError(409, 'database_exists', `${database} already holds a database: restore with --replace (the current one is moved aside, never deleted), or into an empty WARTA_DATA_DIR`);

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(database);
  const staging = path.join(dataDir, `pglite.restoring-${randomBytes(4).toString('hex')}`);
  try {
    await unpackAndOpen(staging, payload);
    let replaced: string | undefined;
    if (occupied) {
      replaced = path.join(dataDir, `pglite.replaced-${clock.now().toISOString().replaceAll(':', '-')}`);
      renameSync(database, replaced);
    } else {
      rmSync(database, { recursive: true, force: true });
    }
    renameSync(staging, database);
    return {
      database,
      from: input.file,
      created_at: manifest.created_at,
      warta_version: manifest.warta_version,
      master_key_id: manifest.master_key_id,
      replaced,
      pending_migrations: Object.keys(knownMigrations).filter((name) => !manifest.migrations.includes(name)).sort(),
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    unlock();
  }
}

/** Unpacks the data directory into `dir` and starts PostgreSQL on it once: a copy that cannot open is refused here, not at the next start. */
async function unpackAndOpen(dir: string, payload: Uint8Array): Promise<void> {
  mkdirSync(dir, { mode: 0o700 });
  const PGlite = await loadPglite();
  let pglite;
  try {
    pglite = await PGlite.create({ dataDir: dir, loadDataDir: new Blob([new Uint8Array(payload)], { type: 'application/gzip' }), startParams: pgliteStartParams(PGlite) });
    await pglite.query('select count(*) from kysely_migration');
  } catch (error) {
    throw new WartaError(422, 'backup_unreadable', `the backup's database does not open: ${error instanceof Error ? error.message : String(error)}; nothing was restored`);
  } finally {
    if (pglite && !pglite.closed) await pglite.close();
  }
}
