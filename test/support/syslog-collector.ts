// @peculiar/x509 needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { KeyObject } from 'node:crypto';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { cleanUpLater } from './runtime.js';
import { createTestRootCa, type TestCertificate } from './soft-authenticator.js';

export { createTestRootCa };

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A TLS server certificate under `ca` for these DNS names and IP addresses, with its key as PEM. */
export async function issueServerCertificate(ca: TestCertificate, names: { dns?: string[]; ip?: string[] }): Promise<{ certPem: string; keyPem: string }> {
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${names.dns?.[0] ?? names.ip?.[0]}`,
    issuer: ca.name,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: EC_P256,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension([...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(names.ip ?? []).map((value) => ({ type: 'ip' as const, value }))]),
    ],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { certPem: cert.toString('pem'), keyPem };
}

/** RFC 6587 §3.4.1 frames from a byte stream: MSG-LEN SP SYSLOG-MSG …; throws on anything else. */
export function parseOctetCountedFrames(data: Buffer): string[] {
  const frames: string[] = [];
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = data.subarray(at, space).toString('ascii');
    if (space < 0 || !/^[1-9]\d*$/.test(length)) throw new Error(`not an octet-counted frame at byte ${at}: ${JSON.stringify(data.subarray(at, at + 20).toString())}`);
    const end = space + 1 + Number(length);
    if (end > data.length) throw new Error(`frame at byte ${at} is cut short`);
    frames.push(data.subarray(space + 1, end).toString('utf8'));
    at = end;
  }
  return frames;
}

/** RFC 5424 §6: PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA SP MSG. */
const RFC5424 = /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) (-|\[.*?\]) ([\s\S]*)$/;

export interface SyslogMessage {
  facility: number;
  severity: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  msg: string;
}

export function parseRfc5424(message: string): SyslogMessage {
  const match = RFC5424.exec(message);
  if (!match) throw new Error(`not an RFC 5424 message: ${message.slice(0, 120)}`);
  const pri = Number(match[1]);
  return { facility: pri >> 3, severity: pri & 7, timestamp: match[2]!, hostname: match[3]!, appName: match[4]!, procId: match[5]!, msgId: match[6]!, structuredData: match[7]!, msg: match[8]! };
}

export interface Collector {
  port: number;
  /** Everything received so far, over every connection, in arrival order. */
  received(): Buffer;
  /** Connections that completed (for TLS: the handshake). */
  connections: number;
  close(): Promise<void>;
}

/** A syslog collector on 127.0.0.1 (TCP, or TLS with `tls`), closed after the test. */
export async function startCollector(options: { port?: number; tls?: { certPem: string; keyPem: string } } = {}): Promise<Collector> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const onConnection = (socket: Socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server: Server = options.tls ? createTlsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, onConnection) : createTcpServer(onConnection);
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanUpLater(close);
  return {
    port: (server.address() as AddressInfo).port,
    received: () => Buffer.concat(chunks),
    get connections() {
      return state.connections;
    },
    close,
  };
}

/** A port nothing listens on (now). */
export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
