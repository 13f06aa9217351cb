import type { Server } from 'node:http';
import net from 'node:net';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { startWartaServer } from '../support/browser.js';
import { cleanUpLater } from '../support/runtime.js';

const SHORT_TIMEOUTS = { WARTA_HTTP_HEADERS_TIMEOUT_SECONDS: '1', WARTA_HTTP_REQUEST_TIMEOUT_SECONDS: '1', WARTA_HTTP_KEEPALIVE_TIMEOUT_SECONDS: '1' };

const SLOW_BODY = 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type';

/** A raw connection: what the server sent, whether it has closed, and a promise of the close. */
async function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  cleanUpLater(() => void socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  const connection = { socket, received: '', isClosed: false, closed: new Promise<void>((resolve) => socket.once('close', () => resolve())) };
  socket.on('data', (chunk) => (connection.received += String(chunk)));
  socket.on('error', () => {});
  void connection.closed.then(() => (connection.isClosed = true));
  return connection;
}

/** Writes one byte of `text` every 100 ms, as a slowloris client does to look alive; stops when the socket closes. */
function trickle(socket: net.Socket, text: string): void {
  let next = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || next >= text.length) return clearInterval(timer);
    socket.write(text[next++]!);
  }, 100);
  socket.once('close', () => clearInterval(timer));
  cleanUpLater(() => clearInterval(timer));
}

/** Warta on a second port as it was served before the limits were set: @hono/node-server with Node's defaults. */
async function serveWithNodeDefaults(app: ReturnType<typeof createApp>): Promise<number> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
    cleanUpLater(
      () =>
        new Promise<void>((closed) => {
          (server as Server).closeAllConnections();
          server.close(() => closed());
        }),
    );
  });
}

const server = await startWartaServer({ env: SHORT_TIMEOUTS });

describe('slow clients', () => {
  it('are served with the configured header, request and keep-alive deadlines', () => {
    expect(server.httpServer).toMatchObject({ headersTimeout: 1000, requestTimeout: 1000, keepAliveTimeout: 1000 });
  });

  it('closes the socket of a client that never finishes its body, or trickles it, once the request deadline passes', async () => {
    const unprotectedPort = await serveWithNodeDefaults(createApp(server.runtime));

    const stalled = await connect(server.port);
    stalled.socket.write(SLOW_BODY);
    const trickling = await connect(server.port);
    trickling.socket.write(SLOW_BODY);
    trickle(trickling.socket, '='.repeat(990));
    // The same attack on Node's defaults (300 s to send a request), for contrast.
    const unprotected = await connect(unprotectedPort);
    unprotected.socket.write(SLOW_BODY);
    trickle(unprotected.socket, '='.repeat(990));

    await Promise.all([stalled.closed, trickling.closed]);
    for (const connection of [stalled, trickling]) expect(connection.received).toMatch(/^(HTTP\/1\.1 408 |$)/);
    expect(unprotected.isClosed).toBe(false);
    expect(unprotected.received).toBe('');
  });

  it('closes the socket of a client that sends its headers slowly, once the header deadline passes', async () => {
    const slowloris = await connect(server.port);
    slowloris.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    trickle(slowloris.socket, 'X-Padding: '.concat('a'.repeat(200)));
    await slowloris.closed;
    expect(slowloris.received).toMatch(/^(HTTP\/1\.1 408 |$)/);
  });

  it('closes an idle kept-alive connection after the keep-alive timeout', async () => {
    const idle = await connect(server.port);
    const answered = new Promise<void>((resolve) => idle.socket.on('data', () => idle.received.includes('{"status":"ok"}') && resolve()));
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await answered;
    expect(idle.received).toMatch(/^HTTP\/1\.1 200 /);
    await idle.closed;
  });
});
