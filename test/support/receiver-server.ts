import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { cleanUpLater } from './runtime.js';

export type ReceiverMode =
  | { kind: 'accept'; status?: number }
  | { kind: 'fail'; status: number; body?: string }
  | { kind: 'reject'; err: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'hang' };

export interface ReceivedSet {
  /** The JWT pushed: the whole body (RFC 8935), or the `logout_token` form field (Back-Channel Logout §2.5). */
  token: string;
  claims: Record<string, unknown>;
  headers: IncomingMessage['headers'];
  /** What the receiver answered. */
  answered: ReceiverMode['kind'];
}

/**
 * A real push endpoint (an RFC 8935 receiver, or a relying party's back-channel
 * logout URI) on 127.0.0.1 (or another loopback address; port 0 unless given)
 * that records every POST and answers as `mode` says; closed after the test file.
 */
export async function startReceiver(initial: ReceiverMode = { kind: 'accept', status: 202 }, listen: { host?: `127.${string}`; port?: number } = {}) {
  const host = listen.host ?? '127.0.0.1';
  let mode: ReceiverMode = initial;
  const received: ReceivedSet[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const token = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? (new URLSearchParams(body).get('logout_token') ?? '') : body;
      received.push({ token, claims: safeDecode(token), headers: req.headers, answered: mode.kind });
      switch (mode.kind) {
        case 'accept':
          res.writeHead(mode.status ?? 202).end();
          break;
        case 'fail':
          res.writeHead(mode.status, { 'content-type': 'text/html' }).end(mode.body ?? '<h1>unavailable</h1>');
          break;
        case 'reject':
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ err: mode.err, description: 'refused by the test receiver' }));
          break;
        case 'redirect':
          res.writeHead(302, { location: mode.location }).end();
          break;
        case 'hang':
          hanging.push(res);
          break;
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(listen.port ?? 0, host, resolve));
  const close = async () => {
    for (const res of hanging.splice(0)) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanUpLater(close);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/events`,
    port,
    received,
    setMode(next: ReceiverMode) {
      mode = next;
    },
    /** The `events` URIs received about `userId`, in arrival order. */
    jtisFor(userId: string) {
      return received.filter((r) => (r.claims.sub_id as { sub?: string } | undefined)?.sub === userId).map((r) => r.claims.jti as string);
    },
    close,
  };
}

function safeDecode(token: string): Record<string, unknown> {
  try {
    return decodeJwt(token) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A loopback URL nobody listens on: connecting is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/events`;
}
