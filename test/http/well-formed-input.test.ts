/**
 * Strings from outside are checked where they enter: a NUL byte, a control
 * character, invalid UTF-8 or a lone surrogate is a 400 that changes nothing,
 * never a 500 from PostgreSQL ("invalid byte sequence for encoding UTF8: 0x00").
 * Over real HTTP, anonymous, at the endpoints where each used to reach the database.
 */
import { describe, expect, it } from 'vitest';
import { startWartaServer } from '../support/browser.js';
import { registerWebClient } from '../oidc/support.js';
import { Hono } from 'hono';
import { z } from 'zod';
import { createRoute } from '@hono/zod-openapi';
import { errorResponse } from '../../src/http/error-handler.js';
import { documentedRouter } from '../../src/http/openapi.js';
import { MAX_JSON_DEPTH, pathAndQuery, wellFormedInput } from '../../src/http/well-formed-input.js';

const server = await startWartaServer();
const runtime = server.runtime;
const client = await registerWebClient(runtime);

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}) {
  const response = await fetch(`${server.url}${path}`, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers: { origin: server.url, ...init.headers }, ...(init.body === undefined ? {} : { body: init.body as BodyInit }) });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

/**
 * Rows anonymous requests could write: none may appear for a refused request.
 * (Per-address request counters do count it, as they count every request: a flood of bad requests is still a flood.)
 */
