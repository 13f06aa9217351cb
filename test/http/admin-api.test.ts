/**
 * The admin API as a whole: its OpenAPI document is valid and lists every
 * /api/admin/* route the app serves, and an authorization matrix, generated
 * from the app's route table so a new route is covered without being listed,
 * shows every admin route refusing everyone but an admin of the organisation
 * with a passkey used in the last five minutes, writing nothing when it refuses.
 */
import { randomUUID } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createGroup } from '../../src/groups/service.js';
import { setEmailDomains } from '../../src/authority/email-domains.js';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { addReceiver } from '../../src/events/receivers.js';
import { ADMIN_API_DOCUMENT_PATH } from '../../src/http/admin-api-document.js';
import { createInvitation } from '../../src/invitations/service.js';
import { policyVersion } from '../../src/orgs/policy-check.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';

const runtime = await createTestRuntime({ env: { WARTA_OUTBOUND_ALLOW: 'siem.example.gov,planted.example.gov' } });
const { app, request } = testClient(runtime);
const origin = runtime.config.origin;

/** Tables a refused request may still write: counters, the audit of the refusal, the sessions the test makes. */
const MAY_GROW_ON_REFUSAL = new Set(['rate_limits', 'audit_log', 'anonymous_failure_counts', 'sessions']);
const tables = (
  await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'kysely_%' order by 1`.execute(runtime.db)
).rows.map((row) => row.name);
const countsQuery = sql.raw(`select ${tables.map((t) => `(select count(*) from "${t}")::int as "${t}"`).join(', ')}`);
const rowCounts = async () => (await sql<Record<string, number>>`${countsQuery}`.execute(runtime.db)).rows[0]!;

const routesUnder = (prefix: string) => [
  ...new Map(app.routes.filter((route) => route.method !== 'ALL' && route.path.startsWith(prefix)).map((route) => [`${route.method} ${route.path}`, { method: route.method, path: route.path }])).values(),
];
const adminRoutes = routesUnder('/api/admin/');
const operatorRoutes = routesUnder('/api/operator/');

// ---- the people --------------------------------------------------------------

const admin = await createTestUser(runtime, { role: 'admin' });
const organisationId = admin.organisation_id;
// The organisation may invite at example.gov, so the allowed admin's invitation goes through.
await setEmailDomains(runtime, { actor: 'test' }, { organisationId, domains: ['example.gov'] });
const member = await createTestUser(runtime, { role: 'member', organisationId });
const officer = await createTestUser(runtime, { role: 'recovery_officer', organisationId });
const staleAdmin = await createTestUser(runtime, { role: 'admin', organisationId });
const passwordAdmin = await createTestUser(runtime, { role: 'admin', organisationId });
const otherAdmin = await createTestUser(runtime, { role: 'admin' });
// The person the people routes act on: nobody whose session the matrix uses.
const person = await createTestUser(runtime, { role: 'member', organisationId });

const operator = await createTestUser(runtime, { role: 'admin' });
// The operator role comes only from bootstrap or two operators; the test grants it directly.
await runtime.db.insertInto('user_roles').values({ user_id: operator.id, role: 'operator', granted_at: runtime.clock.now() }).execute();

const staleOperator = await createTestUser(runtime, { role: 'admin' });
await runtime.db.insertInto('user_roles').values({ user_id: staleOperator.id, role: 'operator', granted_at: runtime.clock.now() }).execute();
const staleOperatorCookie = await sessionCookie(runtime, staleOperator);

const freshAdminCookie = await sessionCookie(runtime, admin);
const freshOperatorCookie = await sessionCookie(runtime, operator);
const staleAdminCookie = await sessionCookie(runtime, staleAdmin);
// A passkey sign-in ten minutes ago: the session lives on, the re-authentication window has closed.
for (const stale of [staleAdmin, staleOperator]) await runtime.db.updateTable('sessions').set({ auth_time: new Date(runtime.clock.now().getTime() - 10 * 60_000) }).where('user_id', '=', stale.id).execute();
// A fresh sign-in, but with a password and TOTP code: never enough for authority.
const passwordOperatorCookie = await sessionCookie(runtime, staleOperator, ['pwd', 'otp', 'mfa']);

const machine = await registerClient(runtime, { actor: 'test' }, { client_name: 'Directory sync', grant_types: ['client_credentials'], scope: 'directory:read' }, { authority: OPERATOR });
const issued = await app.request('/token', {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${machine.client_id}:${machine.client_secret}`).toString('base64')}` },
  body: 'grant_type=client_credentials&scope=directory%3Aread',
});
const machineToken = ((await issued.json()) as { access_token: string }).access_token;

type Identity = { name: string; headers: Record<string, string>; refusedWith: number[] };
const refused: Identity[] = [
  { name: 'anonymous', headers: {}, refusedWith: [401] },
  { name: 'member', headers: { cookie: await sessionCookie(runtime, member) }, refusedWith: [403] },
  { name: 'recovery_officer', headers: { cookie: await sessionCookie(runtime, officer) }, refusedWith: [403] },
  { name: 'admin, passkey not re-verified in five minutes', headers: { cookie: staleAdminCookie }, refusedWith: [403] },
  { name: 'admin, password and TOTP session', headers: { cookie: await sessionCookie(runtime, passwordAdmin, ['pwd', 'otp', 'mfa']) }, refusedWith: [403] },
  { name: 'client-credentials machine token', headers: { authorization: `Bearer ${machineToken}` }, refusedWith: [401] },
];
const otherOrganisationAdmin: Identity = { name: 'admin of another organisation', headers: { cookie: await sessionCookie(runtime, otherAdmin) }, refusedWith: [404] };

// ---- the organisation's things, for the routes that name one -----------------

const privilegedInvitation = await createInvitation(runtime, { actor: 'test' }, { organisationId, displayName: 'Waiting Officer', email: 'waiting.officer@example.gov', role: 'recovery_officer' });
const ownClient = await registerClient(runtime, { actor: 'test' }, { client_name: 'Payroll', redirect_uris: ['https://payroll.example.gov/cb'] }, { authority: { kind: 'admin', organisationId } as never });
const receiver = await addReceiver(runtime, { actor: 'test' }, { organisationId, url: 'https://siem.example.gov/set', audience: 'siem' });
const waitingRoleRequest = await runtime.db
  .insertInto('role_requests')
  .values({ id: randomUUID(), organisation_id: organisationId, user_id: person.id, kind: 'grant', role: 'recovery_officer', reason: 'desk', requested_by: staleAdmin.id, requested_at: runtime.clock.now(), expires_at: new Date(runtime.clock.now().getTime() + 3600_000), status: 'pending' })
  .returning('id')
  .executeTakeFirstOrThrow();
/** The organisation's own thing a route's `{id}` names, by the area of the path; a new area falls back to an unknown id. */
const ownGroup = await createGroup(runtime, { actor: 'test' }, { organisationId, name: 'Own unit' });
const waitingChangeRequest = await runtime.db
  .insertInto('change_requests')
  .values({ id: randomUUID(), organisation_id: organisationId, kind: 'group.unflag', group_id: ownGroup.id, change: '{}', requested_by: staleAdmin.id, requested_at: runtime.clock.now(), expires_at: new Date(runtime.clock.now().getTime() + 3600_000), status: 'pending' })
  .returning('id')
  .executeTakeFirstOrThrow();
const ownIds: Record<string, string> = {
  invitations: privilegedInvitation.invitation.id,
  clients: ownClient.client_id,
  'event-receivers': receiver.id,
  people: person.id,
  'role-requests': waitingRoleRequest.id,
  'change-requests': waitingChangeRequest.id,
  groups: ownGroup.id,
};
const idFor = (path: string) => ownIds[path.split('/')[3] ?? ''] ?? randomUUID();
const concretePath = (path: string, id: string) => path.replace(/:[A-Za-z_]+/g, id);

/** A body with what each admin route takes, so that a guard left out would let the act through. */
const body = JSON.stringify({ display_name: 'Planted Person', email: 'planted@example.gov', role: 'admin', client_name: 'Planted', redirect_uris: ['https://planted.example.gov/cb'], url: 'https://planted.example.gov/set', audience: 'planted', reason: 'planted', confirm: true, policy: {}, expected_version: policyVersion({}), csv: 'display_name,email,role\nPlanted Person,planted.bulk@example.gov,member', dry_run: false, user_id: person.id, value: 'planted', sensitive: true });

const send = (route: { method: string; path: string }, headers: Record<string, string>, id = idFor(route.path)) =>
  app.request(concretePath(route.path, id), {
    method: route.method,
    headers: { origin, ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(route.method === 'GET' || route.method === 'HEAD' ? {} : { body }),
  });

// ---- the document -------------------------------------------------------------

describe('the admin API document', () => {
  it('is refused without an admin passkey session, and is valid OpenAPI 3.1 for one', async () => {
    expect((await request(ADMIN_API_DOCUMENT_PATH)).status).toBe(401);
    const reply = await request(ADMIN_API_DOCUMENT_PATH, { cookie: freshAdminCookie });
    expect(reply.status).toBe(200);
    const document = (await reply.json()) as { openapi: string; info: { title: string; version: string } };
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('Warta admin API');
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it('lists every /api/admin/* and /api/operator/* route the app serves, with its method', async () => {
    const document = (await (await request(ADMIN_API_DOCUMENT_PATH, { cookie: freshAdminCookie })).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`)));
    const undocumented = [...adminRoutes, ...operatorRoutes].map((route) => `${route.method} ${route.path}`).filter((route) => !documented.has(route));
    expect(undocumented).toEqual([]);
    expect(adminRoutes.length).toBeGreaterThanOrEqual(14);
    expect(operatorRoutes.length).toBeGreaterThanOrEqual(4);
  });
});

