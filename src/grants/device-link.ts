/**
 * A device links by signing in itself: the only way a device comes to exist is an
 * authorization code issued to a browser session that authenticated (src/oidc/authorize).
 * There is deliberately no "show a code or QR here, approve it there" flow: that is
 * exactly how state-backed phishing attached attackers' devices to officials'
 * messenger accounts (docs/devices.md). What Warta adds is that nobody can link a
 * device unnoticed: every new grant is audited and raised as `device_linked`, which
 * the user's other devices receive as a SET and the account page shows in its banner.
 */
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import type { Database, OAuthGrant } from '../db/schema.js';
import { raiseSecurityEvent } from '../events/raise.js';
import { deviceName, platformOf } from './device-name.js';

export interface LinkDeviceInput {
  grant: Pick<OAuthGrant, 'id' | 'client_id' | 'user_id' | 'created_at'>;
  /** The `device_name` authorization parameter, when the client sent one. */
  requestedName: string | undefined;
  /** The sign-in request's audit context: its IP and User-Agent describe the new device. */
  context: AuditContext;
}

/** Records the device of a grant just created, audits it and raises `device_linked`; call it in the transaction that creates the grant. */
export async function linkDevice(trx: Transaction<Database>, writer: AuditWriter, input: LinkDeviceInput): Promise<void> {
  const { grant, context } = input;
  const owner = await trx
    .selectFrom('users')
    .innerJoin('oauth_clients', (join) => join.on('oauth_clients.client_id', '=', grant.client_id))
    .select(['users.organisation_id', 'oauth_clients.client_name'])
    .where('users.id', '=', grant.user_id)
    .executeTakeFirstOrThrow();
  const userAgent = context.userAgent?.slice(0, 512) ?? null;
  const platform = platformOf(userAgent);
  const name = deviceName({ requested: input.requestedName, clientName: owner.client_name, platform });
  await trx
    .insertInto('devices')
    .values({ grant_id: grant.id, user_id: grant.user_id, name, platform, user_agent: userAgent, first_ip: context.ip ?? null, last_ip: context.ip ?? null, created_at: grant.created_at, last_used_at: grant.created_at })
    .execute();
  await appendAudit(trx, writer, { ...context, actor: `user:${grant.user_id}` }, {
    action: 'device.linked',
    subject: `user:${grant.user_id}`,
    details: { device_id: grant.id, client_id: grant.client_id, name, platform },
  });
  await raiseSecurityEvent(trx, writer.clock, {
    type: 'device_linked',
    userId: grant.user_id,
    organisationId: owner.organisation_id,
    details: { deviceId: grant.id, deviceName: name },
    ip: context.ip ?? null,
    initiatingEntity: 'user',
  });
}
