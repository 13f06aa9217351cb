/**
 * What the user can do to their signed-in devices and browser sessions: rename
 * or end them. Revocation is immediate: the grant is revoked in SQL (refresh
 * fails, introspection and bearer checks see it at once), back-channel logouts
 * are queued, and `session_revoked` is raised and audited in the same transaction.
 */
import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { raiseSecurityEvent } from '../events/raise.js';
import { notFound, WartaError } from '../errors.js';
import { endSessionGrants, enqueueBackchannelLogouts, revokeGrant } from '../grants/service.js';
import { revokeSession } from '../sessions/service.js';
import { cleanDeviceName } from '../grants/device-name.js';
import { type DevicesDeps, type DeviceView, listDevices } from './views.js';

export const deviceNotFound = () => notFound('device_not_found', 'no such device is signed in to your account');
export const sessionNotFound = () => notFound('session_not_found', 'no such session is active on your account');

/** A device or session id from a URL: anything but a UUID is simply not found (never a database error). */
export function deviceIdParam(raw: string): string {
  if (!isUuid(raw)) throw deviceNotFound();
  return raw.toLowerCase();
}

export function sessionIdParam(raw: string): string {
  if (!isUuid(raw)) throw sessionNotFound();
  return raw.toLowerCase();
}

export async function renameDevice(deps: DevicesDeps, context: AuditContext, input: { userId: string; deviceId: string; name: string }): Promise<DeviceView> {
  const name = cleanDeviceName(input.name);
  if (!name) throw new WartaError(400, 'invalid_request', 'name must contain visible characters');
  await deps.db.transaction().execute(async (trx) => {
    const grant = await liveGrantOf(trx, deps.clock, input.userId, input.deviceId);
    const renamed = await trx.updateTable('devices').set({ name }).where('grant_id', '=', grant.id).where('user_id', '=', input.userId).returning('grant_id').executeTakeFirst();
    if (!renamed) {
      // A grant from before devices were recorded: give it a row now.
      await trx
        .insertInto('devices')
        .values({ grant_id: grant.id, user_id: input.userId, name, platform: 'unknown', user_agent: null, first_ip: null, last_ip: null, created_at: grant.created_at, last_used_at: grant.created_at })
        .execute();
    }
    await appendAudit(trx, deps, context, { action: 'device.renamed', subject: `user:${input.userId}`, details: { device_id: grant.id, name } });
  });
  const device = (await listDevices(deps, input.userId)).find((d) => d.id === input.deviceId);
  if (!device) throw deviceNotFound();
  return device;
}

/**
 * Signs a device out: revokes its grant (every refresh and access token of the
 * family), ends the browser session it signed in through (else that session could
 * silently sign the device in again with prompt=none), queues back-channel logouts
 * and raises `session_revoked`, in one transaction. Another user's device, or one
 * already signed out, is 404 and nothing changes.
 */
export async function revokeDevice(deps: DevicesDeps, context: AuditContext, input: { userId: string; deviceId: string; txn?: string }): Promise<{ id: string; sessionEnded: boolean; notifiedClients: string[] }> {
  return deps.db.transaction().execute(async (trx) => {
    const grant = await liveGrantOf(trx, deps.clock, input.userId, input.deviceId);
    // The update settles a race between two revocations: only one sees a live grant.
    if (!(await revokeGrant(trx, deps.clock, grant.id, 'device_revoked'))) throw deviceNotFound();
    let sessionEnded = false;
    let notifiedClients: string[] = [];
    if (grant.session_id !== null) {
      const session = { id: grant.session_id, user_id: input.userId };
      sessionEnded = await revokeSession(trx, deps.clock, session.id, 'device_revoked');
      // A live session: end its online grants too and notify its clients. An ended one: its clients were told then, but this (offline) device's client was not.
      notifiedClients = sessionEnded ? await endSessionGrants(trx, deps.clock, session, 'device_revoked') : await enqueueBackchannelLogouts(trx, deps.clock, session);
    }
    await appendAudit(trx, deps, context, {
      action: 'device.revoked',
      subject: `user:${input.userId}`,
      details: { device_id: grant.id, client_id: grant.client_id, session_id: grant.session_id, session_ended: sessionEnded, backchannel_logouts: notifiedClients },
    });
    await raiseSecurityEvent(trx, deps.clock, {
      type: 'session_revoked',
      userId: input.userId,
      organisationId: await organisationOf(trx, input.userId),
      // Receivers know the device by the `sid` of its ID tokens; a grant whose session row is gone is named by its own id.
      details: { sessionId: grant.session_id ?? grant.id },
      ip: context.ip ?? null,
      initiatingEntity: 'user',
      ...(input.txn ? { txn: input.txn } : {}),
    });
    return { id: grant.id, sessionEnded, notifiedClients };
  });
}

/** Ends one of the user's browser sessions and what was signed in through it (OIDC Core §11), as sign-out elsewhere would. */
export async function revokeBrowserSession(deps: DevicesDeps, context: AuditContext, input: { userId: string; sessionId: string; txn?: string }): Promise<{ id: string; notifiedClients: string[] }> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const session = await trx
      .selectFrom('sessions')
      .select(['id', 'user_id'])
      .where('id', '=', input.sessionId)
      .where('user_id', '=', input.userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (!session || !(await revokeSession(trx, deps.clock, session.id, 'revoked_by_user'))) throw sessionNotFound();
    const notifiedClients = await endSessionGrants(trx, deps.clock, session, 'session_revoked');
    await appendAudit(trx, deps, context, { action: 'session.revoked', subject: `user:${input.userId}`, details: { session_id: session.id, backchannel_logouts: notifiedClients } });
    await raiseSecurityEvent(trx, deps.clock, {
      type: 'session_revoked',
      userId: input.userId,
      organisationId: await organisationOf(trx, input.userId),
      details: { sessionId: session.id },
      ip: context.ip ?? null,
      initiatingEntity: 'user',
      ...(input.txn ? { txn: input.txn } : {}),
    });
    return { id: session.id, notifiedClients };
  });
}

async function liveGrantOf(trx: Transaction<Database>, clock: Clock, userId: string, grantId: string) {
  const grant = await trx
    .selectFrom('oauth_grants')
    .select(['id', 'client_id', 'session_id', 'created_at'])
    .where('id', '=', grantId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', clock.now())
    .executeTakeFirst();
  if (!grant) throw deviceNotFound();
  return grant;
}

async function organisationOf(trx: Transaction<Database>, userId: string): Promise<string> {
  const user = await trx.selectFrom('users').select('organisation_id').where('id', '=', userId).executeTakeFirstOrThrow();
  return user.organisation_id;
}
