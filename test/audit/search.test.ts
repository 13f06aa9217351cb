/**
 * An organisation's admin searches and exports their organisation's audit log
 * over real HTTP, and never sees another organisation's entries: not about its
 * people, not by its people, not the operator's acts there.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/audit.js';
import { MAX_PAGE } from '../../src/audit/search.js';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { exportAuditCommand, searchAuditCommand } from '../../src/cli/commands/audit.js';
import { auditOf, peopleServer } from '../people/support.js';

const { runtime, enroll, organisation, other, admin, otherAdmin, operator } = await peopleServer();
const member = await enroll(organisation.id, 'member');
const stranger = await enroll(other.id, 'member');

type Entry = { id: number; at: string; actor: string; action: string; subject: string | null; details: Record<string, unknown> };
type Page = { entries: Entry[]; next_cursor: string | null };
const search = async (who: typeof admin, query = '') => {
  const reply = await who.client.get(`/api/admin/audit${query}`);
  return { status: reply.status, body: reply.body as unknown as Page & { error?: string } };
};
const everything = async (who: typeof admin, query = '') => {
  const entries: Entry[] = [];
  let cursor: string | null = null;
  do {
    const page = await search(who, `${query}${query ? '&' : '?'}limit=${MAX_PAGE}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    entries.push(...page.body.entries);
    cursor = page.body.next_cursor;
  } while (cursor);
  return entries;
};
const append = (actor: string, action: string, subject: string | null, details: Record<string, unknown> = {}) => appendAudit(runtime.db, runtime, { actor }, { action, subject, details });

// Entries the other organisation's admin must never see.
const foreignMarker = `foreign-${randomUUID()}`;
await append(`user:${stranger.user.id}`, 'test.stranger_acted', `user:${stranger.user.id}`, { marker: foreignMarker });
await append('cli', 'test.about_other_org', `org:${other.id}`, { marker: foreignMarker });
// The operator belongs to a third organisation and acts on this one's member: this organisation's record, not the operator's own organisation's.
await append(`user:${operator.user.id}`, 'person.disabled', `user:${member.user.id}`, { marker: 'operator-acted-here' });
// An act by the organisation's own admin on another organisation's person (as only an operator could): the other organisation's.
await append(`user:${admin.user.id}`, 'person.viewed', `user:${stranger.user.id}`, { marker: foreignMarker });
// A client that was the other organisation's and is now this one's (warta client assign): the former owner's admin acted on it then.
const movedClient = await registerClient(runtime, { actor: 'test' }, { client_name: 'Moved', redirect_uris: ['https://moved.example.gov/cb'] }, { authority: OPERATOR });
await runtime.db.updateTable('oauth_clients').set({ organisation_id: organisation.id }).where('client_id', '=', movedClient.client_id).execute();
await append(`user:${otherAdmin.user.id}`, 'client.secret_rotated', `client:${movedClient.client_id}`, { marker: foreignMarker });
// An act with no subject by the organisation's member, and one about a signing key.
await append(`user:${member.user.id}`, 'test.no_subject', null, { marker: 'own-no-subject' });
await append(`user:${admin.user.id}`, 'signing_key.rotated', 'key:abc', { marker: 'own-key' });

describe('audit search for an organisation’s admin', () => {
  it('answers the organisation’s entries: about its people, about the organisation, and its people’s acts without a subject', async () => {
    const entries = await everything(admin);
    const markers = entries.map((entry) => entry.details.marker);
    expect(markers).toEqual(expect.arrayContaining(['operator-acted-here', 'own-no-subject', 'own-key']));
    expect(entries.some((entry) => entry.action === 'invitation.redeemed' || entry.subject === `org:${organisation.id}`)).toBe(true);
  });

  it('never answers another organisation’s entries, whichever filter is used', async () => {
    for (const query of ['', '?action=test.', `?actor=user:${stranger.user.id}`, `?actor=user:${admin.user.id}`, '?action=person.viewed', '?from=2000-01-01']) {
      const entries = await everything(admin, query);
      expect(JSON.stringify(entries), query).not.toContain(foreignMarker);
      expect(JSON.stringify(entries), query).not.toContain(other.id);
      expect(JSON.stringify(entries), query).not.toContain(stranger.user.id);
    }
    // And the other organisation's admin sees theirs, not ours.
    const theirs = await everything(otherAdmin);
    expect(JSON.stringify(theirs)).toContain(foreignMarker);
    expect(JSON.stringify(theirs)).not.toContain('operator-acted-here');
    expect(JSON.stringify(theirs)).not.toContain(organisation.id);
  });

  it('refuses a person of another organisation as not found, the same as an unknown one', async () => {
    for (const person of [`user:${stranger.user.id}`, stranger.user.id, `user:${randomUUID()}`, 'nobody']) {
      const reply = await search(admin, `?person=${encodeURIComponent(person)}`);
      expect(reply.status).toBe(404);
      expect(reply.body.error).toBe('person_not_found');
    }
  });

  it('filters by person, actor, action prefix and time', async () => {
    const aboutMember = await everything(admin, `?person=user:${member.user.id}`);
    expect(aboutMember.length).toBeGreaterThan(0);
    expect(aboutMember.every((entry) => entry.subject === `user:${member.user.id}`)).toBe(true);
    const byOperator = await everything(admin, `?actor=user:${operator.user.id}`);
    expect(byOperator.map((entry) => entry.details.marker)).toEqual(['operator-acted-here']);
    const person = await everything(admin, '?action=person.');
    expect(person.length).toBeGreaterThan(0);
    expect(person.every((entry) => entry.action.startsWith('person.'))).toBe(true);
    expect(await everything(admin, '?action=person')).toEqual([]);
    const future = new Date(runtime.clock.now().getTime() + 60_000).toISOString();
    expect(await everything(admin, `?from=${future}`)).toEqual([]);
    expect((await everything(admin, `?to=${future}`)).length).toBe((await everything(admin)).length);
  });

  it('pages newest first and stably when many entries share one millisecond', async () => {
    // The clock does not move: twelve entries with the same time.
    for (let i = 0; i < 12; i++) await append(`user:${member.user.id}`, 'test.same_millisecond', `user:${member.user.id}`, { i });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await search(admin, `?action=test.same_millisecond&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.entries.map((entry) => entry.details.i as number));
      cursor = page.body.next_cursor;
      // An entry appended while paging is not read into an older page.
      if (seen.length === 5) await append(`user:${member.user.id}`, 'test.same_millisecond', `user:${member.user.id}`, { i: 99 });
    } while (cursor);
    expect(seen).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('refuses malformed filters and cursors with 400, never a 500', async () => {
    for (const query of ['?from=yesterday', '?to=2026-13-45', '?actor=root', '?action=%25', '?cursor=bm9wZQ', '?limit=0', `?limit=${MAX_PAGE + 1}`, '?from=2026-02-01&to=2026-01-01']) {
      const reply = await search(admin, query);
      expect(reply.status, query).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
    }
  });
});

describe('audit export for an organisation’s admin', () => {
  it('answers JSON lines of the organisation’s entries only, oldest first, and puts the export on record', async () => {
    const reply = await admin.client.call('GET', '/api/admin/audit/export?action=person.');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = (reply.body as { text?: string }).text ?? JSON.stringify(reply.body);
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Entry);
    expect(lines.length).toBe(Number(reply.headers.get('warta-export-rows')));
    expect(reply.headers.get('warta-export-truncated')).toBe('false');
    expect(lines.every((line) => line.action.startsWith('person.'))).toBe(true);
    expect(lines.map((line) => line.id)).toEqual([...lines.map((line) => line.id)].sort((a, b) => a - b));
    expect(text).not.toContain(foreignMarker);
    const recorded = await auditOf(runtime, 'audit.exported', `org:${organisation.id}`);
    expect(recorded.at(-1)).toMatchObject({ actor: `user:${admin.user.id}`, outcome: 'success', details: { rows: lines.length, truncated: false, filters: { action: 'person.', person: null } } });
  });

  it('exports nothing of another organisation, whatever the filters', async () => {
    const reply = await admin.client.call('GET', `/api/admin/audit/export?actor=user:${stranger.user.id}`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('warta-export-rows')).toBe('0');
    const all = await admin.client.call('GET', '/api/admin/audit/export');
    const text = (all.body as { text?: string }).text ?? JSON.stringify(all.body);
    expect(text).not.toContain(foreignMarker);
    expect(text).not.toContain(other.id);
  });

  it('refuses a person of another organisation without writing an export entry', async () => {
    const before = (await auditOf(runtime, 'audit.exported', `org:${organisation.id}`)).length;
    const reply = await admin.client.call('GET', `/api/admin/audit/export?person=user:${stranger.user.id}`);
    expect(reply.status).toBe(404);
    expect((await auditOf(runtime, 'audit.exported', `org:${organisation.id}`)).length).toBe(before);
  });
});

describe('the operator’s audit search and export at the command line', () => {
  const io = (lines: string[] = []) => ({ runtime: async () => runtime, write: (text: string) => void lines.push(text) });

  it('searches one organisation (--org) as its admins see it, or the whole instance', async () => {
    const ours = await searchAuditCommand.run({ org: organisation.name, limit: String(MAX_PAGE) }, io());
    expect(JSON.stringify(ours)).toContain('operator-acted-here');
    expect(JSON.stringify(ours)).not.toContain(foreignMarker);
    const instance = await searchAuditCommand.run({ action: 'test.', limit: String(MAX_PAGE) }, io());
    expect(JSON.stringify(instance)).toContain(foreignMarker);
    await expect(searchAuditCommand.run({ org: 'No Such Ministry' }, io())).rejects.toMatchObject({ code: 'organisation_not_found' });
  });

  it('exports one organisation as JSON lines and puts the export on record as the command line’s', async () => {
    const lines: string[] = [];
    const result = await exportAuditCommand.run({ org: other.name, action: 'test.' }, io(lines));
    const entries = lines.map((line) => JSON.parse(line) as Entry);
    expect(result).toEqual({ exported: entries.length, organisation: other.name });
    expect(entries.map((entry) => entry.details.marker)).toEqual([foreignMarker, foreignMarker]);
    const recorded = await auditOf(runtime, 'audit.exported', `org:${other.id}`);
    expect(recorded.at(-1)).toMatchObject({ actor: 'cli', details: { rows: 2, filters: { action: 'test.' } } });
  });
});
