import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { connectDatabase, DatabaseUnavailableError } from '../../src/db/connect.js';
import type { Database } from '../../src/db/schema.js';
import { CONTENT_SECURITY_POLICY, securityHeaderRecord } from '../../src/http/security-headers.js';
import { createTestRuntime, testClient, cleanUpLater } from '../support/runtime.js';

const runtime = await createTestRuntime();
const { request } = testClient(runtime);

describe('HTTP basics', () => {
  it('answers /healthz and /readyz when the database is reachable and migrated', async () => {
    expect(await (await request('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
  });

  it('sets the security headers on every response, with a CSP naming no other host', async () => {
    for (const path of ['/healthz', '/no-such-page', '/.well-known/jwks.json']) {
      const res = await request(path);
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-request-id')).toMatch(/^[\w-]+$/);
    }
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|\*/);
    // plain-http issuer: no HSTS
    expect((await request('/healthz')).headers.get('strict-transport-security')).toBeNull();
  });

  it('sends each security header once, and a handler\'s own value instead of the default', async () => {
    // Built in one piece (the JWKS) and through hono (the health check, the 404): the same headers either way.
    for (const path of ['/.well-known/jwks.json', '/healthz', '/no-such-page']) {
      const res = await request(path);
      for (const [name, value] of Object.entries(securityHeaderRecord({ hsts: false })))
        if (name !== 'Cache-Control') expect(res.headers.get(name), `${path} ${name}`).toBe(value);
      expect(res.headers.get('x-request-id')).toMatch(/^[\w-]+$/);
    }
    expect((await request('/.well-known/jwks.json')).headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect((await request('/.well-known/openid-configuration')).headers.get('cache-control')).toBe('public, max-age=300');
    expect((await request('/healthz')).headers.get('cache-control')).toBe('no-store');
  });

  it('answers with the request id a client sent when it is short and plain, else with its own', async () => {
    expect((await request('/healthz', { headers: { 'x-request-id': 'trace-42' } })).headers.get('x-request-id')).toBe('trace-42');
    for (const sent of ['x'.repeat(65), 'two words', 'a;b']) {
      const own = (await request('/healthz', { headers: { 'x-request-id': sent } })).headers.get('x-request-id');
      expect(own).not.toBe(sent);
      expect(own).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('puts the security headers on an error a router answers itself (SCIM)', async () => {
    const res = await request('/scim/v2/Users', { headers: { authorization: 'Bearer not-a-token' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-request-id')).toMatch(/^[\w-]+$/);
  });

  it('sends HSTS when the issuer is https', async () => {
    const https = await createTestRuntime({ env: { WARTA_ISSUER: 'https://id.example.gov' } });
    const res = await testClient(https).request('/healthz');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  it('uses one JSON error shape with a stable code', async () => {
    const res = await request('/no-such-page');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
  });

  it('refuses oversized bodies with 413 before reading them', async () => {
    const res = await request('/api/invitations/lookup', { method: 'POST', json: { token: 'x'.repeat(70 * 1024) } });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'request_too_large' });
  });

  it('fails closed: with the database down, requests get 503, never a sign-in or a 500', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://nobody:nothing@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    pool.on('error', () => {});
    const downDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    cleanUpLater(() => downDb.destroy());
    const app = createApp({ ...runtime, db: downDb });
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable' });
    const lookup = await app.request('/api/invitations/lookup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'abc' }) });
    expect(lookup.status).toBe(503);
    expect(lookup.headers.get('retry-after')).toBe('5');
    expect(await lookup.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('retries a database that is down at start with back-off, then gives a clear error', async () => {
    const retries: number[] = [];
    const error = await connectDatabase({ databaseUrl: 'postgres://nobody:nothing@127.0.0.1:1/none', pgliteDir: 'memory://', poolSize: 1, attempts: 3, onRetry: (_n, delay) => retries.push(delay) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/^cannot reach the database after 3 attempts: ECONNREFUSED/);
    expect(retries).toEqual([250, 500]);
  });
});

describe('logs', () => {
  it('are JSON lines with a request id, and never contain the token a request carried', async () => {
    const { createLogger } = await import('../../src/log.js');
    const { createInvitation } = await import('../../src/invitations/service.js');
    const { createOrganisation } = await import('../../src/orgs/service.js');
    const lines: string[] = [];
    const log = createLogger('debug', { write: (line: string) => lines.push(line) });
    const app = createApp({ ...runtime, log });
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Logging Office' });
    const { token } = await createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'L', email: 'l@example.gov', role: 'member' });
    await app.request('/api/invitations/lookup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    await app.request(`/enroll?invitation=${token}`);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      const entry = JSON.parse(line) as { requestId?: string };
      expect(entry.requestId).toMatch(/^[\w-]+$/);
      expect(line).not.toContain(token);
    }
  });
});
