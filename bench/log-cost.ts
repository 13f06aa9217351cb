/**
 * `tsx bench/log-cost.ts`: CPU per request-log line (process CPU, the libuv write
 * thread included) for the destinations and redaction settings Warta had and has,
 * one line per event-loop turn as under request load (PER_TURN to change), written
 * to a file; min and median of five rounds. In process, so other work on the
 * machine matters less than in an HTTP run.
 */
import { openSync, rmSync } from 'node:fs';
import pino from 'pino';
import { createLogger } from '../src/log.js';
const N = 20_000;
const PER_TURN = Number(process.env.PER_TURN ?? 1);
const line = (i: number) => ({ requestId: '0f8fad5b-d9cb-469f-a165-70867728950e', method: 'POST', path: '/token', status: 200, ms: i % 7, ip: '127.0.0.1' });
async function run(name: string, destination: pino.DestinationStream & { flushSync?: () => void }, redact: boolean) {
  const base = createLogger('info', destination);
  const log = redact ? base : base.child({}, { redact: { paths: [] } });
  const results: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t = process.cpuUsage();
    // Spread over event-loop turns, as requests are: 50 lines per turn.
    for (let i = 0; i < N; i += PER_TURN) {
      for (let j = 0; j < PER_TURN; j++) log.info(line(i + j), 'request');
      await new Promise((resolve) => setImmediate(resolve));
    }
    (destination as { flushSync?: () => void }).flushSync?.();
    const u = process.cpuUsage(t);
    results.push(((u.user + u.system) / N) * 1000);
  }
  process.stderr.write(`${name.padEnd(62)} min ${Math.min(...results).toFixed(0)} ns/line, median ${results.sort((a, b) => a - b)[2]!.toFixed(0)}\n`);
}
const file = `/tmp/logab-${process.pid}.log`;
const fd = () => openSync(file, 'a');
await run('before: pino default destination (async, unbatched), redaction', pino.destination({ dest: fd(), sync: false, minLength: 0 }), true);
await run('synchronous destination, redaction', pino.destination({ dest: fd(), sync: true }), true);
await run('async unbatched, no redaction', pino.destination({ dest: fd(), sync: false, minLength: 0 }), false);
await run('now: async batched (logDestination), no redaction', pino.destination({ dest: fd(), sync: false, minLength: 4096 }), false);
await run('Node write stream (as process.stderr was), redaction', (await import('node:fs')).createWriteStream(file, { flags: 'a' }) as never, true);
rmSync(file);
process.exit(0);
