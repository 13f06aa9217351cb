/**
 * No test may reach past this machine: every socket connection to an address
 * outside loopback, and every host-name lookup other than `localhost`, is
 * refused in-process before a packet leaves, and recorded. Each test file then
 * checks that nothing tried. Warta's own outbound calls (SETs, back-channel
 * logouts) go to receivers the tests run on loopback, so a refusal here means
 * something in Warta or a dependency tried to phone out (fonts, metadata,
 * telemetry, a resolver), which a sovereign deployment must never do.
 *
 * Loaded by vitest as a setup file in every project; with shared modules it is
 * installed once per worker.
 */
import dns from 'node:dns';
import net from 'node:net';
import { afterAll, expect } from 'vitest';

interface EgressRecord {
  refused: string[];
  loopbackConnections: number;
}

const MARK = Symbol.for('warta.test.no-egress');
type Marked = typeof globalThis & { [MARK]?: EgressRecord };

const isLoopback = (host: string) => host === 'localhost' || net.isIP(host) !== 0 && (/^127\./.test(host) || host === '::1' || host === '::ffff:127.0.0.1');

function install(): EgressRecord {
  const record: EgressRecord = { refused: [], loopbackConnections: 0 };
  const refusal = (what: string) => Object.assign(new Error(`egress refused by the test guard: ${what}`), { code: 'ECONNREFUSED' });

  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (typeof first === 'object' && first !== null && !Array.isArray(first) ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined }) as { host?: string; path?: string };
    if (options.path === undefined) {
      const host = options.host ?? 'localhost';
      if (!isLoopback(host)) {
        record.refused.push(`connect ${host}`);
        process.nextTick(() => this.destroy(refusal(`connect ${host}`)));
        return this;
      }
      record.loopbackConnections += 1;
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;

  const lookup = dns.lookup;
  dns.lookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
    if (hostname !== 'localhost' && net.isIP(hostname) === 0) {
      record.refused.push(`lookup ${hostname}`);
      const callback = rest.at(-1) as (error: Error) => void;
      process.nextTick(() => callback(Object.assign(refusal(`lookup ${hostname}`), { code: 'ENOTFOUND' })));
      return {} as never;
    }
    return (lookup as (...a: unknown[]) => unknown).call(dns, hostname, ...rest);
  } as typeof dns.lookup;
  const lookupPromise = dns.promises.lookup;
  dns.promises.lookup = async function guardedLookupPromise(hostname: string, ...rest: unknown[]) {
    if (hostname !== 'localhost' && net.isIP(hostname) === 0) {
      record.refused.push(`lookup ${hostname}`);
      throw Object.assign(refusal(`lookup ${hostname}`), { code: 'ENOTFOUND' });
    }
    return (lookupPromise as (...a: unknown[]) => Promise<unknown>).call(dns.promises, hostname, ...rest);
  } as typeof dns.promises.lookup;
  return record;
}

const globals = globalThis as Marked;
const record = (globals[MARK] ??= install());
const refusedBefore = record.refused.length;

afterAll(() => {
  expect(record.refused.slice(refusedBefore), 'connections or lookups that tried to leave loopback').toEqual([]);
});

/** What the guard saw in this worker (for the suite's report). */
export const egressRecord = (): Readonly<EgressRecord> => record;
