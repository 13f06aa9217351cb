/**
 * What the user sees and ends of their signed-in devices (refresh-token families)
 * and browser sessions, and their recent sign-ins. Revocation is immediate:
 * the grant is revoked in SQL (refresh fails, introspection and bearer checks see
 * it at once), back-channel logouts are queued, and `session_revoked` is raised
 * and audited in the same transaction.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { raiseSecurityEvent } from '../events/raise.js';
import { notFound, WartaError } from '../errors.js';
import { endSessionGrants, enqueueBackchannelLogouts, revokeGrant } from '../grants/service.js';
import { revokeSession } from '../sessions/service.js';
import { listPasskeys, passkeyView } from '../webauthn/credentials.js';
import { cleanDeviceName, deviceName, platformOf } from '../grants/device-name.js';

type DevicesDeps = { db: Kysely<Database>; clock: Clock };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const deviceNotFound = () => notFound('device_not_found', 'no such device is signed in to your account');
export const sessionNotFound = () => notFound('session_not_found', 'no such session is active on your account');

/** A device or session id from a URL: anything but a UUID is simply not found (never a database error). */
export function deviceIdParam(raw: string): string {
  if (!UUID.test(raw)) throw deviceNotFound();
  return raw.toLowerCase();
}

export function sessionIdParam(raw: string): string {
  if (!UUID.test(raw)) throw sessionNotFound();
  return raw.toLowerCase();
}

export interface DeviceView {
  id: string;
  name: string;
  client_id: string;
  client_name: string;
  platform: string;
  signed_in_at: string;
  last_used_at: string;
  last_ip: string | null;
  /** RFC 8176 methods of the sign-in that linked it. */
  sign_in_methods: string[];
  acr: string;
  offline: boolean;
  /** The device whose access token made this request (the messenger API). */
  current: boolean;
}

/**
 * Live grants of the user: not revoked, not expired, and (unless offline_access)
 * their browser session still live: the same rule the refresh grant applies, so
 * the list shows exactly the devices that can still get tokens. Grants from before
 * devices were recorded have no devices row: they are shown by client name.
 */
export async function listDevices(deps: DevicesDeps, userId: string, currentGrantId?: string): Promise<DeviceView[]> {
  const now = deps.clock.now();
  const rows = await deps.db
    .selectFrom('oauth_grants as g')
    .innerJoin('oauth_clients as c', 'c.client_id', 'g.client_id')
    .leftJoin('devices as d', 'd.grant_id', 'g.id')
    .leftJoin('sessions as s', 's.id', 'g.session_id')
    .select(['g.id', 'g.client_id', 'c.client_name', 'g.created_at', 'g.amr', 'g.acr', 'g.offline', 'd.name', 'd.platform', 'd.last_used_at', 'd.last_ip'])
    .select(sql<Date | null>`(select max(r.created_at) from oauth_refresh_tokens r where r.grant_id = g.id)`.as('last_refresh_at'))
    .where('g.user_id', '=', userId)
    .where('g.revoked_at', 'is', null)
    .where('g.expires_at', '>', now)
    .where((eb) => eb.or([eb('g.offline', '=', true), eb.and([eb('s.revoked_at', 'is', null), eb('s.expires_at', '>', now)])]))
    .orderBy('g.created_at', 'desc')
    .orderBy('g.id')
    .execute();
  return rows.map((row) => {
    const lastUsed = [row.created_at, row.last_used_at, row.last_refresh_at].filter((d): d is Date => d instanceof Date).reduce((a, b) => (a > b ? a : b));
    return {
      id: row.id,
      name: row.name ?? deviceName({ requested: undefined, clientName: row.client_name, platform: 'unknown' }),
      client_id: row.client_id,
      client_name: row.client_name,
      platform: row.platform ?? 'unknown',
      signed_in_at: row.created_at.toISOString(),
      last_used_at: lastUsed.toISOString(),
      last_ip: row.last_ip ?? null,
      sign_in_methods: row.amr,
      acr: row.acr,
      offline: row.offline,
      current: row.id === currentGrantId,
    };
  });
}

export interface SessionView {
  id: string;
  platform: string;
  user_agent: string | null;
  ip: string | null;
  signed_in_at: string;
  last_seen_at: string;
  sign_in_methods: string[];
  acr: string;
  /** The browser session making this request. */
  current: boolean;
}

export async function listSessions(deps: DevicesDeps, userId: string, currentSessionId?: string): Promise<SessionView[]> {
  const now = deps.clock.now();
  const rows = await deps.db
    .selectFrom('sessions')
    .select(['id', 'user_agent', 'ip', 'created_at', 'last_seen_at', 'amr', 'acr'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('idle_expires_at', '>', now)
    .orderBy('last_seen_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    platform: platformOf(row.user_agent),
    user_agent: row.user_agent,
    ip: row.ip,
    signed_in_at: row.created_at.toISOString(),
    last_seen_at: row.last_seen_at.toISOString(),
    sign_in_methods: row.amr,
    acr: row.acr,
    current: row.id === currentSessionId,
  }));
}

export const SIGN_IN_HISTORY_LENGTH = 30;

export interface SignInView {
  at: string;
  ip: string | null;
  platform: string;
  method: string | null;
  result: 'success' | 'failure';
  /** `signin.succeeded`, `signin.failed`, `signin.locked` … */
  action: string;
  reason: string | null;
}

/** The last 30 sign-in attempts naming this account (audit_log `signin.*`), newest first. */
export async function recentSignIns(db: Kysely<Database>, userId: string, limit = SIGN_IN_HISTORY_LENGTH): Promise<SignInView[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['at', 'ip', 'user_agent', 'action', 'outcome', 'details'])
    .where('subject', '=', `user:${userId}`)
    .where('action', 'like', 'signin.%')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => {
    const details = row.details as Record<string, unknown>;
    return {
      at: row.at.toISOString(),
      ip: row.ip,
      platform: platformOf(row.user_agent),
      method: typeof details.method === 'string' ? details.method : null,
      result: row.outcome,
      action: row.action,
      reason: typeof details.reason === 'string' ? details.reason : null,
    };
  });
}

/** Everything the account page and the messenger show: devices, passkeys, TOTP, browser sessions, sign-ins. */
export async function accountSecurityOverview(deps: DevicesDeps, userId: string, current: { grantId?: string; sessionId?: string } = {}) {
  const [devices, passkeys, totp, sessions, signIns] = await Promise.all([
    listDevices(deps, userId, current.grantId),
    listPasskeys(deps.db, userId),
    deps.db.selectFrom('totp_credentials').select(['created_at', 'last_used_at']).where('user_id', '=', userId).executeTakeFirst(),
    listSessions(deps, userId, current.sessionId),
    recentSignIns(deps.db, userId),
  ]);
  return {
    devices,
    passkeys: passkeys.map(passkeyView),
    totp: totp ? { enrolled: true, created_at: totp.created_at.toISOString(), last_used_at: totp.last_used_at?.toISOString() ?? null } : { enrolled: false },
    sessions,
    sign_ins: signIns,
  };
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
    await appendAudit(trx, deps.clock, context, { action: 'device.renamed', subject: `user:${input.userId}`, details: { device_id: grant.id, name } });
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
    await appendAudit(trx, deps.clock, context, {
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
    await appendAudit(trx, deps.clock, context, { action: 'session.revoked', subject: `user:${input.userId}`, details: { session_id: session.id, backchannel_logouts: notifiedClients } });
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
