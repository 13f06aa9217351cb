/**
 * What the user sees of their signed-in devices (refresh-token families) and
 * browser sessions, and their recent sign-ins. Ending or renaming one: actions.ts.
 */
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { listPasskeys, passkeyView } from '../webauthn/credentials.js';
import { deviceName, platformOf } from '../grants/device-name.js';

export type DevicesDeps = { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array };

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
  /** It signed in through this request's browser session: signing it out ends that session too. */
  ends_this_session: boolean;
}

/**
 * Live grants of the user: not revoked, not expired, and (unless offline_access)
 * their browser session still live: the same rule the refresh grant applies, so
 * the list shows exactly the devices that can still get tokens. Grants from before
 * devices were recorded have no devices row: they are shown by client name.
 */
export async function listDevices(deps: DevicesDeps, userId: string, currentGrantId?: string, currentSessionId?: string): Promise<DeviceView[]> {
  const now = deps.clock.now();
  const rows = await deps.db
    .selectFrom('oauth_grants as g')
    .innerJoin('oauth_clients as c', 'c.client_id', 'g.client_id')
    .leftJoin('devices as d', 'd.grant_id', 'g.id')
    .leftJoin('sessions as s', 's.id', 'g.session_id')
    .select(['g.id', 'g.client_id', 'g.session_id', 'c.client_name', 'g.created_at', 'g.amr', 'g.acr', 'g.offline', 'd.name', 'd.platform', 'd.last_used_at', 'd.last_ip'])
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
      ends_this_session: currentSessionId !== undefined && row.session_id === currentSessionId,
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
    listDevices(deps, userId, current.grantId, current.sessionId),
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