// ---- the matrix ---------------------------------------------------------------

const outcomes = new Map<string, number>();
const tally = (identity: string, status: number) => outcomes.set(`${identity} ${status}`, (outcomes.get(`${identity} ${status}`) ?? 0) + 1);

afterAll(() => {
  const summary = [...outcomes].map(([outcome, n]) => `${outcome}×${n}`).join('; ');
  console.log(`admin authorization matrix: ${adminRoutes.length} admin routes × ${refused.length + 2} identities, ${operatorRoutes.length} operator routes × ${refused.length + 4} identities; ${summary}`);
});

describe('authorization matrix over every /api/admin/* route', () => {
  for (const route of adminRoutes)
    it(`${route.method} ${route.path}`, async () => {
      for (const identity of refused) {
        const before = await rowCounts();
        const reply = await send(route, identity.headers);
        tally(identity.name, reply.status);
        expect(identity.refusedWith, `${identity.name}: ${await reply.clone().text()}`).toContain(reply.status);
        expect(((await reply.json()) as { error: string }).error).toMatch(/^(login_required|forbidden|reauthentication_required|invalid_token)$/);
        const after = await rowCounts();
        expect(tables.filter((t) => !MAY_GROW_ON_REFUSAL.has(t) && after[t] !== before[t]), `${identity.name} changed rows`).toEqual([]);
      }

      // Another organisation's admin, fresh passkey: the organisation's thing is not found; a collection answers with their own organisation only.
      const before = await rowCounts();
      const foreign = await send(route, otherOrganisationAdmin.headers);
      tally(otherOrganisationAdmin.name, foreign.status);
      const text = await foreign.text();
      if (route.path.includes('/:')) {
        expect(foreign.status, text).toBe(404);
        const after = await rowCounts();
        expect(tables.filter((t) => !MAY_GROW_ON_REFUSAL.has(t) && after[t] !== before[t])).toEqual([]);
      } else expect(foreign.status, text).toBeLessThan(500);
      expect(text).not.toContain(organisationId);

      // The one allowed caller reaches the handler (an unknown id keeps the organisation's things for the next route).
      const allowed = await send(route, { cookie: freshAdminCookie }, randomUUID());
      tally('admin with a fresh passkey', allowed.status);
      expect([401, 403], await allowed.clone().text()).not.toContain(allowed.status);
      expect(allowed.status).toBeLessThan(500);
    });
});

