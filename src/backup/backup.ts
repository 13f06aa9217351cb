import { open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import packageJson from '../../package.json' with { type: 'json' };
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import type { Db } from '../db/schema.js';
import { WartaError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { encodeBackup } from './format.js';

export interface BackupMade {
  file: string;
  bytes: number;
  master_key_id: string;
  migrations: number;
  created_at: string;
}

export const backupNeedsEmbeddedDatabase = () =>
  new WartaError(409, 'backup_not_embedded', 'warta backup copies the embedded database; on PostgreSQL back up with pg_dump -Fc and restore with pg_restore (docs/operations.md#postgresql-backups)');

/**
 * Copies the embedded database into a new backup file (mode 0600, never over an
 * existing file), whether this process is the running server (the command was
 * forwarded to it) or opened the database itself. The file is complete and flushed
 * before the backup is audited; a failed backup leaves no file.
 */
export async function backupEmbeddedDatabase(
  deps: { db: Db; masterKey: Runtime['masterKey']; dumpEmbeddedDatabase?: Runtime['dumpEmbeddedDatabase'] } & AuditWriter,
  context: AuditContext,
  input: { file: string },
): Promise<BackupMade> {
  if (!deps.dumpEmbeddedDatabase) throw backupNeedsEmbeddedDatabase();
  let handle;
  try {
    handle = await open(input.file, 'wx', 0o600);
  } catch (error) {
    throw new WartaError(409, 'backup_file_unwritable', `cannot create ${input.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)} (a backup never overwrites a file)`);
  }
  let made: BackupMade;
  try {
    const createdAt = deps.clock.now().toISOString();
    const migrations = await appliedMigrations(deps.db);
    const payload = await deps.dumpEmbeddedDatabase();
    const file = encodeBackup(deps.masterKey, { warta_version: packageJson.version, created_at: createdAt, database: 'pglite', migrations }, payload);
    await handle.writeFile(file);
    await handle.sync();
    made = { file: input.file, bytes: file.length, master_key_id: deps.masterKey.id, migrations: migrations.length, created_at: createdAt };
  } catch (error) {
    await handle.close();
    await unlink(input.file).catch(() => undefined);
    throw error;
  }
  await handle.close();
  // A backup is a copy of every account: who made one, and when, belongs in the log.
  await appendAudit(deps.db, deps, context, { action: 'database.backed_up', details: { file: path.basename(input.file), bytes: made.bytes, master_key_id: made.master_key_id } });
  return made;
}

async function appliedMigrations(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((row) => row.name);
}
