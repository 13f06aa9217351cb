import { auditLine } from '../audit/audit.js';
import type { AuditSink } from './sink.js';

/** JSON lines on standard output, for a container runtime's log collector. */
export function stdoutSink(stream: NodeJS.WritableStream = process.stdout): AuditSink {
  let failure: Error | undefined;
  // Without a listener a closed pipe would end the server; the failure is reported by the next write instead.
  stream.on('error', (error: Error) => (failure = error));
  return {
    name: 'stdout',
    write(entries) {
      if (failure) return Promise.reject(failure);
      return new Promise<void>((resolve, reject) => stream.write(entries.map(auditLine).join(''), (error) => (error ? reject(error) : resolve())));
    },
    async close() {},
  };
}
