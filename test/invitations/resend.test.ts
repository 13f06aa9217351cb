/**
 * Resending an invitation over real HTTP: a fresh link, the old one void in
 * the same statement, never two valid links, and a privileged invitation's
 * link never in the hands of one admin alone.
 */
import { describe, expect, it } from 'vitest';
import { setEmailDomains } from '../../src/authority/email-domains.js';
import { createInvitation } from '../../src/invitations/service.js';
import { browser } from '../webauthn/ceremony.js';
import { auditOf, peopleServer } from '../people/support.js';

const { server, runtime, organisation, admin, secondAdmin, otherAdmin } = await peopleServer();
await setEmailDomains(runtime, { actor: 'test' }, { organisationId: organisation.id, domains: ['example.gov'] });
let counter = 0;

const invite = async (role = 'member') => {
  counter += 1;
  return admin.client.post('/api/admin/invitations', { display_name: `Invitee ${counter}`, email: `invitee.${counter}.${Date.now()}@example.gov`, role });
};
const resend = (who: typeof admin, id: string) => who.client.post(`/api/admin/invitations/${id}/resend`);
const tokenOf = (link: string) => new URL(link).hash.replace('#invitation=', '');
const lookup = async (link: string) => (await browser(runtime, { baseUrl: server.issuer }).post('/api/invitations/lookup', { token: tokenOf(link) })).status;

describe('resending an invitation', () => {
  it('issues a fresh link and voids the old one in the same transaction, audited', async () => {
    const created = await invite();
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const resent = await resend(admin, created.body.id);
    expect(resent.status, JSON.stringify(resent.body)).toBe(200);
    expect(resent.body.link).not.toBe(created.body.link);
    expect(await lookup(created.body.link)).toBe(404);
    expect(await lookup(resent.body.link)).toBe(200);
    expect(resent.body.expires_at).toBe(created.body.expires_at);
    expect(await auditOf(runtime, 'invitation.resent', `invitation:${created.body.id}`)).toEqual([expect.objectContaining({ actor: `user:${admin.user.id}`, outcome: 'success' })]);
  });

  it('of two resends at once, at most one link is valid', async () => {
    const created = await invite();
    const replies = await Promise.all([resend(admin, created.body.id), resend(secondAdmin, created.body.id)]);
    for (const reply of replies) expect([200, 409], JSON.stringify(reply.body)).toContain(reply.status);
    const links = [created.body.link, ...replies.filter((r) => r.status === 200).map((r) => r.body.link as string)];
    const usable = [];
    for (const link of links) if ((await lookup(link)) === 200) usable.push(link);
    expect(usable).toHaveLength(1);
  });

  it('refuses an invitation no longer pending: revoked, used or still waiting for its approval', async () => {
    const created = await invite();
    expect((await admin.client.call('DELETE', `/api/admin/invitations/${created.body.id}`)).status).toBe(200);
    const revoked = await resend(admin, created.body.id);
    expect([revoked.status, revoked.body.error]).toEqual([409, 'invitation_revoked']);
    expect(await lookup(created.body.link)).toBe(410);

    const waiting = await invite('recovery_officer');
    expect(waiting.status).toBe(202);
    const unapproved = await resend(secondAdmin, waiting.body.id);
    expect([unapproved.status, unapproved.body.error]).toEqual([409, 'invitation_not_approved']);
    expect(await auditOf(runtime, 'invitation.resend_refused', `invitation:${waiting.body.id}`)).toEqual([expect.objectContaining({ outcome: 'failure', details: { reason: 'invitation_not_approved' } })]);
  });

  it('a privileged invitation is resent only by the admin who approved it: the asker never holds its link alone', async () => {
    const asked = await invite('recovery_officer');
    const approved = await secondAdmin.client.post(`/api/admin/invitations/${asked.body.id}/approve`);
    expect(approved.status).toBe(200);
    const byAsker = await resend(admin, asked.body.id);
    expect([byAsker.status, byAsker.body.error]).toEqual([403, 'invitation_resend_needs_approver']);
    expect(await lookup(approved.body.link)).toBe(200);
    const byApprover = await resend(secondAdmin, asked.body.id);
    expect(byApprover.status).toBe(200);
    expect(await lookup(approved.body.link)).toBe(404);
  });

  it("a privileged invitation the operator made is the operator's to resend", async () => {
    const issued = await createInvitation(runtime, { actor: 'cli' }, { organisationId: organisation.id, displayName: 'Operator’s Officer', email: `officer.${Date.now()}@example.gov`, role: 'recovery_officer' });
    const refused = await resend(admin, issued.invitation.id);
    expect([refused.status, refused.body.error]).toEqual([403, 'operator_required']);
    expect(await lookup(issued.link)).toBe(200);
  });

  it("answers another organisation's admin 404 and leaves the link working", async () => {
    const created = await invite();
    const foreign = await resend(otherAdmin, created.body.id);
    expect([foreign.status, foreign.body.error]).toEqual([404, 'invitation_not_found']);
    expect(await lookup(created.body.link)).toBe(200);
  });
});
