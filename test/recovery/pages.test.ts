import { describe, expect, it } from 'vitest';
import { createTestRuntime, sessionCookie } from '../support/runtime.js';
import { browser, TEST_ENV } from '../webauthn/ceremony.js';
import { auditRows, caseRow, DESKS, openedCase, type Person, recoveryDesk } from './support.js';

const runtime = await createTestRuntime({ env: TEST_ENV });

const NEVER = 'Never read this code to anyone. Warta staff will never ask you for it.';

const approveForm = (officer: Person, caseId: string, desk = DESKS[1]!, headers: Record<string, string> = {}) =>
  officer.client.call('POST', `/recovery/cases/${caseId}/approve`, new URLSearchParams({ desk }).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });

const scriptsAreFiles = (html: string) => html.match(/<script[^>]*>/g)!.every((tag) => / src="\/static\//.test(tag));

describe('the officer console', () => {
  it('sends a visitor to sign in, and tells a member it is for recovery officers (audited)', async () => {
    const anonymous = await browser(runtime).get('/recovery');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/signin?return_to=%2Frecovery');

    const desk = await recoveryDesk(runtime);
    const member = await desk.member.client.get('/recovery');
    expect(member.status).toBe(403);
    expect(member.body.text).toContain('The recovery desk is for recovery officers');
    expect((await auditRows(runtime, 'recovery.refused')).at(-1)).toMatchObject({ subject: `user:${desk.member.user.id}`, details: { attempted: 'console', reason: 'forbidden', path: '/recovery' } });
  });

  it('asks an officer signed in without a passkey to confirm with one', async () => {
    const desk = await recoveryDesk(runtime);
    const client = browser(runtime);
    client.state.cookie = (await sessionCookie(runtime, desk.officerA.user, ['pwd', 'otp', 'mfa'])).split('=')[1];
    const page = await client.get('/recovery');
    expect(page.status).toBe(403);
    expect(page.body.text).toContain('Confirm with my passkey');
  });

  it('finds people and lists the cases waiting for a second officer', async () => {
    const desk = await recoveryDesk(runtime);
    await runtime.db.updateTable('users').set({ display_name: 'Jan Kowalski' }).where('id', '=', desk.member.user.id).execute();
    const search = await desk.officerA.client.get('/recovery?q=Kowalski');
    expect(search.status).toBe(200);
    expect(search.body.text).toContain(`href="/recovery/open?user=${desk.member.user.id}"`);
    expect(scriptsAreFiles(search.body.text)).toBe(true);

    const open = await desk.officerA.client.get(`/recovery/open?user=${desk.member.user.id}`);
    expect(open.body.text).toContain('Last 4 characters of the document number');
    for (const name of DESKS) expect(open.body.text).toContain(`<option value="${name}">`);

    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const console = await desk.officerB.client.get('/recovery');
    expect(console.body.text).toContain(`href="/recovery/cases/${caseId}"`);
    expect(console.body.text).toContain('Waiting for a second officer');
  });

  it('shows the opener that a second officer must approve, and offers the second officer the approval', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const opener = (await desk.officerA.client.get(`/recovery/cases/${caseId}`)).body.text as string;
    expect(opener).toContain('A second recovery officer must review and approve this case');
    expect(opener).not.toContain('id="approve-form"');
    expect(opener).toContain('number ending 4KX9');

    const reviewer = (await desk.officerB.client.get(`/recovery/cases/${caseId}`)).body.text as string;
    expect(reviewer).toContain(`<form id="approve-form" method="post" action="/recovery/cases/${caseId}/approve"`);
    expect((await desk.officerB.client.get('/recovery/cases/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('answers the approval with the printable slip, once, and never shows the code again', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const slip = await approveForm(desk.officerB, caseId);
    expect(slip.status).toBe(200);
    expect(slip.headers.get('cache-control')).toBe('no-store');
    const html = slip.body.text as string;
    const code = /id="recovery-code">([0-9A-Z-]{24})</.exec(html)?.[1];
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    expect(html).toContain(NEVER);
    expect(html).toContain(desk.member.user.display_name);
    expect(html).toContain(`Issued at desk “${DESKS[1]}”`);
    expect(html).toContain('Valid until');
    expect(html).toContain('http://localhost:3000/recover');
    expect((await caseRow(runtime, caseId)).status).toBe('approved');

    const again = await approveForm(desk.officerC, caseId);
    expect(again.status).toBe(409);
    expect(again.body.text).toContain('not waiting for approval');
    for (const page of [again, await desk.officerB.client.get(`/recovery/cases/${caseId}`), await desk.officerB.client.get('/recovery')]) expect(page.body.text).not.toContain(code);
  });

  it('refuses a form approval without a fresh passkey confirmation, showing why', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    runtime.clock.advance(6 * 60);
    const refused = await approveForm(desk.officerB, caseId);
    expect(refused.status).toBe(403);
    expect(refused.body.text).toContain('data-code="reauthentication_required"');
    expect(refused.body.text).not.toContain('id="recovery-code"');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
  });

  it('refuses a form approval posted from another site', async () => {
    const desk = await recoveryDesk(runtime);
    const caseId = await openedCase(desk.officerA, desk.member.user.id);
    const forged = await approveForm(desk.officerB, caseId, DESKS[1], { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(forged.status).toBe(403);
    expect(forged.body.error).toBe('cross_origin_request');
    expect((await caseRow(runtime, caseId)).status).toBe('pending');
  });
});

describe('the /recover page', () => {
  it('tells the person plainly never to read the code to anyone, in English and Polish', async () => {
    const page = await browser(runtime).get('/recover');
    expect(page.status).toBe(200);
    expect(page.body.text).toContain(NEVER);
    expect(page.body.text).toContain('Use this page only with a recovery code that a recovery officer handed to you');
    expect(scriptsAreFiles(page.body.text)).toBe(true);
    const polish = await browser(runtime).get('/recover', { 'accept-language': 'pl' });
    expect(polish.body.text).toContain('Nigdy nikomu nie czytaj tego kodu');
  });
});
