/**
 * Helpers for the recovery desk tests: an organisation with officers and a
 * member, each with a real (software) passkey and a cookie-keeping client, and
 * the steps of a case as the API takes them.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { hashToken, newToken } from '../../src/crypto/random.js';
import type { Role, User } from '../../src/db/schema.js';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { createGrant } from '../../src/grants/service.js';
import type { OrganisationPolicy } from '../../src/orgs/policy.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import type { TestRuntime } from '../support/runtime.js';
import { type Browser, browser, enrollmentOptions, inviteTo, origin, type Reply } from '../webauthn/ceremony.js';

export interface Person {
  user: User;
  client: Browser;
  authenticator: SoftAuthenticator;
}

/** A person enrolled from an invitation with a passkey, signed in on their own client (own address). */
export async function enrollPerson(runtime: Runtime, organisationId: string, role: Role = 'member'): Promise<Person> {
  const invitation = await inviteTo(runtime, { organisationId, role });
  const client = browser(runtime);
  const authenticator = new SoftAuthenticator();
  const creation = await enrollmentOptions(client, invitation.token);
  const reply = await client.post('/api/webauthn/enrollment/verify', { invitation: invitation.token, credential: authenticator.createCredential(creation, { origin: origin(runtime) }) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  const user = await runtime.db.selectFrom('users').selectAll().where('id', '=', reply.body.user.id).executeTakeFirstOrThrow();
  return { user, client, authenticator };
}

export const DESKS = ['Warsaw HQ — Desk 1', 'Warsaw HQ — Desk 2'];

/** An organisation with three officers (A opens, B and C approve) and the member to recover. */
export async function recoveryDesk(runtime: Runtime, policy: Partial<OrganisationPolicy> = {}) {
  const organisation = await createOrganisation(runtime, { actor: 'test' }, { name: `Recovery Org ${randomBytes(4).toString('hex')}`, policy: { recoveryDesks: DESKS, ...policy } });
  const [officerA, officerB, officerC, member] = await Promise.all([
    enrollPerson(runtime, organisation.id, 'recovery_officer'),
    enrollPerson(runtime, organisation.id, 'recovery_officer'),
    enrollPerson(runtime, organisation.id, 'recovery_officer'),
    enrollPerson(runtime, organisation.id, 'member'),
  ]);
  return { organisation, officerA: officerA!, officerB: officerB!, officerC: officerC!, member: member! };
}

export type Desk = Awaited<ReturnType<typeof recoveryDesk>>;

export const caseBody = (userId: string, overrides: Record<string, unknown> = {}) => ({
  user_id: userId,
  desk: DESKS[0],
  document_type: 'national_id',
  document_last4: '4kx9',
  identity_note: 'Photo matches.',
  reason: 'Phone stolen on 20 November; security key lost.',
  ...overrides,
});

export async function openCase(officer: Person, userId: string, overrides: Record<string, unknown> = {}): Promise<Reply> {
  return officer.client.post('/api/recovery/cases', caseBody(userId, overrides));
}

export async function openedCase(officer: Person, userId: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const reply = await openCase(officer, userId, overrides);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.case.id as string;
}

export const approve = (officer: Person, caseId: string, desk = DESKS[1]) => officer.client.post(`/api/recovery/cases/${caseId}/approve`, { desk });

/** Opened by A, approved by B: returns the case id and the code from the slip. */
export async function approvedCase(desk: Desk, person: Person = desk.member): Promise<{ caseId: string; code: string }> {
  const caseId = await openedCase(desk.officerA, person.user.id);
  const reply = await approve(desk.officerB, caseId);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return { caseId, code: reply.body.code as string };
}

/** `count` codes that differ from `code` in their first symbol, so each is a wrong guess. */
export function wrongCodes(code: string, count: number): string[] {
  return [...'0123456789ABCDEFGHJKMNPQRSTVWXYZ'].filter((symbol) => symbol !== code[0]).slice(0, count).map((symbol) => `${symbol}${code.slice(1)}`);
}

export const redeem = (client: Browser, username: string, code: string) => client.post('/api/recovery/redeem', { username, code });

/** The new passkey ceremony with a grant; returns the verify reply. */
export async function enrollWithGrant(runtime: Runtime, client: Browser, grant: string, authenticator = new SoftAuthenticator()): Promise<{ reply: Reply; authenticator: SoftAuthenticator }> {
  const options = await client.post('/api/recovery/passkey/options', { grant });
  expect(options.status, JSON.stringify(options.body)).toBe(200);
  const credential = authenticator.createCredential(options.body as never, { origin: origin(runtime) });
  return { reply: await client.post('/api/recovery/passkey/verify', { grant, credential, name: 'New laptop' }), authenticator };
}

export async function caseRow(runtime: Runtime, caseId: string) {
  return runtime.db.selectFrom('recovery_cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();
}

/** The security events raised for the user, by type, sorted by name (events of one moment have no order). */
export async function eventTypes(runtime: Runtime, userId: string): Promise<string[]> {
  const rows = await runtime.db.selectFrom('security_events').select('type').where('user_id', '=', userId).execute();
  return rows.map((row) => row.type).sort();
}

/** The audit actions recorded about one case, in order. */
export async function caseAuditActions(runtime: Runtime, caseId: string): Promise<string[]> {
  const rows = await runtime.db.selectFrom('audit_log').select('action').where(sql<boolean>`details @> ${JSON.stringify({ case_id: caseId })}::jsonb`).orderBy('id').execute();
  return rows.map((row) => row.action);
}

export async function auditRows(runtime: Runtime, action: string) {
  return runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
}

/** An offline OIDC grant with a refresh token for the user's current session, as the token endpoint would leave it. */
export async function giveRefreshToken(runtime: TestRuntime, user: User) {
  const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Ministry portal', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['http://127.0.0.1:8765/callback'], backchannel_logout_uri: 'http://127.0.0.1:8765/backchannel', first_party: true }, { authority: OPERATOR });
  const session = await runtime.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).where('revoked_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
  const grant = await createGrant(runtime.db, runtime.clock, { clientId: client.client_id, session, scope: 'openid offline_access', dpopJkt: null, lifetimeSeconds: 30 * 86400 });
  const refreshToken = newToken();
  await runtime.db.insertInto('oauth_refresh_tokens').values({ token_hash: hashToken(refreshToken), grant_id: grant.id, created_at: runtime.clock.now(), expires_at: grant.expires_at, used_at: null }).execute();
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret!)}`).toString('base64')}`;
  return { client, grant, refreshToken, basic };
}

/** A case about an admin or officer also needs an admin's co-approval (docs/authority.md): a fresh admin of the organisation gives it. */
export async function adminCoApproves(runtime: Runtime, organisationId: string, caseId: string): Promise<void> {
  const admin = await enrollPerson(runtime, organisationId, 'admin');
  const reply = await admin.client.post(`/api/admin/recovery-cases/${caseId}/co-approve`, {});
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
}
