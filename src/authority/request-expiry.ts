/**
 * The expiry of two-admin requests (role requests, change requests): a pending
 * request nobody decided in its time is marked `expired`, each with its audit
 * entry, in the caller's transaction. Approval checks the time in SQL as well, so
 * the sweep only closes what is left. SKIP LOCKED lets every instance sweep; the
 * condition is checked again on the locked row.
 */
import { type RawBuilder, sql, type Transaction } from 'kysely';
import { appendAudit, type AuditRecord, type AuditWriter } from '../audit/audit.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../log.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const SWEEP_BATCH = 100;

export async function expirePendingRequests<Row>(
  trx: Transaction<Database>,
  writer: AuditWriter,
  input: { table: 'role_requests' | 'change_requests'; scope?: RawBuilder<unknown>; audit: (expired: Row) => AuditRecord },
): Promise<number> {
  const now = writer.clock.now();
  const due = sql<boolean>`(status = 'pending' and expires_at <= ${now}${input.scope ? sql` and ${input.scope}` : sql``})`;
  const { rows } = await sql<Row>`
    update ${sql.table(input.table)} set status = 'expired', decided_at = ${now}
    where id in (select id from ${sql.table(input.table)} where ${due} order by id limit ${SWEEP_BATCH} for update skip locked)
      and ${due}
    returning *`.execute(trx);
  for (const expired of rows) await appendAudit(trx, writer, { actor: 'system' }, input.audit(expired));
  return rows.length;
}

/** The background sweep (started by src/server.ts): batch after batch until one is not full. */
export function startRequestExpiry(name: string, log: Logger, expireBatch: () => Promise<number>): PeriodicJob {
  return startPeriodicJob({
    name,
    intervalMs: SWEEP_INTERVAL_MS,
    log,
    round: async (stopping) => {
      while (!stopping() && (await expireBatch()) === SWEEP_BATCH);
    },
  });
}