async function rowCounts() {
  const count = async (table: 'audit_log' | 'webauthn_challenges' | 'oauth_authorization_requests') =>
    Number((await runtime.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { audit: await count('audit_log'), challenges: await count('webauthn_challenges'), requests: await count('oauth_authorization_requests') };
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });

describe('a NUL byte where an identifier is expected', () => {
  const cases: [string, Parameters<typeof send>[1], number, string][] = [
    ['/token', { headers: FORM, body: 'grant_type=client_credentials&client_id=a%00b&client_secret=x' }, 400, 'invalid_request'],
    ['/par', { headers: FORM, body: 'client_id=a%00b&response_type=code&redirect_uri=https%3A%2F%2Frp.example%2Fcb' }, 400, 'invalid_request'],
    ['/revoke', { headers: FORM, body: 'client_id=a%00b&token=abc' }, 400, 'invalid_request'],
    ['/authorize?client_id=a%00b&response_type=code&scope=openid', {}, 400, 'invalid_request'],
    ['/introspect', { headers: { ...FORM, ...basic('a\u0000b', 'secret') }, body: 'token=abc' }, 401, 'invalid_client'],
    ['/api/webauthn/authentication/options', { headers: JSON_TYPE, body: JSON.stringify({ username: 'a\u0000b' }) }, 400, 'invalid_request'],
    ['/api/signin/password', { headers: JSON_TYPE, body: JSON.stringify({ username: 'a\u0000b', password: 'x' }) }, 400, 'invalid_request'],
    ['/api/recovery/redeem', { headers: JSON_TYPE, body: JSON.stringify({ username: 'a\u0000b', code: 'ABCD-EFGH' }) }, 400, 'invalid_request'],
    [`/api/admin/clients/a%00b`, {}, 400, 'invalid_request'],
  ];

  for (const [path, init, status, error] of cases)
    it(`${init?.body === undefined ? 'GET' : 'POST'} ${path.split('?')[0]}: ${status} ${error}, nothing written`, async () => {
      const before = await rowCounts();
      const reply = await send(path, init);
      expect(reply.status, JSON.stringify(reply.body)).toBe(status);
      expect(reply.body.error).toBe(error);
      expect(await rowCounts()).toEqual(before);
    });
});

describe('broken encodings and control characters anywhere', () => {
  const refused: [string, Parameters<typeof send>[1]][] = [
    ['invalid UTF-8 in a form body', { headers: FORM, body: new Uint8Array([...Buffer.from('grant_type=client_credentials&scope='), 0xff, 0xfe]) }],
    ['a percent-encoded invalid UTF-8 sequence', { headers: FORM, body: 'grant_type=client_credentials&scope=%FF' }],
    ['a percent-encoded UTF-16 surrogate', { headers: FORM, body: 'grant_type=client_credentials&scope=%ED%A0%80' }],
    ['an escape character in a parameter name', { headers: FORM, body: 'grant_type=client_credentials&sc%1Bope=openid' }],
    ['a truncated percent escape', { headers: FORM, body: 'grant_type=client_credentials&scope=%E2%82' }],
  ];
  for (const [what, init] of refused)
    it(`refuses ${what} at /token with 400 invalid_request`, async () => {
      const reply = await send('/token', { ...init, headers: { ...init!.headers, ...basic(client.client_id, client.client_secret!) } });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
    });

  it('refuses a lone surrogate, an escaped NUL and a control character inside JSON, in values and in keys', async () => {
    for (const body of ['{"username":"\\ud800x"}', '{"username":"a\\u0000"}', '{"username":"a\\u0007b"}', '{"a\\u0000":"x"}', '{"nested":{"deeper":["ok","\\udfff"]}}']) {
      const reply = await send('/api/webauthn/authentication/options', { headers: JSON_TYPE, body });
      expect(reply.status, body).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
    }
  });

  it('refuses invalid UTF-8 in a JSON body instead of reading it as replacement characters', async () => {
    const reply = await send('/api/signin/password', { headers: JSON_TYPE, body: new Uint8Array([...Buffer.from('{"username":"a'), 0xc3, 0x28, ...Buffer.from('","password":"x"}')]) });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
  });

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels, and a very deep body does not exhaust the stack`, async () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 20_000]) {
      const reply = await send('/api/webauthn/authentication/options', { headers: JSON_TYPE, body: `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}` });
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
    }
  });

  it('refuses a NUL byte in a path segment of a page and in a query string of a GET', async () => {
    expect((await send('/signin?return_to=%2Faccount%00')).status).toBe(400);
    expect((await send('/recovery/cases/%00')).status).toBe(400);
    // A query string after an empty one, and a path segment after an encoded slash, are read too.
    expect((await send('/signin?a=1?return_to=%00')).status).toBe(400);
    expect((await send('/recovery/cases%2F%00')).status).toBe(400);
  });

  it('reads the path and query of a request URL exactly as the URL API does', () => {
    const urls = ['http://h/', 'http://h/a/b?x=1&y=%00#frag', 'http://[::1]:3000/p%2Fq?', 'http://h/a?b?c#d?e', 'http://h/a#b?c', 'https://u:p@h:1/x/y/?q', 'http://h/%E2%82%AC/a+b?c=d+e', 'http://h/?', 'http://h/#', 'http://h/a%ZZ?%C0', 'http://h/a/../b/./c?%2e%2e'];
    for (const raw of urls) {
      const url = new URL(raw);
      expect(pathAndQuery(url.href), raw).toEqual({ pathname: url.pathname, search: url.search });
    }
  });

  it('still accepts tabs, line breaks and any well-formed Unicode, in forms and JSON', async () => {
    const reply = await send('/token', { headers: { ...FORM, ...basic(client.client_id, client.client_secret!) }, body: `grant_type=client_credentials&scope=${encodeURIComponent('zażółć\tgęślą\njaźń 🙂')}` });
    // Past the input check: refused by the grant itself (this client may not use client_credentials).
    expect(reply.body.error).toBe('unauthorized_client');
    const options = await send('/api/webauthn/authentication/options', { headers: JSON_TYPE, body: JSON.stringify({ username: 'Łucja\tNowak 🙂' }) });
    expect(options.status, JSON.stringify(options.body)).toBe(200);
  });
});

describe('a route that reads JSON its own way (a schema-validated admin route)', () => {
  const router = documentedRouter();
  router.openapi(
    createRoute({ method: 'post', path: '/x', request: { body: { required: true, content: { 'application/json': { schema: z.object({ name: z.string().min(1) }) } } } }, responses: { 200: { description: 'ok' } } }),
    (c) => c.json({ name: c.req.valid('json').name }, 200),
  );
  const app = new Hono();
  app.use(wellFormedInput());
  app.route('/', router);
  app.onError((error, c) => errorResponse(c, runtime, error));
  const post = (body: string) => app.request('/x', { method: 'POST', headers: JSON_TYPE, body });

  it('is covered too: an escaped NUL never reaches it', async () => {
    const refused = await post('{"name":"a\\u0000b"}');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_request');
    expect(await (await post('{"name":"Ewa"}')).json()).toEqual({ name: 'Ewa' });
  });

  it('answers a body its schema refuses with 400 invalid_request naming the member, through the one error mapping', async () => {
    const refused = await post('{"name":""}');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^name: /) });
  });
});
