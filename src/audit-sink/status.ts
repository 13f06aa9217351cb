import type { Deps } from '../deps.js';

export interface AuditShippingStatus {
  /** The configured sink, as its checkpoint names it. */
  sink: string;
  /** Row id of the last entry the sink took; null before the first. */
  lastShippedId: number | null;
  /** Its chain position: shipping resumes after it. */
  lastShippedSeq: number;
  /** Entries not shipped yet: sealed after the checkpoint, or waiting for the sealer. */
  backlog: number;
  /** Age of the oldest of them; 0 when there are none. */
  oldestUnshippedAgeSeconds: number;
}

/** How far shipping is behind, for metrics and health pages; undefined when no sink is configured. */
export async function auditShippingStatus(deps: Pick<Deps, 'db' | 'clock'> & { config: Pick<Deps['config'], 'audit'> }): Promise<AuditShippingStatus | undefined> {
  const sink = deps.config.audit.sink;
  if (!sink) return undefined;
  const checkpoint = await deps.db.selectFrom('audit_sink_checkpoint').select(['last_shipped_seq', 'last_shipped_id']).where('sink', '=', sink.name).executeTakeFirst();
  const lastShippedSeq = Number(checkpoint?.last_shipped_seq ?? 0);
  // Two queries, each on its own index (`seq` unique; the partial index of unsealed rows).
  const shippable = await deps.db.selectFrom('audit_log').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('at').as('oldest')]).where('seq', '>', lastShippedSeq).executeTakeFirstOrThrow();
  const unsealed = await deps.db
    .selectFrom('audit_log')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('at').as('oldest')])
    .where('seq', 'is', null)
    .where('seal_refused', 'is', null)
    .executeTakeFirstOrThrow();
  const oldestTimes = [shippable.oldest, unsealed.oldest].filter((at): at is Date => at !== null && at !== undefined).map((at) => new Date(at).getTime());
  const oldest = oldestTimes.length ? Math.min(...oldestTimes) : undefined;
  return {
    sink: sink.name,
    lastShippedId: checkpoint?.last_shipped_id === null || checkpoint?.last_shipped_id === undefined ? null : Number(checkpoint.last_shipped_id),
    lastShippedSeq,
    backlog: Number(shippable.n) + Number(unsealed.n),
    oldestUnshippedAgeSeconds: oldest === undefined ? 0 : Math.max(0, Math.floor((deps.clock.now().getTime() - oldest) / 1000)),
  };
}
