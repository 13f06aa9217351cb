/**
 * Issue 11, attacks 2 and 10: one admin (or whoever holds an admin's cookie)
 * must not be able to appoint officers and take over an account, nor claim
 * another organisation's e-mail addresses. Over real HTTP, with passkeys from
 * the software authenticator.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { setEmailDomains } from '../../src/authority/email-domains.js';
import { bootstrapCommand } from '../../src/cli/commands/bootstrap.js';
import { inviteCommand } from '../../src/cli/commands/invite.js';
import { setEmailDomainsCommand, waiveOfficerCooldownCommand } from '../../src/cli/commands/authority.js';
import type { Role, User } from '../../src/db/schema.js';
import { addReceiver } from '../../src/events/receivers.js';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { createInvitation, redeemInvitation } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import type { Runtime } from '../../src/runtime.js';
import { userRoles } from '../../src/users/service.js';
import { startWartaServer } from '../support/browser.js';
import { createTestRuntime, sessionCookie, testClient } from '../support/runtime.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { type Browser, browser, origin, reauthenticate, signIn } from '../webauthn/ceremony.js';
import { caseBody, DESKS } from '../recovery/support.js';

const server = await startWartaServer({ env: { WARTA_TRUST_PROXY: 'true', WARTA_OFFICER_COOLDOWN_HOURS: '24' } });
const runtime = server.runtime;
const cli = { runtime: async () => runtime as Runtime, write: () => {} };

interface Person {
  user: User;
  client: Browser;
  authenticator: SoftAuthenticator;
}

/** An organisation with e-mail domain `<tag>.gov` and two admins, enrolled with passkeys, signed in over HTTP. */
async function organisationWithAdmins() {
  const tag = `org${randomBytes(4).toString('hex')}`;
  const organisation = await createOrganisation(runtime, { actor: 'test' }, { name: `Ministry ${tag}`, policy: { recoveryDesks: DESKS } });
  await setEmailDomains(runtime, { actor: 'test' }, { organisationId: organisation.id, domains: [`${tag}.gov`] });
  const adminA = await enrollByOperator(organisation.id, 'admin', `admin-a@${tag}.gov`);
  const adminB = await enrollByOperator(organisation.id, 'admin', `admin-b@${tag}.gov`);
  return { organisation, domain: `${tag}.gov`, adminA, adminB };
}

