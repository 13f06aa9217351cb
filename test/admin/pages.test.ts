import { describe, expect, it } from 'vitest';
import { createOrganisation } from '../../src/orgs/service.js';
import { enrollPerson } from '../recovery/support.js';
import { createTestRuntime } from '../support/runtime.js';
import { browser } from '../webauthn/ceremony.js';

const runtime = await createTestRuntime();
const ADMIN_PAGES = ['/admin', '/admin/people', '/admin/invitations', '/admin/organisation', '/admin/clients', '/admin/receivers', '/admin/recovery', '/admin/audit'];

async function organisationWithAdmin(name: string) {
  const organisation = await createOrganisation(runtime, { actor: 'test' }, { name: `${name} ${Math.random().toString(36).slice(2, 8)}` });
  const admin = await enrollPerson(runtime, organisation.id, 'admin');
  const member = await enrollPerson(runtime, organisation.id, 'member');
  return { organisation, admin, member };
}

describe('the administration console pages', () => {
  it('shows every page to an admin with a fresh passkey session, in English and Polish', async () => {
    const { admin } = await organisationWithAdmin('Console');
    for (const path of ADMIN_PAGES) {
      const page = await admin.client.get(path);
      expect(page.status, path).toBe(200);
      expect(String(page.body.text)).toContain('<nav class="admin-nav"');
    }
    const polish = await admin.client.get('/admin/people?lang=pl');
    expect(String(polish.body.text)).toContain('<h1>Osoby</h1>');
  });

  it('shows the signing keys to the operator only', async () => {
    const { admin } = await organisationWithAdmin('Keys');
    const refused = await admin.client.get('/admin/keys');
    expect(refused.status).toBe(403);
    expect(String(refused.body.text)).toContain('Only the instance operator');
    expect(String((await admin.client.get('/admin')).body.text)).not.toContain('href="/admin/keys"');
    await runtime.db.insertInto('user_roles').values({ user_id: admin.user.id, role: 'operator', granted_at: runtime.clock.now() }).execute();
    const shown = await admin.client.get('/admin/keys');
    expect(shown.status).toBe(200);
    expect(String(shown.body.text)).toContain('Signs now');
  });

  it('searches the audit log of the own organisation only', async () => {
    const ours = await organisationWithAdmin('Audit ours');
    const theirs = await organisationWithAdmin('Audit theirs');
    await ours.admin.client.get(`/admin/people/${ours.member.user.id}`);
    await theirs.admin.client.get(`/admin/people/${theirs.member.user.id}`);
    const page = String((await ours.admin.client.get('/admin/audit?action=person.viewed')).body.text);
    expect(page).toContain(`user:${ours.member.user.id}`);
    expect(page).not.toContain(`user:${theirs.member.user.id}`);
    expect((await ours.admin.client.get(`/admin/audit?person=${theirs.member.user.id}`)).status).toBe(404);
  });

  it('answers a person of another organisation, or no person, with not found, and records only real looks', async () => {
    const ours = await organisationWithAdmin('Ours');
    const theirs = await organisationWithAdmin('Theirs');
    const other = await ours.admin.client.get(`/admin/people/${theirs.member.user.id}`);
    expect(other.status).toBe(404);
    expect(String(other.body.text ?? JSON.stringify(other.body))).not.toContain(theirs.member.user.username);
    expect((await ours.admin.client.get('/admin/people/not-a-person')).status).toBe(404);
    const own = await ours.admin.client.get(`/admin/people/${ours.member.user.id}`);
    expect(own.status).toBe(200);
    const looks = await runtime.db.selectFrom('audit_log').select('subject').where('action', '=', 'person.viewed').where('actor', '=', `user:${ours.admin.user.id}`).execute();
    expect(looks.map((look) => look.subject)).toEqual([`user:${ours.member.user.id}`]);
  });

  it('refuses a member every page, audited, and sends someone signed out to sign in', async () => {
    const { member } = await organisationWithAdmin('Members');
    for (const path of ADMIN_PAGES) expect((await member.client.get(path)).status, path).toBe(403);
    const refusals = await runtime.db.selectFrom('audit_log').select('details').where('action', '=', 'authority.refused').where('subject', '=', `user:${member.user.id}`).execute();
    expect(refusals).toHaveLength(ADMIN_PAGES.length);
    const signedOut = await browser(runtime).get('/admin/people');
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/signin?return_to=%2Fadmin%2Fpeople');
  });

  it('asks an admin whose passkey confirmation is older than five minutes to confirm again, and shows nothing until then', async () => {
    const { admin, member } = await organisationWithAdmin('Stale');
    runtime.clock.advance(5 * 60 + 1);
    const page = await admin.client.get('/admin/people');
    expect(page.status).toBe(403);
    expect(String(page.body.text)).toContain('id="confirm-passkey"');
    expect(String(page.body.text)).not.toContain(member.user.username);
  });

  it('links the account page to administration for admins and to the recovery desk for officers, and to neither for members', async () => {
    const { organisation, admin, member } = await organisationWithAdmin('Links');
    const officer = await enrollPerson(runtime, organisation.id, 'recovery_officer');
    expect(String((await admin.client.get('/account')).body.text)).toContain('href="/admin"');
    const officerPage = String((await officer.client.get('/account')).body.text);
    expect(officerPage).toContain('href="/recovery"');
    expect(officerPage).not.toContain('href="/admin"');
    expect(String((await member.client.get('/account')).body.text)).not.toContain('id="your-work"');
  });
});
