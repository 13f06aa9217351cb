import { describe, expect, it } from 'vitest';
import { SecurityEventBanner } from '../../src/events/banner.js';
import { raiseSecurityEvent, type RaiseSecurityEventInput } from '../../src/events/raise.js';
import { BANNER_DAYS, recentSecurityEvents } from '../../src/events/recent.js';
import { createTestRuntime, createTestUser } from '../support/runtime.js';

const runtime = await createTestRuntime();
const raise = (input: RaiseSecurityEventInput) => runtime.db.transaction().execute((trx) => raiseSecurityEvent(trx, runtime.clock, input));

describe('recent security events', () => {
  it("returns the user's own events of the last 14 days, newest first", async () => {
    const user = await createTestUser(runtime);
    const other = await createTestUser(runtime, { organisationId: user.organisation_id });
    const base = { userId: user.id, organisationId: user.organisation_id };
    await raise({ ...base, type: 'credential_change', details: { changeType: 'create', credentialType: 'app' } });
    runtime.clock.advance(86400);
    const kept = await raise({ ...base, type: 'device_linked', details: { deviceId: 'dev-1', deviceName: 'Pixel 8' }, ip: '192.0.2.7' });
    await raise({ type: 'sessions_revoked', userId: other.id, organisationId: other.organisation_id, details: {} });
    runtime.clock.advance(1);
    const newest = await raise({ ...base, type: 'session_revoked', details: { sessionId: 's-1' } });

    runtime.clock.advance(BANNER_DAYS * 86400 - 2);
    const recent = await recentSecurityEvents(runtime.db, user.id, runtime.clock.now());
    expect(recent.map((e) => e.id)).toEqual([newest.id, kept.id]);
    expect(recent[1]).toEqual({ id: kept.id, type: 'device_linked', details: { deviceId: 'dev-1', deviceName: 'Pixel 8' }, initiatingEntity: null, ip: '192.0.2.7', occurredAt: kept.occurred_at });
    runtime.clock.advance(2);
    expect(await recentSecurityEvents(runtime.db, user.id, runtime.clock.now())).toEqual([]);
  });

  it('lists events of the same instant in the order they were written, whatever their random ids', async () => {
    const user = await createTestUser(runtime);
    const base = { userId: user.id, organisationId: user.organisation_id };
    const written = [];
    for (let i = 0; i < 8; i++) written.push(await raise({ ...base, type: 'session_revoked', details: { sessionId: `s-${i}` } }));
    const recent = await recentSecurityEvents(runtime.db, user.id, runtime.clock.now());
    expect(recent.map((e) => e.id)).toEqual(written.reverse().map((e) => e.id));
  });
});

describe('SecurityEventBanner', () => {
  const at = new Date(Date.UTC(2026, 10, 23, 9, 5));
  const linked = { id: 'e1', type: 'device_linked' as const, details: { deviceId: 'd1', deviceName: 'Pixel 8' }, initiatingEntity: null, ip: '192.0.2.7', occurredAt: at };

  it('says what happened, when and from where, and offers to revoke what the user did not do', () => {
    const html = (<SecurityEventBanner events={[linked]} locale="en" revokeHref={(e) => `/account/devices/${e.details.deviceId}`} />).toString();
    expect(html).toContain('New device “Pixel 8” linked on 23 Nov 2026, 09:05 UTC from 192.0.2.7.');
    expect(html).toContain('<strong>Not you?</strong> <a href="/account/devices/d1">Revoke</a>');
  });

  it('speaks Polish, and without a revoke link tells the user to alert their administrator', () => {
    const removed = { ...linked, id: 'e2', type: 'credential_change' as const, details: { changeType: 'revoke', credentialType: 'fido2-roaming', friendlyName: 'YubiKey' }, ip: null };
    const html = (<SecurityEventBanner events={[removed]} locale="pl" />).toString();
    expect(html).toContain('Klucz bezpieczeństwa „YubiKey”: usunięto 23 lis 2026, 09:05 UTC.');
    expect(html).toContain('To nie Ty?</strong> Natychmiast powiadom administratora.');
  });

  it('tells admins, in both languages, that a privileged person was disabled and by whom', () => {
    const removed = { ...linked, id: 'e3', type: 'organisation_changed' as const, details: { change: 'privileged_person_removed', personName: 'Jan Kowalski', roles: ['admin'], status: 'disabled', changedBy: 'Ewa Lis' }, ip: null };
    expect((<SecurityEventBanner events={[removed]} locale="en" />).toString()).toContain('The admin Ewa Lis disabled Jan Kowalski (admin) on 23 Nov 2026, 09:05 UTC.');
    expect((<SecurityEventBanner events={[removed]} locale="pl" />).toString()).toContain('Administrator Ewa Lis zablokował Jan Kowalski (admin)');
  });

  it('escapes names the user (or an attacker) chose, and renders nothing without events', () => {
    const hostile = { ...linked, details: { deviceId: 'd', deviceName: '<script>alert(1)</script>' } };
    const html = (<SecurityEventBanner events={[hostile]} locale="en" />).toString();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect((<SecurityEventBanner events={[]} locale="en" />).toString()).toBe('');
  });

  it('asks "not you?" only for changes a user makes themselves', () => {
    const revoked = { ...linked, type: 'sessions_revoked' as const, details: {} };
    const html = (<SecurityEventBanner events={[revoked]} locale="en" revokeHref={() => '/x'} />).toString();
    expect(html).toContain('All your sessions were signed out on 23 Nov 2026, 09:05 UTC.');
    expect(html).not.toContain('Not you?');
  });
});
