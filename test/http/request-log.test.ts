import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { capturingLogger } from '../support/capturing-logger.js';
import { cleanUpLater, createTestRuntime } from '../support/runtime.js';

const runtime = await createTestRuntime();

describe('the access log', () => {
  it('writes one line per request at info with its id, method, path, status, duration and address, and nothing else', async () => {
    const { log, lines } = capturingLogger();
    const app = createApp({ ...runtime, log });
    await app.request('/healthz?token=from-the-query', { headers: { 'x-request-id': 'access-log-1', authorization: 'Bearer from-a-header' } });
    await app.request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=nobody&client_secret=from-the-body' });
    const access = lines.filter((line) => line.msg === 'request');
    expect(access).toHaveLength(2);
    expect(Object.keys(access[0]!).sort()).toEqual(['ip', 'level', 'method', 'ms', 'msg', 'path', 'requestId', 'service', 'status', 'time']);
    expect(access[0]).toMatchObject({ level: 30, service: 'warta', requestId: 'access-log-1', method: 'GET', path: '/healthz', status: 200, ms: expect.any(Number), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(access[1]).toMatchObject({ method: 'POST', path: '/token', status: 401 });
    for (const secret of ['from-the-query', 'from-a-header', 'from-the-body']) expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it('names the address at the other end of the socket when served over HTTP', async () => {
    const { log, lines } = capturingLogger();
    // Served as src/server.ts serves it: app.fetch itself, which receives the node bindings.
    const server = serve({ fetch: createApp({ ...runtime, log }).fetch, port: 0, hostname: '127.0.0.1' });
    cleanUpLater(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise((resolve) => (server.listening ? resolve(undefined) : server.once('listening', resolve)));
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`, { headers: { connection: 'close' } });
    expect(response.status).toBe(200);
    expect(lines.find((line) => line.msg === 'request' && line.path === '/healthz')).toMatchObject({ ip: '127.0.0.1', status: 200 });
  });
});
