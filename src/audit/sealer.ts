import type { Deps } from '../runtime.js';
import { sealAuditLog } from './audit.js';

/** Seals new audit entries into the chain every `auditSealIntervalMs`, on every instance (they take turns by try-lock). */
export function startAuditSealer(deps: Pick<Deps, 'db' | 'auditChainKey' | 'config' | 'log'>): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(async () => {
        while ((await sealAuditLog(deps.db, deps.auditChainKey)) === 500);
      })
      .catch((error: unknown) => deps.log.warn({ err: String(error) }, 'audit sealing failed; will retry'));
  }, deps.config.auditSealIntervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await sealAuditLog(deps.db, deps.auditChainKey).catch(() => 0);
    },
  };
}
