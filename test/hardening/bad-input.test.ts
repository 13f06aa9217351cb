/**
 * Generated bad input against every route in the app's route table, so a new
 * route is covered without anyone remembering it: wrong types, huge and deeply
 * nested values, NUL and invalid UTF-8, duplicate parameters, wrong content
 * types, truncated base64url, CBOR and JWTs, oversized bodies, garbage
 * credentials. Sent over real HTTP as an anonymous caller and as signed-in
 * people of every role. Every answer must be below 500, every refusal a stable
 * error code, and a refusal may write nothing but counters and audit entries.
 * Seeded: a failure prints its seed and path, and reproduces.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { Role } from '../../src/db/schema.js';
import { startWartaServer } from '../support/browser.js';
import { createTestUser, sessionCookie } from '../support/runtime.js';

const SEED = 20261130;
const CASES_PER_ROUTE = Number(process.env.WARTA_BAD_INPUT_CASES ?? 12);
/** Tables a refused request may still write: per-address counters, the audit of the refusal, and what the test itself creates. */
const MAY_GROW_ON_REFUSAL = new Set(['rate_limits', 'audit_log', 'anonymous_failure_counts', 'sessions']);

const server = await startWartaServer();
const runtime = server.runtime;

const routes = [...new Map(createApp(runtime).routes.filter((r) => r.method !== 'ALL').map((r) => [`${r.method} ${r.path}`, { method: r.method, path: r.path }])).values()];