describe('authorization matrix over every /api/operator/* route', () => {
  // An admin with a fresh passkey is refused too: incident response is the instance operator's, not an organisation's.
  const refusedHere = [
    ...refused,
    { name: 'admin with a fresh passkey, not an operator', headers: { cookie: freshAdminCookie }, refusedWith: [403] },
    { name: 'operator, passkey not re-verified in five minutes', headers: { cookie: staleOperatorCookie }, refusedWith: [403] },
    { name: 'operator, password and TOTP session', headers: { cookie: passwordOperatorCookie }, refusedWith: [403] },
  ];
  for (const route of operatorRoutes)
    it(`${route.method} ${route.path}`, async () => {
      for (const identity of refusedHere) {
        const before = await rowCounts();
        const reply = await send(route, identity.headers, randomUUID());
        tally(`${identity.name} (operator route)`, reply.status);
        expect(identity.refusedWith, `${identity.name}: ${await reply.clone().text()}`).toContain(reply.status);
        expect(((await reply.json()) as { error: string }).error).toMatch(/^(login_required|forbidden|reauthentication_required)$/);
        const after = await rowCounts();
        expect(tables.filter((t) => !MAY_GROW_ON_REFUSAL.has(t) && after[t] !== before[t]), `${identity.name} changed rows`).toEqual([]);
      }
      // The operator reaches the act, which refuses an unknown id or the missing reason: nothing is suspended or rotated here.
      const allowed = await send(route, { cookie: freshOperatorCookie }, randomUUID());
      tally('operator with a fresh passkey', allowed.status);
      expect([401, 403], await allowed.clone().text()).not.toContain(allowed.status);
      expect(allowed.status).toBeLessThan(500);
    });
});
