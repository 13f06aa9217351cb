import { exportedEntry } from '../audit/audit.js';
import type { Deps } from '../deps.js';
import type { AuditSink } from './sink.js';

export interface ShippedBatch {
  shipped: number;
  /** Chain positions missing between the checkpoint and this batch: `warta audit archive` moved them out before they were shipped (they are in its file). */
  missing?: { fromSeq: number; throughSeq: number };
  /** Another instance holds the checkpoint row: it is shipping. */
  busy?: true;
}

function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Ships the next batch of sealed entries, in chain order, and moves the
 * checkpoint past them once the sink has taken them, all in one transaction
 * that holds the checkpoint row: another instance skips the locked row rather
 * than ship the same entries alongside (their lines would interleave), and a
 * write that fails leaves the checkpoint where it was.
 *
 * Chain order (`seq`), not row id: a transaction that commits late carries a
 * lower id than entries already sealed; the sealer chains it after them, so
 * everything at or below the checkpoint's `seq` is final and nothing is skipped.
 */
export async function shipAuditBatch(deps: Pick<Deps, 'db' | 'clock'>, sink: AuditSink, options: { batchSize: number; timeoutMs: number }): Promise<ShippedBatch> {
  await deps.db
    .insertInto('audit_sink_checkpoint')
    .values({ sink: sink.name, last_shipped_seq: 0, last_shipped_id: null, updated_at: deps.clock.now() })
    .onConflict((oc) => oc.column('sink').doNothing())
    .execute();
  const checkpointNow = await deps.db.selectFrom('audit_sink_checkpoint').select('last_shipped_seq').where('sink', '=', sink.name).executeTakeFirstOrThrow();
  const anythingToShip = await deps.db.selectFrom('audit_log').select('id').where('seq', '>', Number(checkpointNow.last_shipped_seq)).limit(1).executeTakeFirst();
  if (!anythingToShip) return { shipped: 0 };
  // Outside the transaction: on the embedded database, its one connection serves every request meanwhile.
  if (sink.connect) await withDeadline(sink.connect(), options.timeoutMs, `connecting to the audit sink ${sink.name}`);
  return deps.db.transaction().execute(async (trx) => {
    const checkpoint = await trx.selectFrom('audit_sink_checkpoint').select('last_shipped_seq').where('sink', '=', sink.name).forUpdate().skipLocked().executeTakeFirst();
    if (!checkpoint) return { shipped: 0, busy: true };
    const after = Number(checkpoint.last_shipped_seq);
    const batch = await trx.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(options.batchSize).execute();
    if (batch.length === 0) return { shipped: 0 };
    await withDeadline(sink.write(batch.map(exportedEntry)), options.timeoutMs, `writing to the audit sink ${sink.name}`);
    const last = batch.at(-1)!;
    await trx
      .updateTable('audit_sink_checkpoint')
      .set({ last_shipped_seq: last.seq!, last_shipped_id: last.id, updated_at: deps.clock.now() })
      .where('sink', '=', sink.name)
      .execute();
    const firstSeq = Number(batch[0]!.seq);
    return { shipped: batch.length, ...(firstSeq > after + 1 ? { missing: { fromSeq: after + 1, throughSeq: firstSeq - 1 } } : {}) };
  });
}