const tables = (
  await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'kysely_%' order by 1`.execute(runtime.db)
).rows.map((row) => row.name);
const countsQuery = sql.raw(`select ${tables.map((t) => `(select count(*) from "${t}")::int as "${t}"`).join(', ')}`);
const rowCounts = async () => (await sql<Record<string, number>>`${countsQuery}`.execute(runtime.db)).rows[0]!;

const people: Record<Role | 'anonymous', () => Promise<string | undefined>> = { anonymous: async () => undefined } as never;
const organisation = (await createTestUser(runtime, { role: 'admin' })).organisation_id;
for (const role of ['member', 'admin', 'recovery_officer', 'operator'] as Role[]) {
  const user = await createTestUser(runtime, { role: role === 'operator' ? 'admin' : role, organisationId: organisation });
  // The operator role comes only from bootstrap or two operators; the test grants it directly.
  if (role === 'operator') await runtime.db.insertInto('user_roles').values({ user_id: user.id, role, granted_at: runtime.clock.now() }).execute();
  people[role] = () => sessionCookie(runtime, user);
}

// ---- generators ----------------------------------------------------------

const percentEncodeBytes = (bytes: Uint8Array) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** A percent-encoded URL component: readable text, raw bytes (invalid UTF-8 included), or known troublemakers. */
const component = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
  fc.uint8Array({ maxLength: 24 }).map(percentEncodeBytes),
  fc.uuid(),
  fc.constantFrom('%00', 'a%00b', '%FF', '%C3%28', '%ED%A0%80', '%E2%82', '%', '%zz', '..', '%2e%2e', '%2F', '0', '-1', 'null', 'x'.repeat(3000)),
);

const PARAMETER_NAMES = ['client_id', 'client_secret', 'response_type', 'redirect_uri', 'scope', 'state', 'nonce', 'code', 'code_challenge', 'code_challenge_method', 'code_verifier', 'grant_type', 'refresh_token', 'token', 'request_uri', 'prompt', 'max_age', 'acr_values', 'ui_locales', 'id_token_hint', 'post_logout_redirect_uri', 'client_assertion', 'client_assertion_type', 'return_to', 'device_name', 'desk', 'lang'];
const parameterName = fc.oneof(fc.constantFrom(...PARAMETER_NAMES), component);
const parameters = fc.array(fc.tuple(parameterName, component), { maxLength: 8 }).chain((pairs) =>
  // Duplicates on purpose half the time.
  fc.boolean().map((duplicate) => (duplicate && pairs.length ? [...pairs, pairs[0]!] : pairs).map(([name, value]) => `${name}=${value}`).join('&')),
);

const truncatedJwt = fc.tuple(fc.uint8Array({ maxLength: 60 }), fc.uint8Array({ maxLength: 60 }), fc.uint8Array({ maxLength: 60 }), fc.nat(3)).map(([h, p, s, keep]) => [b64url(h), b64url(p), b64url(s)].slice(0, keep + 1).join('.'));
const truncatedCbor = fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.constant(new Uint8Array([0xa3, 0x63, 0x66, 0x6d, 0x74])), fc.constant(new Uint8Array([0xbf, 0xff, 0xff]))).map(b64url);
const webauthnCredential = fc.record({
  id: fc.uint8Array({ maxLength: 40 }).map(b64url),
  rawId: fc.oneof(fc.uint8Array({ maxLength: 40 }).map(b64url), fc.string()),
  type: fc.constantFrom('public-key', 'password', ''),
  response: fc.record({ clientDataJSON: fc.oneof(truncatedCbor, fc.constant(b64url(Buffer.from('{"type":"webauthn.get","challenge":"","origin":"x"}')))), attestationObject: truncatedCbor, authenticatorData: truncatedCbor, signature: truncatedCbor, userHandle: fc.option(truncatedCbor) }, { requiredKeys: [] }),
  clientExtensionResults: fc.oneof(fc.constant({}), fc.jsonValue({ maxDepth: 2 })),
}, { requiredKeys: [] });

const JSON_KEYS = ['username', 'password', 'code', 'totp', 'credential', 'invitation', 'display_name', 'email', 'employee_id', 'role', 'client_name', 'redirect_uris', 'scope', 'grant_types', 'url', 'audience', 'events', 'reason', 'name', 'desk', 'identity', 'document', 'confirm_last_method', 'secret', 'policy'];
const hostileString = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('a\u0000b', '\ud800', 'x\u001bz', '', ' ', 'A'.repeat(20_000), '../../etc/passwd', '<script>alert(1)</script>', "' or 1=1 --"));
const jsonLeaf = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), truncatedJwt, truncatedCbor, webauthnCredential);
const jsonObject = fc.dictionary(fc.oneof(fc.constantFrom(...JSON_KEYS), fc.string({ unit: 'binary', maxLength: 12 })), fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 4 }), fc.jsonValue({ maxDepth: 3 })), { maxKeys: 6 });
const deepJson = fc.integer({ min: 30, max: 5000 }).map((depth) => `{"username":${'['.repeat(depth)}${']'.repeat(depth)}}`);

type Body = { contentType?: string; body?: string | Uint8Array };
const body: fc.Arbitrary<Body> = fc.oneof(
  fc.constant({}),
  jsonObject.map((value) => ({ contentType: 'application/json', body: JSON.stringify(value) })),
  fc.jsonValue({ maxDepth: 4 }).map((value) => ({ contentType: 'application/json', body: JSON.stringify(value) })),
  deepJson.map((text) => ({ contentType: 'application/json', body: text })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ contentType: 'application/json', body: bytes })),
  fc.string({ maxLength: 60 }).map((text) => ({ contentType: 'application/json', body: text })),
  parameters.map((text) => ({ contentType: 'application/x-www-form-urlencoded', body: text })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ contentType: 'application/x-www-form-urlencoded', body: bytes })),
  fc.constantFrom('text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1', '').chain((contentType) => fc.string({ maxLength: 80 }).map((text) => ({ contentType, body: text }))),
  // Over the 64 KiB body limit.
  fc.constant({ contentType: 'application/json', body: `{"username":"${'a'.repeat(70 * 1024)}"}` }),
);

const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const authorization = fc.option(
  fc.oneof(
    fc.uint8Array({ maxLength: 40 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
    printable.map((text) => `Basic ${text}`),
    truncatedJwt.map((jwt) => `Bearer ${jwt}`),
    truncatedJwt.map((jwt) => `DPoP ${jwt}`),
    printable,
  ),
  { nil: undefined },
);

const request = fc.record({
  who: fc.constantFrom('anonymous', 'member', 'admin', 'recovery_officer', 'operator') as fc.Arbitrary<Role | 'anonymous'>,
  params: fc.array(component, { minLength: 4, maxLength: 4 }),
  query: fc.option(parameters, { nil: undefined }),
  body,
  authorization,
  dpop: fc.option(truncatedJwt, { nil: undefined }),
});

// ---- the run ---------------------------------------------------------------

const tally = { cases: 0, statuses: new Map<number, number>() };

afterAll(() => {
  const statuses = [...tally.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ');
  console.log(`bad input: ${routes.length} routes, ${tally.cases} generated requests (seed ${SEED}); answers ${statuses}; no 5xx, and no refusal wrote a row outside ${[...MAY_GROW_ON_REFUSAL].join(', ')}`);
});

describe('generated bad input, every route', () => {
  it('finds the routes', () => {
    expect(routes.length).toBeGreaterThan(100);
    expect(tables).toContain('users');
  });

  for (const [index, route] of routes.entries())
    it(`${route.method} ${route.path}`, async () => {
      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          let slot = 0;
          const path = route.path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, () => input.params[slot++ % 4]!).replace(/\*$/, input.params[3]!);
          const cookie = await people[input.who]();
          const headers: Record<string, string> = { origin: server.url, 'x-forwarded-for': `10.9.${index}.${tally.cases % 250}` };
          if (cookie) headers.cookie = cookie;
          if (input.body.contentType) headers['content-type'] = input.body.contentType;
          if (input.authorization) headers.authorization = input.authorization;
          if (input.dpop) headers.dpop = input.dpop;
          const sendsBody = route.method !== 'GET' && route.method !== 'HEAD' && input.body.body !== undefined;

          const before = await rowCounts();
          const response = await fetch(`${server.url}${path}${input.query === undefined ? '' : `?${input.query}`}`, { method: route.method, headers, redirect: 'manual', ...(sendsBody ? { body: input.body.body as BodyInit } : {}) });
          const text = await response.text();
          tally.cases += 1;
          tally.statuses.set(response.status, (tally.statuses.get(response.status) ?? 0) + 1);

          expect(response.status, text.slice(0, 300)).toBeLessThan(500);
          const type = response.headers.get('content-type') ?? '';
          // SCIM answers in its own error envelope (RFC 7644 §3.12); everything else with a stable `error` code.
          if (response.status >= 400 && route.method !== 'HEAD' && type.startsWith('application/scim+json')) expect(JSON.parse(text)).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(response.status) });
          else if (response.status >= 400 && route.method !== 'HEAD' && type.includes('json')) expect(JSON.parse(text).error).toMatch(/^[a-z_]+$/);
          if (response.status >= 400) {
            const after = await rowCounts();
            const grown = tables.filter((t) => !MAY_GROW_ON_REFUSAL.has(t) && after[t] !== before[t]);
            expect(grown, `a ${response.status} changed rows`).toEqual([]);
          }
        }),
        { seed: SEED + index, numRuns: CASES_PER_ROUTE, endOnFailure: true },
      );
    });
});