async function enrollWithLink(link: string): Promise<Person> {
  const token = new URL(link).hash.replace('#invitation=', '');
  const client = browser(runtime, { baseUrl: server.url });
  const authenticator = new SoftAuthenticator();
  const options = await client.post('/api/webauthn/enrollment/options', { invitation: token });
  expect(options.status, JSON.stringify(options.body)).toBe(200);
  const reply = await client.post('/api/webauthn/enrollment/verify', { invitation: token, credential: authenticator.createCredential(options.body as never, { origin: origin(runtime) }) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  const user = await runtime.db.selectFrom('users').selectAll().where('id', '=', reply.body.user.id).executeTakeFirstOrThrow();
  return { user, client, authenticator };
}

/** The operator's CLI path: usable at once. */
async function enrollByOperator(organisationId: string, role: Role, email: string): Promise<Person> {
  const issued = await createInvitation(runtime, { actor: 'cli' }, { organisationId, displayName: `Person ${email}`, email, role });
  return enrollWithLink(issued.link);
}

const invite = (admin: Person, body: Record<string, unknown>) => admin.client.post('/api/admin/invitations', body);
const invitationRow = (id: string) => runtime.db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const failures = (action: string, subject: string) =>
  runtime.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('subject', '=', subject).where('outcome', '=', 'failure').execute();

async function waive(person: Person) {
  await waiveOfficerCooldownCommand.run({ username: person.user.username }, cli);
}

describe('one admin alone cannot defeat four-eyes recovery (issue 11, attack 2)', () => {
  it('refuses the takeover at its first step: an admin’s officer invitation has no usable link until a second admin approves', async () => {
    const { adminA, domain } = await organisationWithAdmins();
    const created = await invite(adminA, { display_name: 'Rogue Officer 1', email: `rogue1@${domain}`, role: 'recovery_officer' });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.body).toMatchObject({ status: 'awaiting_approval', link: null });
    const row = await invitationRow(created.body.id);
    expect(row).toMatchObject({ approval_required: true, approved_by: null, token_hash: null, created_by: adminA.user.id });
    // No token exists, so nothing can be enrolled from it: the attack ends here.
    expect(await runtime.db.selectFrom('users').select('id').where('email', '=', `rogue1@${domain}`).execute()).toHaveLength(0);
  });

  it('lets a second admin approve; the approver gets the link and the officer enrolls with it', async () => {
    const { adminA, adminB, domain } = await organisationWithAdmins();
    const created = await invite(adminA, { display_name: 'New Officer', email: `officer@${domain}`, role: 'recovery_officer' });
    const approved = await adminB.client.post(`/api/admin/invitations/${created.body.id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: 'pending', link: expect.stringMatching(/#invitation=[\w-]{43}$/) });
    const officer = await enrollWithLink(approved.body.link);
    expect(await userRoles(runtime.db, officer.user.id)).toEqual(['recovery_officer']);
    const grant = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'role.granted').where('subject', '=', `user:${officer.user.id}`).executeTakeFirstOrThrow();
    expect(grant.details).toMatchObject({ role: 'recovery_officer', granted_by: `user:${adminA.user.id}`, approved_by: `user:${adminB.user.id}` });
    // Approving twice is refused.
    expect((await adminB.client.post(`/api/admin/invitations/${created.body.id}/approve`, {})).body.error).toBe('invitation_not_awaiting_approval');
  });

  it('refuses the admin who asked for the invitation as its approver, audited, changing nothing', async () => {
    const { adminA, domain } = await organisationWithAdmins();
    const created = await invite(adminA, { display_name: 'Second Admin', email: `admin2@${domain}`, role: 'admin' });
    expect(created.status).toBe(202);
    const before = await invitationRow(created.body.id);
    const refused = await adminA.client.post(`/api/admin/invitations/${created.body.id}/approve`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('invitation_self_approval');
    expect(await invitationRow(created.body.id)).toEqual(before);
    expect(await failures('invitation.approval_refused', `invitation:${created.body.id}`)).toHaveLength(1);
  });

  it('refuses an approver from another organisation as if the invitation did not exist', async () => {
    const { adminA, domain } = await organisationWithAdmins();
    const other = await organisationWithAdmins();
    const created = await invite(adminA, { display_name: 'Officer', email: `o@${domain}`, role: 'recovery_officer' });
    const refused = await other.adminB.client.post(`/api/admin/invitations/${created.body.id}/approve`, {});
    expect(refused.status).toBe(404);
    expect((await invitationRow(created.body.id)).token_hash).toBeNull();
  });

  it('still gives a member invitation its link at once (no privilege, no second admin)', async () => {
    const { adminA, domain } = await organisationWithAdmins();
    const created = await invite(adminA, { display_name: 'Member', email: `member@${domain}`, role: 'member' });
    expect(created.status).toBe(201);
    expect(created.body.link).toMatch(/#invitation=/);
  });

  it('refuses every admin action without a passkey used in the last five minutes, audited, changing nothing', async () => {
    const { adminA, domain } = await organisationWithAdmins();
    const count = async () => Number((await runtime.db.selectFrom('invitations').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    runtime.clock.advance(301);
    const stale = await invite(adminA, { display_name: 'Late', email: `late@${domain}`, role: 'member' });
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe('reauthentication_required');
    expect((await adminA.client.get('/api/admin/invitations')).body.error).toBe('reauthentication_required');
    expect(await count()).toBe(before);
    expect((await failures('authority.refused', `user:${adminA.user.id}`)).map((row) => row.details)).toContainEqual(expect.objectContaining({ reason: 'reauthentication_required', path: '/api/admin/invitations' }));

    // A fresh passkey confirmation restores it.
    expect((await reauthenticate(runtime, adminA.client, adminA.authenticator)).status).toBe(200);
    expect((await invite(adminA, { display_name: 'On time', email: `ontime@${domain}`, role: 'member' })).status).toBe(201);
  });

  it('refuses an admin session from a password and TOTP code (acr mfa), however fresh', async () => {
    const { adminA } = await organisationWithAdmins();
    const { request } = testClient(runtime);
    const cookie = await sessionCookie(runtime, adminA.user, ['pwd', 'otp', 'mfa']);
    for (const path of ['/api/admin/invitations', '/api/admin/clients', '/api/admin/event-receivers', '/api/admin/recovery-cases']) {
      const reply = await request(path, { cookie });
      expect(reply.status, path).toBe(403);
      expect(((await reply.json()) as { error: string }).error, path).toBe('reauthentication_required');
    }
  });

  it('keeps a newly appointed officer off cases for 24 hours, unless the operator waives it for that officer', async () => {
    const { organisation, domain } = await organisationWithAdmins();
    const officerA = await enrollByOperator(organisation.id, 'recovery_officer', `oa@${domain}`);
    const officerB = await enrollByOperator(organisation.id, 'recovery_officer', `ob@${domain}`);
    const member = await enrollByOperator(organisation.id, 'member', `m@${domain}`);
    const refused = await officerA.client.post('/api/recovery/cases', caseBody(member.user.id));
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('officer_cooldown');
    expect(await runtime.db.selectFrom('recovery_cases').select('id').where('user_id', '=', member.user.id).execute()).toHaveLength(0);
    expect(await failures('recovery.refused', `user:${member.user.id}`)).toHaveLength(1);

    await waive(officerA);
    expect((await runtime.db.selectFrom('audit_log').select('actor').where('action', '=', 'officer.cooldown_waived').where('subject', '=', `user:${officerA.user.id}`).execute())).toEqual([{ actor: 'cli' }]);
    const opened = await officerA.client.post('/api/recovery/cases', caseBody(member.user.id));
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    // Officer B was not waived: B's approval is refused too, and the case stays pending.
    const approval = await officerB.client.post(`/api/recovery/cases/${opened.body.case.id}/approve`, { desk: DESKS[1] });
    expect(approval.body.error).toBe('officer_cooldown');
    expect((await runtime.db.selectFrom('recovery_cases').select('status').where('id', '=', opened.body.case.id).executeTakeFirstOrThrow()).status).toBe('pending');
  });

  it('lets the officer act once the cooldown has run out', async () => {
    const { organisation, domain } = await organisationWithAdmins();
    const officer = await enrollByOperator(organisation.id, 'recovery_officer', `late-officer@${domain}`);
    const member = await enrollByOperator(organisation.id, 'member', `late-member@${domain}`);
    runtime.clock.advance(24 * 3600 - 60);
    expect((await signIn(runtime, officer.client, officer.authenticator)).status).toBe(200);
    expect((await officer.client.post('/api/recovery/cases', caseBody(member.user.id))).body.error).toBe('officer_cooldown');
    runtime.clock.advance(61);
    expect((await officer.client.post('/api/recovery/cases', caseBody(member.user.id))).status).toBe(201);
  });

  it('needs an admin’s co-approval, besides two officers, to recover an admin', async () => {
    const { organisation, adminA, adminB, domain } = await organisationWithAdmins();
    const officerA = await enrollByOperator(organisation.id, 'recovery_officer', `ca@${domain}`);
    const officerB = await enrollByOperator(organisation.id, 'recovery_officer', `cb@${domain}`);
    await waive(officerA);
    await waive(officerB);
    const opened = await officerA.client.post('/api/recovery/cases', caseBody(adminA.user.id));
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const caseId = opened.body.case.id as string;
    const early = await officerB.client.post(`/api/recovery/cases/${caseId}/approve`, { desk: DESKS[1] });
    expect(early.status).toBe(403);
    expect(early.body.error).toBe('recovery_admin_approval_required');
    const pending = await runtime.db.selectFrom('recovery_cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow();
    expect(pending).toMatchObject({ status: 'pending', requires_admin: true, admin_approved_by: null, code_hash: null });

    // The admin who is the subject cannot co-approve their own case.
    expect((await adminA.client.post(`/api/admin/recovery-cases/${caseId}/co-approve`, {})).body.error).toBe('recovery_self_case');
    const coApproved = await adminB.client.post(`/api/admin/recovery-cases/${caseId}/co-approve`, {});
    expect(coApproved.status, JSON.stringify(coApproved.body)).toBe(200);
    const approved = await officerB.client.post(`/api/recovery/cases/${caseId}/approve`, { desk: DESKS[1] });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.code).toMatch(/^[\w]{4}(-[\w]{4}){4}$/);
  });

  it('announces every role grant: audit entry, the SET outbox, and the banner of every admin of the organisation', async () => {
    const { organisation, adminA, adminB, domain } = await organisationWithAdmins();
    await addReceiver(runtime, { actor: 'test' }, { organisationId: organisation.id, url: 'http://127.0.0.1:9/events', audience: 'https://messenger.example' });
    const created = await invite(adminA, { display_name: 'Zofia Officer', email: `zofia@${domain}`, role: 'recovery_officer' });
    const approved = await adminB.client.post(`/api/admin/invitations/${created.body.id}/approve`, {});
    const officer = await enrollWithLink(approved.body.link);

    const events = await runtime.db.selectFrom('security_events').selectAll().where('user_id', '=', officer.user.id).where('type', '=', 'role_granted').execute();
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toMatchObject({ role: 'recovery_officer', displayName: 'Zofia Officer' });
    expect(await runtime.db.selectFrom('set_outbox').select('status').where('event_id', '=', events[0]!.id).execute()).toEqual([{ status: 'pending' }]);

    for (const admin of [adminA, adminB]) {
      const page = await admin.client.get('/account');
      expect(page.body.text).toContain('data-event-type="role_granted"');
      expect(page.body.text).toContain('Zofia Officer was given the recovery_officer role');
    }
    // A member of the organisation is not shown other people's grants.
    const member = await enrollByOperator(organisation.id, 'member', `quiet@${domain}`);
    expect((await member.client.get('/account')).body.text).not.toContain('Zofia Officer');
  });
});

describe('invitations stay inside the organisation’s e-mail domains (issue 11, attack 10)', () => {
  it('refuses an admin’s invitation for another organisation’s address, audited, changing nothing', async () => {
    const a = await organisationWithAdmins();
    const b = await organisationWithAdmins();
    const squat = await invite(a.adminA, { display_name: 'Squatted', email: `minister@${b.domain}`, role: 'member' });
    expect(squat.status).toBe(403);
    expect(squat.body.error).toBe('email_domain_not_allowed');
    expect(await runtime.db.selectFrom('invitations').select('id').where('email', '=', `minister@${b.domain}`).execute()).toHaveLength(0);
    const audited = await failures('invitation.refused', `org:${a.organisation.id}`);
    expect(audited.map((row) => row.details)).toContainEqual(expect.objectContaining({ reason: 'email_domain_not_allowed', email_domain: b.domain }));
  });

  it('refuses a look-alike subdomain as well', async () => {
    const a = await organisationWithAdmins();
    expect((await invite(a.adminA, { display_name: 'X', email: `x@evil.${a.domain}`, role: 'member' })).body.error).toBe('email_domain_not_allowed');
  });

  it('lets the instance operator invite outside the list (warta invite)', async () => {
    const a = await organisationWithAdmins();
    // One person, so the answer is the single invitation's (the command also takes --csv).
    const result = (await inviteCommand.run({ org: a.organisation.name, 'display-name': 'Seconded Expert', email: 'expert@elsewhere.gov', role: 'member' }, cli)) as { link: string };
    expect(result.link).toMatch(/#invitation=/);
    expect((await enrollWithLink(result.link)).user.organisation_id).toBe(a.organisation.id);
  });

  it('bootstraps an organisation with its e-mail domains and makes the first admin an operator', async () => {
    // bootstrap only ever makes the first organisation: a fresh database.
    const fresh = await createTestRuntime();
    const tag = randomBytes(4).toString('hex');
    const result = await bootstrapCommand.run({ org: `Boot ${tag}`, admin: 'First Admin', email: `first@boot${tag}.gov` }, { runtime: async () => fresh as Runtime, write: () => {} });
    expect(result.organisation.email_domains).toEqual([`boot${tag}.gov`]);
    const token = new URL(result.link).hash.replace('#invitation=', '');
    const first = await fresh.db.transaction().execute(async (trx) => redeemInvitation(trx, fresh, { actor: 'test' }, token));
    expect(await userRoles(fresh.db, first.user.id)).toEqual(['admin', 'operator']);
    const grants = await fresh.db.selectFrom('audit_log').select('details').where('action', '=', 'role.granted').where('subject', '=', `user:${first.user.id}`).execute();
    expect(grants.map((row) => (row.details as { role: string }).role).sort()).toEqual(['admin', 'operator']);
  });

  it('never lets an invitation carry the operator role', async () => {
    const { adminA, domain } = await organisationWithAdmins();
    const reply = await invite(adminA, { display_name: 'Op', email: `op@${domain}`, role: 'operator' });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_request');
  });
});

describe('what the operator does to an organisation, its admins are told', () => {
  const announced = async (admin: Person) =>
    (await runtime.db.selectFrom('security_events').select('details').where('user_id', '=', admin.user.id).where('type', '=', 'organisation_changed').orderBy('seq').execute()).map((e) => e.details);

  it('announces new invitation domains and a waived officer cooldown on every admin’s account page', async () => {
    const { organisation, domain, adminA, adminB } = await organisationWithAdmins();
    await setEmailDomainsCommand.run({ org: organisation.name, domains: `${domain},archiwum.${domain}` }, cli);
    const officer = await enrollByOperator(organisation.id, 'recovery_officer', `officer@${domain}`);
    await waive(officer);

    const expected = [
      { change: 'email_domains_set', domains: [domain, `archiwum.${domain}`] },
      { change: 'officer_cooldown_waived', officerName: `Person officer@${domain}` },
    ];
    expect(await announced(adminA)).toEqual(expected);
    expect(await announced(adminB)).toEqual(expected);
    const page = await adminB.client.call('GET', '/account');
    expect(String(page.body.text)).toContain(`The instance operator set the e-mail domains your organisation invites into to ${domain}, archiwum.${domain}`);
    expect(String(page.body.text)).toContain(`The instance operator let the new recovery officer Person officer@${domain} act on cases at once`);
  });

  it('sends these announcements to no event receiver: they are about the organisation, not the admin’s account', async () => {
    const { organisation, domain } = await organisationWithAdmins();
    await addReceiver(runtime, { actor: 'test' }, { organisationId: organisation.id, url: 'http://127.0.0.1:9/set', audience: 'siem' });
    await setEmailDomainsCommand.run({ org: organisation.name, domains: domain }, cli);
    const queued = await runtime.db.selectFrom('set_outbox').innerJoin('security_events', 'security_events.id', 'set_outbox.event_id').select('security_events.type').where('security_events.organisation_id', '=', organisation.id).execute();
    expect(await runtime.db.selectFrom('security_events').select('id').where('organisation_id', '=', organisation.id).where('type', '=', 'organisation_changed').execute()).toHaveLength(2);
    expect(queued.map((row) => row.type)).not.toContain('organisation_changed');
  });
});

describe('machine tokens', () => {
  it('reach no admin or officer action: a client-credentials token is not a person', async () => {
    const { domain } = await organisationWithAdmins();
    const backend = await registerClient(runtime, { actor: 'test' }, { client_name: 'Directory sync', grant_types: ['client_credentials'], scope: 'directory:read' }, { authority: OPERATOR });
    const issued = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${backend.client_id}:${backend.client_secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials&scope=directory%3Aread',
    });
    expect(issued.status).toBe(200);
    const bearer = { authorization: `Bearer ${((await issued.json()) as { access_token: string }).access_token}`, 'content-type': 'application/json' };
    const attempts = [
      ['/api/admin/invitations', { display_name: 'Planted Officer', email: `planted@${domain}`, role: 'recovery_officer' }],
      ['/api/admin/clients', { client_name: 'Planted', redirect_uris: ['https://planted.example.gov/cb'] }],
      ['/api/admin/event-receivers', { url: 'http://127.0.0.1:9/set', audience: 'planted' }],
      ['/api/recovery/cases', caseBody(randomUUID())],
    ] as const;
    for (const [path, body] of attempts) {
      const reply = await fetch(`${server.url}${path}`, { method: 'POST', headers: bearer, body: JSON.stringify(body) });
      expect(reply.status, path).toBe(401);
    }
    expect(await runtime.db.selectFrom('invitations').select('id').where('email', '=', `planted@${domain}`).execute()).toEqual([]);
    expect(await runtime.db.selectFrom('oauth_clients').select('client_id').where('client_name', '=', 'Planted').execute()).toEqual([]);
  });
});
