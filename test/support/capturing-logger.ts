import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

/** A logger writing into an array of parsed lines. */
export function capturingLogger(): { log: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: createLogger('info', destination), lines };
}
