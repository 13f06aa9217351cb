/**
 * Listing and viewing people: search, filters, stable pages, one query per
 * page, and every admin look at a person on record. Then the operator's CLI.
 */
import { randomBytes } from 'node:crypto';
import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { disablePersonCommand, enablePersonCommand, listPeopleCommand, offboardPersonCommand, showPersonCommand } from '../../src/cli/commands/people.js';
import { listPeople } from '../../src/people/list.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { auditOf, cli, peopleServer, userRow } from './support.js';

const { runtime, enroll, organisation, admin, otherAdmin } = await peopleServer();
const tag = randomBytes(3).toString('hex');
const named = async (name: string, role: 'member' | 'recovery_officer' = 'member') => {
  const person = await enroll(organisation.id, role);
  await runtime.db.updateTable('users').set({ display_name: `${name} ${tag}`, employee_id: `EMP-${name.toUpperCase()}-${tag}` }).where('id', '=', person.user.id).execute();
  return person;
};
const people = [await named('Anna'), await named('Bartek'), await named('Celina', 'recovery_officer'), await named('Dorota'), await named('Edward')];

describe('listing people', () => {
  it('pages through everyone once, in a stable order', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.client.get(`/api/admin/people?limit=2&q=${tag}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body.people.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.people.map((p: { display_name: string }) => p.display_name));
      cursor = page.body.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(['Anna', 'Bartek', 'Celina', 'Dorota', 'Edward'].map((n) => `${n} ${tag}`));
  });

  it('searches name, e-mail and employee id case-insensitively, and filters by role and status', async () => {
    const byName = await admin.client.get(`/api/admin/people?q=${encodeURIComponent(`celina ${tag}`.toUpperCase())}`);
    expect(byName.body.people.map((p: { id: string }) => p.id)).toEqual([people[2]!.user.id]);
    const byEmail = await admin.client.get(`/api/admin/people?q=${encodeURIComponent(people[1]!.user.username.toUpperCase())}`);
    expect(byEmail.body.people.map((p: { id: string }) => p.id)).toEqual([people[1]!.user.id]);
    const byEmployeeId = await admin.client.get(`/api/admin/people?q=emp-dorota-${tag}`);
    expect(byEmployeeId.body.people).toEqual([
      expect.objectContaining({ id: people[3]!.user.id, roles: ['member'], status: 'active', last_sign_in: expect.any(String), methods: { passkeys: 1, password: false, totp: false } }),
    ]);
    const officers = await admin.client.get(`/api/admin/people?q=${tag}&role=recovery_officer`);
    expect(officers.body.people.map((p: { id: string }) => p.id)).toEqual([people[2]!.user.id]);
    expect((await admin.client.get(`/api/admin/people?q=${tag}&status=disabled`)).body.people).toEqual([]);
    // A LIKE wildcard is text, not a pattern.
    expect((await admin.client.get(`/api/admin/people?q=%25`)).body.people).toEqual([]);
    expect((await admin.client.get('/api/admin/people?status=gone')).status).toBe(400);
    expect((await admin.client.get('/api/admin/people?cursor=garbage')).status).toBe(400);
  });

  it("never shows another organisation's people", async () => {
    const other = await otherAdmin.client.get(`/api/admin/people?q=${tag}`);
    expect(other.status).toBe(200);
    expect(other.body.people).toEqual([]);
  });

  it('takes one query per page however many people it holds (no query per person)', async () => {
    let queries = 0;
    const counting: KyselyPlugin = { transformQuery: (args) => ((queries += 1), args.node), transformResult: async (args) => args.result };
    const db = runtime.db.withPlugin(counting);
    await listPeople(db, organisation.id, { query: tag, limit: 1 });
    expect(queries).toBe(1);
    queries = 0;
    const page = await listPeople(db, organisation.id, { limit: 100 });
    expect(page.people.length).toBeGreaterThan(5);
    expect(queries).toBe(1);
  });
});

describe("viewing a person's page", () => {
  it('shows passkeys with their bound assurance, sessions and sign-in methods, and is audited', async () => {
    const person = people[0]!;
    const view = await admin.client.get(`/api/admin/people/${person.user.id}`);
    expect(view.status, JSON.stringify(view.body)).toBe(200);
    expect(view.body).toMatchObject({ id: person.user.id, status: 'active', roles: ['member'], password: null, totp: null });
    expect(view.body.passkeys).toEqual([expect.objectContaining({ bound_acr: expect.any(String), revoked_at: null })]);
    expect(view.body.sessions.length).toBeGreaterThan(0);
    expect(await auditOf(runtime, 'person.viewed', `user:${person.user.id}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}`, outcome: 'success' })]);
    expect((await otherAdmin.client.get(`/api/admin/people/${person.user.id}`)).status).toBe(404);
    expect((await admin.client.get('/api/admin/people/not-an-id')).status).toBe(404);
  });
});

describe('the warta user commands', () => {
  it('list, show, disable, enable and offboard as the operator, each audited as cli', async () => {
    const io = cli(runtime);
    const listed = await listPeopleCommand.run({ org: organisation.name, query: tag, role: 'recovery_officer' }, io);
    expect(listed.people.map((p) => p.id)).toEqual([people[2]!.user.id]);
    expect(listPeopleCommand.format(listed)).toContain(people[2]!.user.username);

    const username = people[2]!.user.username;
    const shown = await showPersonCommand.run({ username }, io);
    expect(shown.id).toBe(people[2]!.user.id);
    expect(await disablePersonCommand.run({ username, reason: 'investigation' }, io)).toMatchObject({ status: 'disabled' });
    // A privileged person: the operator may re-enable them.
    expect(await enablePersonCommand.run({ username, reason: 'cleared' }, io)).toMatchObject({ status: 'active' });
    await expect(offboardPersonCommand.run({ username, reason: 'left' }, io)).rejects.toMatchObject({ status: 400 });
    expect((await userRow(runtime, people[2]!.user.id)).status).toBe('active');
    expect(await offboardPersonCommand.run({ username, reason: 'left', confirm: true }, io)).toMatchObject({ status: 'offboarded', passkeys: 1 });
    for (const action of ['person.viewed', 'person.disabled', 'person.enabled', 'person.offboarded'])
      expect((await auditOf(runtime, action, `user:${people[2]!.user.id}`)).filter((entry) => entry.outcome === 'success')).toEqual([expect.objectContaining({ actor: 'cli' })]);
  });

  it("refuses to take out an organisation's last active admin, even from the CLI", async () => {
    const lonely = await createOrganisation(runtime, { actor: 'test' }, { name: `Lonely ${tag}` });
    const onlyAdmin = await enroll(lonely.id, 'admin');
    await expect(disablePersonCommand.run({ username: onlyAdmin.user.username, reason: 'x' }, cli(runtime))).rejects.toMatchObject({ code: 'last_admin' });
    await expect(offboardPersonCommand.run({ username: onlyAdmin.user.username, reason: 'x', confirm: true }, cli(runtime))).rejects.toMatchObject({ code: 'last_admin' });
    expect((await userRow(runtime, onlyAdmin.user.id)).status).toBe('active');
    expect((await auditOf(runtime, 'person.disabled', `user:${onlyAdmin.user.id}`)).at(-1)).toMatchObject({ actor: 'cli', outcome: 'failure', details: { reason: 'last_admin' } });
    // With a second active admin, the first may be taken out; the second then may not.
    const second = await enroll(lonely.id, 'admin');
    expect((await second.client.post(`/api/admin/people/${onlyAdmin.user.id}/disable`, { reason: 'moved on' })).status).toBe(200);
    await expect(disablePersonCommand.run({ username: second.user.username, reason: 'x' }, cli(runtime))).rejects.toMatchObject({ code: 'last_admin' });
  });
});
