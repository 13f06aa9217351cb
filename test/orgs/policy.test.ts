/**
 * An organisation's policy, edited by its admin through the admin API and by the
 * operator through the CLI: invalid policies refused naming the member, a
 * preview of who loses sign-in, no change that locks its admins out, no silent
 * overwrite of another admin's edit, audited and announced.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setPolicyCommand, showOrganisationCommand } from '../../src/cli/commands/organisation.js';
import type { User } from '../../src/db/schema.js';
import { policyVersion } from '../../src/orgs/policy-check.js';
import { getOrganisation } from '../../src/orgs/service.js';
import { givePasskey, givePasswordAndTotp } from '../passwords/support.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';

const runtime = await createTestRuntime();
const { request } = testClient(runtime);

async function organisationWithAdmins() {
  const admin = await createTestUser(runtime, { role: 'admin' });
  const secondAdmin = await createTestUser(runtime, { role: 'admin', organisationId: admin.organisation_id });
  for (const user of [admin, secondAdmin]) await givePasskey(runtime, user);
  return { admin, secondAdmin, organisationId: admin.organisation_id, cookie: await sessionCookie(runtime, admin), secondCookie: await sessionCookie(runtime, secondAdmin) };
}

const read = async (cookie: string) => (await request('/api/admin/organisation', { cookie })).json() as Promise<Record<string, any>>;
const preview = (cookie: string, policy: unknown) => request('/api/admin/organisation/policy/preview', { method: 'POST', cookie, json: { policy } });
const put = (cookie: string, policy: unknown, expected_version: string) => request('/api/admin/organisation/policy', { method: 'PUT', cookie, json: { policy, expected_version } });
const storedPolicy = async (organisationId: string) => (await getOrganisation(runtime.db, organisationId)).policy;
const auditRows = async (action: string, organisationId: string, outcome: 'success' | 'failure' = 'success') =>
  runtime.db.selectFrom('audit_log').select(['actor', 'details']).where('action', '=', action).where('subject', '=', `org:${organisationId}`).where('outcome', '=', outcome).orderBy('id').execute();
const names = (group: { people: { id: string }[] }) => group.people.map((p) => p.id).sort();

describe('reading the organisation', () => {
  it('shows the resolved policy with defaults marked, the e-mail domains and people by role and status', async () => {
    const { organisationId, cookie } = await organisationWithAdmins();
    await createTestUser(runtime, { role: 'member', organisationId });
    await runtime.db.updateTable('organisations').set({ policy: JSON.stringify({ totpDigits: 8 }) }).where('id', '=', organisationId).execute();
    const reply = await request('/api/admin/organisation', { cookie });
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as Record<string, any>;
    expect(body).toMatchObject({ id: organisationId, version: policyVersion({ totpDigits: 8 }), policy: { totpDigits: 8, allowPasswords: true }, email_domains: [] });
    expect(body.defaulted).toContain('allowPasswords');
    expect(body.defaulted).not.toContain('totpDigits');
    expect(body.people).toMatchObject({ total: 3, by_status: { active: 3, disabled: 0 }, by_role: { admin: { active: 2 }, member: { active: 1 } } });
  });
});

describe('previewing a policy change', () => {
  it('names who would lose every way to sign in and who only loses the password, and changes nothing', async () => {
    const { organisationId, cookie } = await organisationWithAdmins();
    const passwordOnly = await createTestUser(runtime, { role: 'member', organisationId });
    await givePasswordAndTotp(runtime, passwordOnly);
    const both = await createTestUser(runtime, { role: 'member', organisationId });
    await givePasswordAndTotp(runtime, both);
    await givePasskey(runtime, both);
    const passkeyOnly = await createTestUser(runtime, { role: 'member', organisationId });
    await givePasskey(runtime, passkeyOnly);

    const reply = await preview(cookie, { allowPasswords: false });
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as Record<string, any>;
    expect(body.changes).toEqual([{ member: 'allowPasswords', before: true, after: false }]);
    expect(body.lose_every_sign_in.count).toBe(1);
    expect(names(body.lose_every_sign_in)).toEqual([passwordOnly.id]);
    expect(body.lose_every_sign_in.people[0].display_name).toBe(passwordOnly.display_name);
    expect(names(body.lose_password_sign_in)).toEqual([both.id]);
    expect(body.admins_locked_out.count).toBe(0);
    expect(await storedPolicy(organisationId)).toEqual({});
    expect(await auditRows('organisation.policy_set', organisationId)).toEqual([]);
  });
});

describe('an invalid policy', () => {
  const cases: [string, unknown][] = [
    ['bogus', { bogus: true }],
    ['allowPasswords', { allowPasswords: 'no' }],
    ['totpDigits', { totpDigits: 9 }],
    ['totpPeriod', { totpPeriod: 5 }],
    ['passkeyRequiredRoles', { passkeyRequiredRoles: ['boss'] }],
    ['passkeyRequiredRoles', { passkeyRequiredRoles: ['admin', 'admin'] }],
    // Direct attestation with no allowed AAGUID lets no passkey be registered, yet roles must use one.
    ['passkeyRequiredRoles', { attestation: 'direct' }],
    // …and with no password either, no role has any way to sign in.
    ['allowedAaguids', { attestation: 'direct', passkeyRequiredRoles: [], allowPasswords: false }],
    ['allowedAaguids', { attestation: 'direct', allowedAaguids: ['not-a-uuid'] }],
    ['allowedAaguids', { allowedAaguids: ['2fc0579f-8113-47ea-b116-bb5a8db9202a'] }],
    ['recoveryDesks', { recoveryDesks: 'Front desk' }],
    ['recoveryDesks', { recoveryDesks: ['Front desk', 'front desk'] }],
    ['recoveryDesks', { recoveryDesks: [''] }],
    ['recoveryCodeMaxAttempts', { recoveryCodeMaxAttempts: 0 }],
    ['(policy)', ['allowPasswords']],
  ];
  it.each(cases)('is refused with invalid_policy naming %s, in preview and set, with nothing changed and the refused change on record', async (member, policy) => {
    const { admin, organisationId, cookie } = await organisationWithAdmins();
    const version = (await read(cookie)).version as string;
    const auditBefore = await runtime.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    for (const reply of [await preview(cookie, policy), await put(cookie, policy, version)]) {
      const body = (await reply.json()) as { error: string; error_description: string };
      if (member === '(policy)') expect(reply.status).toBe(400);
      else {
        expect(reply.status, JSON.stringify(body)).toBe(400);
        expect(body.error).toBe('invalid_policy');
        expect(body.error_description).toContain(`"${member}"`);
      }
    }
    expect(await storedPolicy(organisationId)).toEqual({});
    const auditAfter = await runtime.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    // A body that is not an object at all is refused by the request schema, before any policy change is attempted.
    if (member === '(policy)') expect(Number(auditAfter.n)).toBe(Number(auditBefore.n));
    else {
      // Only the refused change is on record: a preview changes nothing, so its refusal is not an act.
      expect(Number(auditAfter.n)).toBe(Number(auditBefore.n) + 1);
      expect(await auditRows('organisation.policy_set', organisationId, 'failure')).toEqual([{ actor: `user:${admin.id}`, details: { reason: 'invalid_policy', expected_version: version } }]);
    }
    expect(await auditRows('organisation.policy_set', organisationId)).toEqual([]);
  });
});

describe('setting the policy', () => {
  it('stores it, audits before and after, and announces it on another admin’s account page', async () => {
    const { admin, organisationId, cookie, secondCookie } = await organisationWithAdmins();
    const version = (await read(cookie)).version as string;
    const reply = await put(cookie, { allowPasswords: false, recoveryDesks: ['Front desk'] }, version);
    expect(reply.status, await reply.clone().text()).toBe(200);
    expect(await storedPolicy(organisationId)).toEqual({ allowPasswords: false, recoveryDesks: ['Front desk'] });
    expect(((await reply.json()) as { version: string }).version).toBe((await read(cookie)).version);

    expect(await auditRows('organisation.policy_set', organisationId)).toEqual([
      { actor: `user:${admin.id}`, details: expect.objectContaining({ before: {}, after: { allowPasswords: false, recoveryDesks: ['Front desk'] }, changed: ['allowPasswords', 'recoveryDesks'] }) },
    ]);
    const page = await (await request('/account', { cookie: secondCookie })).text();
    expect(page).toContain(`The admin ${admin.display_name} changed your organisation`);
    expect(page).toContain('sign-in policy (allowPasswords, recoveryDesks)');
  });

  it('refuses a change that would leave an active admin with no way to sign in, and changes nothing', async () => {
    const { organisationId, cookie } = await organisationWithAdmins();
    await runtime.db.updateTable('organisations').set({ policy: JSON.stringify({ passkeyRequiredRoles: [] }) }).where('id', '=', organisationId).execute();
    const passwordAdmin = await createTestUser(runtime, { role: 'admin', organisationId });
    await givePasswordAndTotp(runtime, passwordAdmin);
    const version = (await read(cookie)).version as string;

    const previewed = (await (await preview(cookie, { passkeyRequiredRoles: ['admin'] })).json()) as Record<string, any>;
    expect(names(previewed.admins_locked_out)).toEqual([passwordAdmin.id]);
    const reply = await put(cookie, { passkeyRequiredRoles: ['admin'] }, version);
    expect(reply.status).toBe(409);
    expect(((await reply.json()) as { error: string }).error).toBe('policy_locks_out_admins');
    expect(await storedPolicy(organisationId)).toEqual({ passkeyRequiredRoles: [] });
    expect(await auditRows('organisation.policy_set', organisationId)).toEqual([]);
    expect(await auditRows('organisation.policy_set', organisationId, 'failure')).toEqual([{ actor: expect.stringMatching(/^user:/), details: { reason: 'policy_locks_out_admins', expected_version: version } }]);

    // Once that admin has a passkey, the same change goes through.
    await givePasskey(runtime, passwordAdmin);
    expect((await put(cookie, { passkeyRequiredRoles: ['admin'] }, version)).status).toBe(200);
  });

  it('refuses with policy_modified when another admin changed the policy after it was read', async () => {
    const { organisationId, cookie, secondCookie } = await organisationWithAdmins();
    const readByFirst = (await read(cookie)).version as string;
    expect((await put(secondCookie, { totpDigits: 8 }, (await read(secondCookie)).version as string)).status).toBe(200);
    const stale = await put(cookie, { allowTotp: false, allowPasswords: false }, readByFirst);
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: string }).error).toBe('policy_modified');
    expect(await storedPolicy(organisationId)).toEqual({ totpDigits: 8 });
    expect(await auditRows('organisation.policy_set', organisationId)).toHaveLength(1);
    expect(await auditRows('organisation.policy_set', organisationId, 'failure')).toEqual([{ actor: expect.stringMatching(/^user:/), details: { reason: 'policy_modified', expected_version: readByFirst } }]);
  });

  it('reaches only the admin’s own organisation; members and officers are refused', async () => {
    const { organisationId, cookie } = await organisationWithAdmins();
    const other = await organisationWithAdmins();
    const seen = await read(other.cookie);
    expect(seen.id).toBe(other.organisationId);
    expect(JSON.stringify(seen)).not.toContain(organisationId);
    expect((await put(other.cookie, { totpDigits: 7 }, seen.version as string)).status).toBe(200);
    expect(await storedPolicy(organisationId)).toEqual({});
    expect(await storedPolicy(other.organisationId)).toEqual({ totpDigits: 7 });

    const version = (await read(cookie)).version as string;
    for (const role of ['member', 'recovery_officer'] as const) {
      const user: User = await createTestUser(runtime, { role, organisationId });
      const roleCookie = await sessionCookie(runtime, user);
      expect((await request('/api/admin/organisation', { cookie: roleCookie })).status).toBe(403);
      expect((await preview(roleCookie, { totpDigits: 7 })).status).toBe(403);
      expect((await put(roleCookie, { totpDigits: 7 }, version)).status).toBe(403);
    }
    expect(await storedPolicy(organisationId)).toEqual({});
  });
});

describe('warta org show and set-policy', () => {
  const io = { runtime: async () => runtime, write: () => {} };
  const policyFile = (policy: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), 'warta-policy-')), 'policy.json');
    writeFileSync(file, JSON.stringify(policy));
    return file;
  };

  it('shows the organisation, previews with --dry-run without changing it, then sets it as the operator', async () => {
    const { organisationId } = await organisationWithAdmins();
    const name = (await getOrganisation(runtime.db, organisationId)).name;
    const passwordOnly = await createTestUser(runtime, { role: 'member', organisationId });
    await givePasswordAndTotp(runtime, passwordOnly);

    const shown = await showOrganisationCommand.run({ org: name }, io);
    expect(shown).toMatchObject({ id: organisationId, policy: { allowPasswords: true } });
    expect(showOrganisationCommand.format(shown)).toContain('allowPasswords: true (default)');

    const file = policyFile({ allowPasswords: false });
    const dryRun = await setPolicyCommand.run({ org: name, file, 'dry-run': true }, io);
    expect(dryRun).toMatchObject({ dry_run: true, lose_every_sign_in: { count: 1 } });
    expect(setPolicyCommand.format(dryRun)).toContain(`Would lose every way to sign in: 1: ${passwordOnly.display_name}`);
    expect(await storedPolicy(organisationId)).toEqual({});

    const set = await setPolicyCommand.run({ org: name, file }, io);
    expect(set).toMatchObject({ dry_run: false, version: policyVersion({ allowPasswords: false }) });
    expect(await storedPolicy(organisationId)).toEqual({ allowPasswords: false });
    expect(await auditRows('organisation.policy_set', organisationId)).toEqual([{ actor: 'cli', details: expect.objectContaining({ before: {}, after: { allowPasswords: false } }) }]);
    const events = await runtime.db.selectFrom('security_events').select('details').where('organisation_id', '=', organisationId).where('type', '=', 'organisation_changed').execute();
    expect(events.map((event) => event.details)).toEqual([
      { change: 'policy_set', changedBy: null, members: ['allowPasswords'] },
      { change: 'policy_set', changedBy: null, members: ['allowPasswords'] },
    ]);

    await expect(setPolicyCommand.run({ org: name, file: policyFile({ totpDigits: 5 }) }, io)).rejects.toMatchObject({ code: 'invalid_policy' });
    await expect(setPolicyCommand.run({ org: name, file, 'expected-version': policyVersion({}) }, io)).rejects.toMatchObject({ code: 'policy_modified' });
  });
});
