/**
 * The admin API's lists of invitations and clients come a page at a time: a
 * cursor continues strictly after the last row, every row once, one query per page.
 */
import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { listClientPage, OPERATOR, organisationAdmin, registerClient } from '../../src/clients/service.js';
import { createInvitation, listInvitations } from '../../src/invitations/service.js';
import { createOrganisation } from '../../src/orgs/service.js';
import { enrollPerson } from '../recovery/support.js';
import { createTestRuntime } from '../support/runtime.js';

const runtime = await createTestRuntime();
const organisation = await createOrganisation(runtime, { actor: 'test' }, { name: `Pages ${Math.random().toString(36).slice(2, 8)}` });
const admin = await enrollPerson(runtime, organisation.id, 'admin');
// Seven invitations and seven clients, several created in the same instant: the cursor must tell them apart.
for (let i = 0; i < 7; i += 1) {
  if (i % 3 === 0) runtime.clock.advance(1);
  await createInvitation(runtime, { actor: 'test' }, { organisationId: organisation.id, displayName: `Person ${i}`, email: `person${i}@example.gov`, role: 'member' });
  await registerClient(runtime, { actor: 'test' }, { client_name: `Service ${i}`, redirect_uris: [`https://service${i}.example.gov/cb`] }, { authority: OPERATOR, organisationId: organisation.id });
}

async function everyPage(path: string, key: 'invitations' | 'clients'): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const reply = await admin.client.get(`${path}?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const rows = reply.body[key] as { id?: string; client_id?: string }[];
    expect(rows.length).toBeLessThanOrEqual(3);
    ids.push(...rows.map((row) => (row.id ?? row.client_id)!));
    cursor = reply.body.next_cursor as string | null;
    pages += 1;
  } while (cursor);
  return { ids, pages };
}

describe('lists of the admin API, a page at a time', () => {
  it('walks every invitation once, newest first, across pages of three', async () => {
    const { ids, pages } = await everyPage('/api/admin/invitations', 'invitations');
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(8); // seven, and the admin's own redeemed invitation
    const pending = await admin.client.get('/api/admin/invitations?status=redeemed');
    expect((pending.body.invitations as { status: string }[]).map((row) => row.status)).toEqual(['redeemed']);
  });

  it('walks every client once, oldest first', async () => {
    const { ids, pages } = await everyPage('/api/admin/clients', 'clients');
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(7);
  });

  it('refuses a cursor it did not give out, and a limit out of bounds', async () => {
    expect((await admin.client.get('/api/admin/invitations?cursor=bm9wZQ')).body.error).toBe('invalid_request');
    expect((await admin.client.get('/api/admin/clients?cursor=WyJub3QgYSBkYXRlIiwieCJd')).body.error).toBe('invalid_request');
    expect((await admin.client.get('/api/admin/clients?limit=1000')).body.error).toBe('invalid_request');
  });

  it('takes one query per page however many rows it holds', async () => {
    let queries = 0;
    const counting: KyselyPlugin = { transformQuery: (args) => ((queries += 1), args.node), transformResult: async (args) => args.result };
    const db = runtime.db.withPlugin(counting);
    await listInvitations(db, runtime.clock.now(), organisation.id, { limit: 100 });
    expect(queries).toBe(1);
    queries = 0;
    await listClientPage(db, organisationAdmin(organisation.id), { limit: 100 });
    expect(queries).toBe(1);
  });
});
