import type { Clock } from '../clock.js';
import type { Db } from './schema.js';

/** Tables whose rows end by revocation: `revoked_at` is set once, with the reason, and never cleared. */
type RevocableTable = 'sessions' | 'oauth_grants';

/**
 * Revokes the rows of `table` that are still live and match `where` (one row by
 * `id`, or all of a user's by `user_id`); returns how many it revoked. A row
 * revoked before keeps its first time and reason.
 */
export async function revokeLiveRows(db: Db, clock: Clock, table: RevocableTable, where: { id: string } | { user_id: string }, reason: string): Promise<number> {
  const [column, value] = 'id' in where ? (['id', where.id] as const) : (['user_id', where.user_id] as const);
  const result = await db.updateTable(table).set({ revoked_at: clock.now(), revoked_reason: reason }).where(column, '=', value).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
