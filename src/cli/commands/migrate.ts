import { defineCommand } from '../command.js';

export const migrateCommand = defineCommand({
  path: ['migrate'],
  summary: 'apply pending database migrations (start-up does this too)',
  flags: {},
  // Opening the runtime applies pending migrations under the advisory lock.
  async run(_flags, io) {
    const runtime = await io.runtime();
    const rows = await runtime.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
    return { database: runtime.dbKind, migrations: (rows as { name: string }[]).map((r) => r.name) };
  },
  format: (r) => `database (${r.database}) is at the latest schema: ${r.migrations.join(', ')}`,
});
