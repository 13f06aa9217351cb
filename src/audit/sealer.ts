import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';
import type { Deps } from '../deps.js';
import { sealAuditLog } from './audit.js';

/** Seals new audit entries into the chain every `auditSealIntervalMs`, on every instance (they take turns by try-lock). */
export function startAuditSealer(deps: Pick<Deps, 'db' | 'auditChainKey' | 'auditEntryKey' | 'config' | 'log'>): PeriodicJob {
  const job = startPeriodicJob({
    name: 'audit sealing',
    intervalMs: deps.config.audit.sealIntervalMs,
    log: deps.log,
    round: async (stopping) => {
      while (!stopping() && (await sealAuditLog(deps.db, deps)) === 500);
    },
  });
  return {
    async stop() {
      await job.stop();
      // Seal what the last requests wrote, so a clean shutdown leaves nothing unsealed.
      await sealAuditLog(deps.db, deps).catch(() => 0);
    },
  };
}
