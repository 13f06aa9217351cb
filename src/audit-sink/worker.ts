import type { AuditSinkSettings } from '../config.js';
import type { Deps } from '../deps.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';
import type { OutboundAllowList } from '../outbound/allow-list.js';
import { type HostResolver, systemResolver } from '../outbound/destination.js';
import { fileSink } from './file.js';
import { shipAuditBatch } from './ship.js';
import type { AuditSink } from './sink.js';
import { stdoutSink } from './stdout.js';
import { syslogSink } from './syslog.js';

export function openAuditSink(settings: AuditSinkSettings, options: { allow: OutboundAllowList; resolve?: HostResolver; hostname?: string; stdout?: NodeJS.WritableStream }): AuditSink {
  const { target } = settings;
  if (target.kind === 'stdout') return stdoutSink(options.stdout);
  if (target.kind === 'file') return fileSink(target);
  return syslogSink(target, { allow: options.allow, resolve: options.resolve ?? systemResolver, timeoutMs: settings.timeoutMs, ...(options.hostname ? { hostname: options.hostname } : {}) });
}

/**
 * Ships sealed audit entries to the configured sink every interval, on every
 * instance (one at a time: see shipAuditBatch). A sink that fails is retried
 * after 1, 2, 4 … seconds up to `retryMaxSeconds`; meanwhile entries wait in the
 * database and requests are served as usual. Undefined when no sink is set.
 */
export function startAuditShipping(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'log'>, options: { sink?: AuditSink; resolve?: HostResolver } = {}): PeriodicJob | undefined {
  const settings = deps.config.audit.sink;
  if (!settings) return undefined;
  const sink = options.sink ?? openAuditSink(settings, { allow: deps.config.outbound.allow, ...(options.resolve ? { resolve: options.resolve } : {}) });
  const { batchSize, timeoutMs, retryMaxSeconds } = settings;
  let failures = 0;
  let retryAt = 0;

  async function shipWhatIsSealed(stopping: () => boolean): Promise<void> {
    if (deps.clock.now().getTime() < retryAt) return;
    try {
      for (;;) {
        const result = await shipAuditBatch(deps, sink, { batchSize, timeoutMs });
        if (result.missing) deps.log.warn({ sink: sink.name, ...result.missing }, 'audit entries were archived before they were shipped; the sink has a gap: send it the archive file (warta audit archive)');
        if (result.shipped < batchSize || stopping()) break;
      }
      if (failures) deps.log.info({ sink: sink.name }, 'the audit sink takes entries again; the backlog was shipped');
      failures = 0;
    } catch (error) {
      failures += 1;
      const retryInSeconds = Math.min(retryMaxSeconds, 2 ** Math.min(failures - 1, 20));
      retryAt = deps.clock.now().getTime() + retryInSeconds * 1000;
      // The connection may be half-written: the next attempt starts a new one and sends again from the checkpoint.
      await sink.close().catch(() => undefined);
      deps.log.warn({ sink: sink.name, err: error instanceof Error ? error.message : String(error), failures, retryInSeconds }, 'the audit sink failed; entries wait in the database and are shipped when it takes them again');
    }
  }

  const job = startPeriodicJob({ name: 'audit shipping', intervalMs: settings.intervalMs, log: deps.log, round: shipWhatIsSealed });
  return {
    async stop() {
      await job.stop();
      // After the sealer's last round: ship what it sealed, unless the sink is failing (shutdown would wait on it).
      if (!failures) await shipWhatIsSealed(() => false);
      await sink.close();
    },
  };
}
