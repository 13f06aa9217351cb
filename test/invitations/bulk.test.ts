/**
 * Bulk invitations from a CSV file: the dry run writes nothing, a file with one
 * refused row invites nobody, a good file invites everyone in one go with the
 * rules one invitation has (domains, the two-admin rule), and the operator's
 * `warta invite --csv` is bound by the domain list no more than `warta invite`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { setEmailDomains } from '../../src/authority/email-domains.js';
import { inviteCommand } from '../../src/cli/commands/invite.js';
import { hashToken } from '../../src/crypto/random.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { createTestRuntime, createTestUser, sessionCookie, testClient } from '../support/runtime.js';

const runtime = await createTestRuntime();
const { request } = testClient(runtime);

/** An organisation inviting at its own domain, with two admins (fresh passkey sessions). */
async function organisation() {
  const tag = randomBytes(3).toString('hex');
  const domain = `m${tag}.example.gov`;
  const admin = await createTestUser(runtime, { role: 'admin' });
  await setEmailDomains(runtime, { actor: 'test' }, { organisationId: admin.organisation_id, domains: [domain] });
  return { tag, domain, admin, organisationId: admin.organisation_id, cookie: await sessionCookie(runtime, admin) };
}

const bulk = (cookie: string, csv: string, dryRun: boolean) => request('/api/admin/invitations/bulk', { method: 'POST', cookie, json: { csv, dry_run: dryRun } });
const count = async (table: 'invitations' | 'audit_log') => Number((await runtime.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
type Row = { line: number; username: string | null; status: string; error?: string; link?: string; invitation_id?: string };
type Answer = { error?: string; error_description?: string; dry_run: boolean; applied: boolean; counts: Record<string, number>; rows: Row[] };

describe('POST /api/admin/invitations/bulk', () => {
  it('on a dry run reports every row and writes nothing', async () => {
    const { domain, cookie } = await organisation();
    const before = { invitations: await count('invitations'), audit: await count('audit_log') };
    const reply = await bulk(cookie, `display_name,email,role\nAla,ala@${domain},member\nBob,bob@elsewhere.gov,member\nCeo,ceo@${domain},admin`, true);
    expect(reply.status).toBe(200);
    const answer = (await reply.json()) as Answer;
    expect(answer).toMatchObject({ dry_run: true, applied: false, counts: { rows: 3, would_invite: 2, refused: 1 } });
    expect(answer.rows.map((row) => [row.line, row.status, row.error])).toEqual([
      [2, 'would_invite', undefined],
      [3, 'refused', 'email_domain_not_allowed'],
      [4, 'would_invite', undefined],
    ]);
    expect(answer.rows.some((row) => row.link)).toBe(false);
    expect({ invitations: await count('invitations'), audit: await count('audit_log') }).toEqual(before);
  });

  it('with one refused row invites nobody and names every refused row and why', async () => {
    const { domain, organisationId, cookie } = await organisation();
    const existing = await createTestUser(runtime, { organisationId, username: `taken@${domain}` });
    const csv = [
      'display_name,email,employee_id,role',
      `Good,good@${domain},,member`,
      'Bad Mail,not-an-address,,member',
      `Foreign,someone@other-${domain},,member`,
      `Root,root@${domain},,root`,
      `Good Again,GOOD@${domain},,member`,
      `Taken,${existing.username},,member`,
      ',,E-1,member',
    ].join('\n');
    const before = { invitations: await count('invitations'), audit: await count('audit_log') };
    const reply = await bulk(cookie, csv, false);
    expect(reply.status).toBe(422);
    const answer = (await reply.json()) as Answer;
    expect(answer.error).toBe('invitation_rows_refused');
    expect(answer.error_description).toBe('nothing was invited: lines 3, 4, 5, 6, 7, 8 refused');
    expect(answer.rows.map((row) => [row.line, row.status, row.error])).toEqual([
      [2, 'would_invite', undefined],
      [3, 'refused', 'invalid_request'],
      [4, 'refused', 'email_domain_not_allowed'],
      [5, 'refused', 'invalid_request'],
      [6, 'refused', 'duplicate_row'],
      [7, 'refused', 'user_exists'],
      [8, 'refused', 'invalid_request'],
    ]);
    expect(await count('invitations')).toBe(before.invitations);
    // The one thing written: the refusal, audited once.
    expect(await count('audit_log')).toBe(before.audit + 1);
    const refusal = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'invitation.bulk_refused').where('subject', '=', `org:${organisationId}`).executeTakeFirstOrThrow();
    expect(refusal.outcome).toBe('failure');
  });

  it('invites a good file in one go: links once, hashed at rest, audited, privileged rows awaiting a second admin', async () => {
    const { domain, organisationId, cookie, admin } = await organisation();
    const csv = `\uFEFFdisplay_name,email,employee_id,role\r\n"Nowak, Anna",anna@${domain},,member\r\nJan,,E-${domain},recovery_officer\r\nBoss,boss@${domain},,admin\r\n`;
    const reply = await bulk(cookie, csv, false);
    expect(reply.status).toBe(201);
    const answer = (await reply.json()) as Answer;
    expect(answer).toMatchObject({ dry_run: false, applied: true, counts: { rows: 3, invited: 1, awaiting_approval: 2, refused: 0 } });
    const [anna, jan, boss] = answer.rows;
    expect(anna).toMatchObject({ line: 2, status: 'invited', link: expect.stringMatching(/\/enroll#invitation=[\w-]{43}$/) });
    expect(jan).toMatchObject({ line: 3, status: 'awaiting_approval' });
    expect(boss).toMatchObject({ line: 4, status: 'awaiting_approval' });
    expect(jan!.link).toBeUndefined();
    expect(boss!.link).toBeUndefined();

    const stored = await runtime.db.selectFrom('invitations').selectAll().where('organisation_id', '=', organisationId).where('created_by', '=', admin.id).orderBy('created_at').execute();
    expect(stored.map((row) => [row.display_name, row.role, row.approval_required, row.token_hash === null])).toEqual(
      expect.arrayContaining([
        ['Nowak, Anna', 'member', false, false],
        ['Jan', 'recovery_officer', true, true],
        ['Boss', 'admin', true, true],
      ]),
    );
    const token = anna!.link!.split('invitation=')[1]!;
    const annaRow = stored.find((row) => row.id === anna!.invitation_id)!;
    expect(annaRow.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(stored)).not.toContain(token);

    const created = await runtime.db.selectFrom('audit_log').select('subject').where('action', '=', 'invitation.created').where('subject', 'in', answer.rows.map((row) => `invitation:${row.invitation_id}`)).execute();
    expect(created).toHaveLength(3);
    const summary = await runtime.db.selectFrom('audit_log').selectAll().where('action', '=', 'invitation.bulk_created').where('subject', '=', `org:${organisationId}`).execute();
    expect(summary).toHaveLength(1);
    expect(summary[0]!.details).toMatchObject({ rows: 3, invited: 1, awaiting_approval: 2, by: `user:${admin.id}` });
    expect(JSON.stringify(await runtime.db.selectFrom('audit_log').select('details').execute())).not.toContain(token);

    // A second run of the same file: every person has a pending invitation now.
    const again = (await (await bulk(cookie, csv, true)).json()) as Answer;
    expect(again.rows.map((row) => row.error)).toEqual(['invitation_pending', 'invitation_pending', 'invitation_pending']);
  });

  it("refuses an admin an address at another organisation's domain", async () => {
    const a = await organisation();
    const b = await organisation();
    const reply = await bulk(a.cookie, `display_name,email\nPlanted,planted@${b.domain}`, false);
    expect(reply.status).toBe(422);
    expect(((await reply.json()) as Answer).rows[0]).toMatchObject({ status: 'refused', error: 'email_domain_not_allowed' });
    expect(await runtime.db.selectFrom('invitations').select('id').where('email', '=', `planted@${b.domain}`).execute()).toEqual([]);
  });

  it('refuses members and recovery officers, and a malformed file with 400 invalid_csv naming the line', async () => {
    const { domain, organisationId, cookie } = await organisation();
    const csv = `display_name,email\nX,x@${domain}`;
    for (const role of ['member', 'recovery_officer'] as const) {
      const reply = await bulk(await sessionCookie(runtime, await createTestUser(runtime, { role, organisationId })), csv, false);
      expect(reply.status).toBe(403);
    }
    const malformed = await bulk(cookie, `display_name,email\nX,x@${domain}\n"Y,y@${domain}`, false);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'invalid_csv', error_description: 'line 3: a quoted field is not closed' });
    expect(await runtime.db.selectFrom('invitations').select('id').where('email', '=', `x@${domain}`).execute()).toEqual([]);
  });
});

describe('warta invite --csv', () => {
  const cli = { runtime: async () => runtime, write: () => {} };

  it('checks on --dry-run, then invites as the operator: any domain, privileged roles usable at once', async () => {
    const org = await createOrganisation(runtime, { actor: 'test' }, { name: `Agency ${randomBytes(3).toString('hex')}` });
    const dir = mkdtempSync(path.join(tmpdir(), 'warta-csv-'));
    const file = path.join(dir, 'people.csv');
    const tag = randomBytes(3).toString('hex');
    writeFileSync(file, `display_name,email,role\nOfficer,officer-${tag}@anywhere.gov,recovery_officer\nMember,member-${tag}@elsewhere.gov,\n`);

    const before = await count('invitations');
    const dry = await inviteCommand.run({ org: org.name, csv: file, 'dry-run': true }, cli);
    expect(dry).toMatchObject({ organisation: org.name, dry_run: true, counts: { would_invite: 2, refused: 0 } });
    expect(inviteCommand.format(dry)).toMatch(/^Dry run for .*: 2 of 2 rows would be invited, 0 refused; nothing was written\.\n +line  status/);
    expect(inviteCommand.exitCode!(dry)).toBe(0);
    expect(await count('invitations')).toBe(before);

    const done = await inviteCommand.run({ org: org.name, csv: file }, cli);
    expect(done).toMatchObject({ applied: true, counts: { invited: 2, awaiting_approval: 0 } });
    const text = inviteCommand.format(done);
    expect(text).toContain(`officer-${tag}@anywhere.gov`);
    expect(text.match(/#invitation=/g)).toHaveLength(2);
    expect(await count('invitations')).toBe(before + 2);

    const again = await inviteCommand.run({ org: org.name, csv: file }, cli);
    expect(again).toMatchObject({ applied: false, counts: { refused: 2 } });
    expect(inviteCommand.exitCode!(again)).toBe(1);
    expect(inviteCommand.format(again)).toMatch(/^Nothing was invited .*\n.*\n +2  refused +officer-.*invitation_pending: /);

    await expect(inviteCommand.run({ org: org.name, csv: file, 'display-name': 'X' }, cli)).rejects.toThrow(/--csv takes everyone from the file; drop --display-name/);
    await expect(inviteCommand.run({ org: org.name, csv: path.join(dir, 'missing.csv') }, cli)).rejects.toThrow(/cannot read --csv .*ENOENT/);
  });
});
