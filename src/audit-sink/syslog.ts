/**
 * Audit entries as RFC 5424 syslog messages over TCP or TLS, each framed by
 * octet counting (RFC 6587 §3.4.1; the only framing RFC 5425 §4.3 allows):
 * `<length> <message>`, so a newline or anything else inside a message cannot
 * split it or forge a second one.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { checkServerIdentity, connect as connectTls } from 'node:tls';
import { exportedEntry } from '../audit/audit.js';
import type { AuditSinkTarget } from '../config.js';
import type { AuditEntry } from '../db/schema.js';
import { parseIpAddress } from '../outbound/addresses.js';
import type { OutboundAllowList } from '../outbound/allow-list.js';
import { type HostResolver, resolveDestination, type ResolvedAddress } from '../outbound/destination.js';
import type { AuditSink } from './sink.js';

type SyslogTarget = Extract<AuditSinkTarget, { kind: 'syslog' }>;

/** authpriv (RFC 5424 §6.2.1, facility 10): security messages, which most syslog set-ups keep away from general logs. */
const FACILITY_AUTHPRIV = 10;
const SEVERITY_NOTICE = 5;
const SEVERITY_WARNING = 4;

/** RFC 5424 §6: header fields are printable US-ASCII, with a length limit each; '-' when nothing is left. */
function headerField(value: string, maxLength: number): string {
  const printable = value.replace(/[^\x21-\x7e]/g, '').slice(0, maxLength);
  return printable || '-';
}

/**
 * The entry's JSON with every non-ASCII character escaped (\uXXXX): the same
 * object as the export's line once parsed, and plain ASCII, so the message
 * needs no BOM (RFC 5424 §6.4) and no collector re-encodes it.
 */
function asciiJson(entry: AuditEntry): string {
  return JSON.stringify(exportedEntry(entry)).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `<PRI>1 TIMESTAMP HOSTNAME warta - ACTION - {json}`: failures at warning, the rest at notice. */
export function syslogMessage(entry: AuditEntry, hostname: string): string {
  const pri = FACILITY_AUTHPRIV * 8 + (entry.outcome === 'failure' ? SEVERITY_WARNING : SEVERITY_NOTICE);
  return `<${pri}>1 ${new Date(entry.at).toISOString()} ${headerField(hostname, 255)} warta - ${headerField(entry.action, 32)} - ${asciiJson(entry)}`;
}

/** RFC 6587 §3.4.1: MSG-LEN SP SYSLOG-MSG, the length in octets. */
export const octetCounted = (message: string): string => `${Buffer.byteLength(message)} ${message}`;

export interface SyslogSinkOptions {
  allow: OutboundAllowList;
  resolve: HostResolver;
  timeoutMs: number;
  /** HOSTNAME of every message; the machine's name by default. */
  hostname?: string;
}

function connectToCollector(target: SyslogTarget, address: ResolvedAddress, timeoutMs: number): Promise<Socket> {
  const configuredHost = target.host.replace(/^\[(.*)\]$/, '$1');
  const isLiteral = parseIpAddress(configuredHost) !== undefined;
  return new Promise<Socket>((resolve, reject) => {
    // To the address checked against the allow-list, and no other (no second lookup to be rebound).
    const socket =
      target.transport === 'tls'
        ? connectTls({
            host: address.address,
            port: target.port,
            servername: isLiteral ? undefined : configuredHost,
            ca: target.ca,
            rejectUnauthorized: true,
            minVersion: 'TLSv1.2',
            // The certificate must name the collector as configured, not the address it resolved to.
            checkServerIdentity: (_host, certificate) => checkServerIdentity(configuredHost, certificate),
          })
        : connectTcp({ host: address.address, port: target.port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no connection to the collector within ${timeoutMs} ms`)));
    socket.once(target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * One connection, kept between batches and made again after any failure. The
 * collector is checked against the allow-list again at each connection (the
 * list may have changed; a name may resolve elsewhere now).
 */
export function syslogSink(target: SyslogTarget, options: SyslogSinkOptions): AuditSink {
  const hostname = options.hostname ?? osHostname();
  let socket: Socket | undefined;
  let usable = false;

  async function connection(): Promise<Socket> {
    if (socket && usable) return socket;
    socket?.destroy();
    socket = undefined;
    const destination = await resolveDestination(options.allow, `syslog+${target.transport}://${target.host}:${target.port}`, options.resolve);
    if (!destination.allowed) throw new Error(`collector refused: ${destination.reason}`);
    const opened = await connectToCollector(target, destination.address, options.timeoutMs);
    usable = true;
    const unusable = () => {
      if (socket === opened) usable = false;
    };
    // A collector that hung up or failed: the next batch goes over a new connection.
    opened.on('error', unusable);
    opened.on('end', unusable);
    opened.on('close', unusable);
    opened.resume();
    socket = opened;
    return opened;
  }

  return {
    name: `syslog+${target.transport}://${target.host}:${target.port}`,
    async connect() {
      await connection();
    },
    async write(entries) {
      const connected = await connection();
      const frames = entries.map((entry) => octetCounted(syslogMessage(entry, hostname))).join('');
      try {
        await new Promise<void>((resolve, reject) => connected.write(frames, (error) => (error ? reject(error) : resolve())));
      } catch (error) {
        usable = false;
        throw error;
      }
    },
    async close() {
      socket?.end();
      socket?.destroy();
      socket = undefined;
      usable = false;
    },
  };
}
