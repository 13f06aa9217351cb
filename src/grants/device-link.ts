/**
 * A device links by signing in itself: the only way a device comes to exist is an
 * authorization code issued to a browser session that authenticated (src/oidc/authorize).
 * There is deliberately no "show a code or QR here, approve it there" flow: that is
 * exactly how state-backed phishing attached attackers' devices to officials'
 * messenger accounts (docs/devices.md). What Warta adds is that nobody can link a
 * device unnoticed: every new grant is audited and raised as `device_linked`, which
 * the user's other devices receive as a SET and the account page shows in its banner.
 */
import { type RawBuilder, sql } from 'kysely';
import { appendAuditWhen, type AuditContext, type AuditWriter } from '../audit/audit.js';
import { insertRowWhen } from '../db/insert-when.js';
import type { OAuthGrant } from '../db/schema.js';
import { lockedSubjectStep, raiseSecurityEventSteps } from '../events/raise.js';
import { deviceName, platformOf } from './device-name.js';

export interface LinkDeviceInput {
  grant: Pick<OAuthGrant, 'id' | 'client_id' | 'user_id' | 'created_at'>;
  /** The client's registered name, for a device the client did not name. */
  clientName: string;
  /** The `device_name` authorization parameter, when the client sent one. */
  requestedName: string | undefined;
  /** The sign-in request's audit context: its IP and User-Agent describe the new device. */
  context: AuditContext;
}

/**
 * The `subject` step linkDeviceSteps files its event under: the user's row, read under
 * the per-user lock of security events. Exported here so a statement that links a
 * device needs nothing from events/ itself (events/ reads oidc/ for subjects).
 */
export function deviceOwnerStep(userId: string): RawBuilder<unknown> {
  return lockedSubjectStep(userId, sql<boolean>`true`);
}

/**
 * Records the device of a grant, audits it and raises `device_linked`, as steps of the
 * statement that creates the grant (CTEs `device`, `device_audited`, `device_event`,
 * `device_event_sets`): written when the CTE named `grant` inserted the grant, for the
 * user the `subject` step read (events/raise.ts lockedSubjectStep), so the device, its
 * audit entry and its event exist exactly when the grant does.
 */
export function linkDeviceSteps(writer: AuditWriter, input: LinkDeviceInput, steps: { grant: string; subject: string }): RawBuilder<unknown> {
  const { grant, context } = input;
  const userAgent = context.userAgent?.slice(0, 512) ?? null;
  const platform = platformOf(userAgent);
  const name = deviceName({ requested: input.requestedName, clientName: input.clientName, platform });
  const granted = sql<boolean>`exists (select from ${sql.table(steps.grant)})`;
  const device = insertRowWhen('devices', { grant_id: grant.id, user_id: grant.user_id, name, platform, user_agent: userAgent, first_ip: context.ip ?? null, last_ip: context.ip ?? null, created_at: grant.created_at, last_used_at: grant.created_at }, granted);
  const audit = appendAuditWhen('device', writer, { ...context, actor: `user:${grant.user_id}` }, {
    action: 'device.linked',
    subject: `user:${grant.user_id}`,
    details: { device_id: grant.id, client_id: grant.client_id, name, platform },
  });
  const event = raiseSecurityEventSteps({ subject: steps.subject, event: 'device_event', sets: 'device_event_sets' }, writer.clock, {
    type: 'device_linked',
    details: { deviceId: grant.id, deviceName: name },
    ip: context.ip ?? null,
    initiatingEntity: 'user',
  }, sql<boolean>`exists (select from device)`);
  return sql`device as (${device} returning grant_id), device_audited as (${audit}), ${event}`;
}
