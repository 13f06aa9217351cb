import net from 'node:net';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { Database } from '../../src/db/schema.js';
import { ErrorSummary, type IntervalTimer } from '../../src/http/error-summary.js';
import { startWartaServer } from '../support/browser.js';
import { cleanUpLater, createTestRuntime } from '../support/runtime.js';
import { capturingLogger } from '../support/capturing-logger.js';

const runtime = await createTestRuntime();

/** A logger writing into an array of parsed lines, and a summary of repeated errors writing to it whose interval the test ticks. */
function capturingLog() {
  const { log, lines } = capturingLogger();
  let tick: (() => void) | undefined;
  const timer: IntervalTimer = (_intervalMs, onTick) => {
    tick = onTick;
    return () => (tick = undefined);
  };
  const errorSummary = new ErrorSummary(log, { clock: runtime.clock, timer });
  return { log, errorSummary, lines, tick: () => tick?.() };
}

/** Resolves once a line matching `predicate` is logged. */
function logged(lines: Record<string, any>[], predicate: (line: Record<string, any>) => boolean): Promise<Record<string, any>> {
  return new Promise((resolve) => {
    const poll = () => {
      const line = lines.find(predicate);
      if (line) resolve(line);
      else setImmediate(poll);
    };
    poll();
  });
}

describe('a client that leaves before the response', () => {
  it.each([
    ['a form body', '/token', 'application/x-www-form-urlencoded', 'grant_type'],
    ['a JSON body', '/api/invitations/lookup', 'application/json', '{"token":"'],
  ])('is logged at info with status 499, never as a failed request (%s)', async (_body, path, contentType, start) => {
    const { log, errorSummary, lines } = capturingLog();
    const server = await startWartaServer({ runtime: { ...runtime, log, errorSummary } });
    const requestArrived = new Promise((resolve) => server.httpServer.once('request', resolve));
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    // A declared body of 1000 bytes, 10 of them sent, then the connection is gone.
    socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: 1000\r\n\r\n${start}`);
    await requestArrived;
    socket.destroy();

    const access = await logged(lines, (line) => line.msg === 'request' && line.path === path);
    expect(access).toMatchObject({ level: 30, method: 'POST', status: 499 });
    expect(lines.find((line) => line.code === 'client_closed_request')).toMatchObject({ level: 30, requestId: access.requestId, msg: 'client closed the request before the response' });
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    expect(lines.some((line) => line.status === 500 || line.status === 503 || line.msg === 'request failed')).toBe(false);
  });
});

describe('a database outage', () => {
  it('writes a bounded number of error lines however many requests fail with 503', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://nobody:nothing@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    pool.on('error', () => {});
    const downDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    cleanUpLater(() => downDb.destroy());
    const { log, errorSummary, lines, tick } = capturingLog();
    const app = createApp({ ...runtime, db: downDb, log, errorSummary });

    const storm = 200;
    for (let i = 0; i < storm; i++) {
      const response = await app.request('/api/invitations/lookup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: `t${i}` }) });
      expect(response.status).toBe(503);
    }
    tick();

    const failures = lines.filter((line) => line.msg !== 'request');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ level: 50, code: 'temporarily_unavailable', msg: 'request failed' });
    expect(failures[1]).toMatchObject({ level: 50, code: 'temporarily_unavailable', count: storm - 1, msg: `request failed: repeated ${storm - 1} times` });
    // The access log still has one line per request, at info: an operator who wants only the failures sets WARTA_LOG_LEVEL=warn.
    expect(lines.filter((line) => line.msg === 'request' && line.status === 503 && line.level === 30)).toHaveLength(storm);
  });
});
