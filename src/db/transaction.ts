import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Runs `work` in `db` when it is a transaction already, else in a new one: a
 * service called on its own commits alone, and called with a caller's
 * transaction (first-run setup, bootstrap) commits or rolls back with it.
 */
export function withinTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}
