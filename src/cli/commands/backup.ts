import { backupEmbeddedDatabase, backupNeedsEmbeddedDatabase } from '../../backup/backup.js';
import { restoreEmbeddedDatabase } from '../../backup/restore.js';
import { systemClock } from '../../clock.js';
import { defineCommand, stringFlag } from '../command.js';

export const backupCommand = defineCommand({
  path: ['backup'],
  summary: 'copy the embedded database into a new file, authenticated under the master key (beside a running server too); on PostgreSQL use pg_dump',
  flags: {
    out: { type: 'string', file: true, description: 'the backup file to create (never overwritten, readable by you only)', required: true },
  },
  async run(flags, io) {
    // Refused before connecting: on PostgreSQL there is nothing this command could copy.
    if (io.config?.().database.url !== undefined) throw backupNeedsEmbeddedDatabase();
    const runtime = await io.runtime();
    return backupEmbeddedDatabase(runtime, { actor: 'cli' }, { file: stringFlag(flags, 'out')! });
  },
  format: (r) =>
    `Backed up the embedded database to ${r.file} (${r.bytes} bytes, ${r.migrations} migrations) under master key ${r.master_key_id}.\n` +
    'Keep the master key too, stored apart from this file: without it the backup cannot be restored.',
});

export const restoreCommand = defineCommand({
  path: ['restore'],
  summary: 'put a `warta backup` file back as the embedded database (Warta stopped; needs the master key the backup was made under)',
  // It replaces the database a running server would run it on.
  forward: false,
  flags: {
    from: { type: 'string', file: true, description: 'the backup file', required: true },
    replace: { type: 'boolean', description: 'the data directory already holds a database: move it aside to pglite.replaced-<time> (never deleted) and restore in its place' },
  },
  async run(flags, io) {
    const config = io.config?.() ?? (await io.runtime()).config;
    return restoreEmbeddedDatabase(config, systemClock, { file: stringFlag(flags, 'from')!, replace: flags.replace === true });
  },
  format: (r) =>
    [
      `Restored ${r.from} (made ${r.created_at} by Warta ${r.warta_version}) into ${r.database}.`,
      ...(r.replaced ? [`The database that was there is kept in ${r.replaced}.`] : []),
      r.pending_migrations.length ? `${r.pending_migrations.length} newer migration(s) are applied at the next start.` : 'Start Warta.',
    ].join('\n'),
});
