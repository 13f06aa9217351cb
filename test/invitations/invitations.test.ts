import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/crypto/random.js';
import { createInvitation, redeemInvitation, revokeInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { userRoles } from '../../src/users/service.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';

const runtime = await createTestRuntime();
const org = await createOrganisation(runtime, { actor: 'test' }, { name: 'Ministry of Tests' });

const invite = (overrides: Partial<Parameters<typeof createInvitation>[2]> = {}) =>
  createInvitation(runtime, { actor: 'test' }, { organisationId: org.id, displayName: 'Anna Nowak', email: `anna.${Math.random().toString(36).slice(2)}@example.gov`, role: 'member', ...overrides });

const redeem = (token: string) => runtime.db.transaction().execute((trx) => redeemInvitation(trx, runtime, { actor: 'anonymous' }, token));

describe('invitations', () => {
  it('issues a 256-bit token, stores only its hash, and links with the token in the fragment', async () => {
    const { token, invitation, link } = await invite();
    expect(Buffer.from(token, 'base64url').length).toBe(32);
    expect(invitation.token_hash).toBe(hashToken(token));
    const stored = await runtime.db.selectFrom('invitations').selectAll().where('id', '=', invitation.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(link).toBe(`http://localhost:3000/enroll#invitation=${token}`);
  });

  it('expires after 72 hours by default', async () => {
    const { invitation } = await invite();
    expect(invitation.expires_at.getTime() - invitation.created_at.getTime()).toBe(72 * 3600 * 1000);
  });

  it('redeems once into a user with the invited role, in one transaction with its audit entry', async () => {
    const { token, invitation } = await invite({ role: 'recovery_officer' });
    const { user } = await redeem(token);
    expect(user.username).toBe(invitation.email);
    expect(await userRoles(runtime.db, user.id)).toEqual(['recovery_officer']);
    const audit = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'invitation.redeemed').where('subject', '=', `invitation:${invitation.id}`).execute();
    expect(audit).toHaveLength(1);
    await expect(redeem(token)).rejects.toMatchObject({ code: 'invitation_used', status: 410 });
  });

  it('lets exactly one of two concurrent redemptions win', async () => {
    const { token, invitation } = await invite();
    const results = await Promise.allSettled([redeem(token), redeem(token)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'invitation_used' });
    const users = await runtime.db.selectFrom('users').select('id').where('email', '=', invitation.email).execute();
    expect(users).toHaveLength(1);
  });

  it('refuses an expired invitation and changes nothing', async () => {
    const { token, invitation } = await invite();
    runtime.clock.advance(72 * 3600 + 1);
    await expect(redeem(token)).rejects.toMatchObject({ code: 'invitation_expired', status: 410 });
    const row = await runtime.db.selectFrom('invitations').selectAll().where('id', '=', invitation.id).executeTakeFirstOrThrow();
    expect(row.redeemed_at).toBeNull();
    expect(await runtime.db.selectFrom('users').select('id').where('email', '=', invitation.email).execute()).toHaveLength(0);
  });

  it('refuses a revoked invitation, and a second revocation', async () => {
    const { token, invitation } = await invite();
    await revokeInvitation(runtime, { actor: 'test' }, { id: invitation.id });
    await expect(redeem(token)).rejects.toMatchObject({ code: 'invitation_revoked' });
    await expect(revokeInvitation(runtime, { actor: 'test' }, { id: invitation.id })).rejects.toMatchObject({ code: 'invitation_revoked', status: 409 });
  });

  it('refuses an unknown token', async () => {
    await expect(redeem('not-a-real-token')).rejects.toMatchObject({ code: 'invitation_not_found', status: 404 });
  });

  it('refuses invitations without a name, e-mail or employee id, or with an unknown role', async () => {
    await expect(invite({ displayName: ' ' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(invite({ email: null, employeeId: null })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(invite({ email: 'not-an-email' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(invite({ role: 'root' as never })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('refuses to invite a username that already exists', async () => {
    const { token, invitation } = await invite();
    await redeem(token);
    await expect(invite({ email: invitation.email })).rejects.toMatchObject({ code: 'user_exists', status: 409 });
  });
});

describe('invitation admin API', () => {
  const { request } = testClient(runtime);

  it('lets an admin invite, list and revoke within their organisation', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const created = await request('/api/admin/invitations', { method: 'POST', cookie, json: { display_name: 'Jan Kowalski', employee_id: 'E-1001', role: 'member' } });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; link: string; status: string };
    expect(body.status).toBe('pending');
    expect(body.link).toMatch(/\/enroll#invitation=[\w-]{43}$/);
    expect(body).not.toHaveProperty('token_hash');

    const token = body.link.split('invitation=')[1]!;
    const lookup = await request('/api/invitations/lookup', { method: 'POST', json: { token } });
    expect(await lookup.json()).toMatchObject({ display_name: 'Jan Kowalski', role: 'member' });

    const list = (await (await request('/api/admin/invitations', { cookie })).json()) as { invitations: { id: string }[] };
    expect(list.invitations.map((i) => i.id)).toContain(body.id);

    const revoked = await request(`/api/admin/invitations/${body.id}`, { method: 'DELETE', cookie });
    expect(await revoked.json()).toMatchObject({ status: 'revoked' });
    const after = await request('/api/invitations/lookup', { method: 'POST', json: { token } });
    expect(after.status).toBe(410);
    expect(await after.json()).toEqual({ error: 'invitation_revoked', error_description: expect.any(String) });
  });

  it('refuses members, anonymous callers, and admins of another organisation', async () => {
    const member = await createTestUser(runtime, { role: 'member' });
    const memberCookie = await sessionCookie(runtime, member);
    const asMember = await request('/api/admin/invitations', { method: 'POST', cookie: memberCookie, json: { display_name: 'X', email: 'x@example.gov' } });
    expect(asMember.status).toBe(403);
    const anonymous = await request('/api/admin/invitations', { method: 'POST', json: { display_name: 'X', email: 'x@example.gov' } });
    expect(anonymous.status).toBe(401);

    const { invitation } = await invite();
    const otherAdmin = await createTestUser(runtime, { role: 'admin' });
    const res = await request(`/api/admin/invitations/${invitation.id}`, { method: 'DELETE', cookie: await sessionCookie(runtime, otherAdmin) });
    expect(res.status).toBe(404);
    const row = await runtime.db.selectFrom('invitations').select('revoked_at').where('id', '=', invitation.id).executeTakeFirstOrThrow();
    expect(row.revoked_at).toBeNull();
  });

  it('answers malformed bodies with 4xx and a stable code', async () => {
    const admin = await createTestUser(runtime, { role: 'admin' });
    const cookie = await sessionCookie(runtime, admin);
    const notJson = await request('/api/admin/invitations', { method: 'POST', cookie, headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: 'invalid_request' });
    const wrongType = await request('/api/admin/invitations', { method: 'POST', cookie, body: 'display_name=x' , headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wrongType.status).toBe(415);
    const crossSite = await request('/api/admin/invitations', { method: 'POST', cookie, json: { display_name: 'X', email: 'y@example.gov' }, headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ error: 'cross_origin_request' });
  });
});
