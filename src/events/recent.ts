import type { Kysely } from 'kysely';
import { addSeconds } from '../clock.js';
import type { Database } from '../db/schema.js';
import { type InitiatingEntity, isSecurityEventType, type SecurityEventType } from './types.js';

/** How far back the account page's banner looks. */
export const BANNER_DAYS = 14;

export interface RecentSecurityEvent {
  id: string;
  type: SecurityEventType;
  details: Record<string, unknown>;
  initiatingEntity: InitiatingEntity | null;
  ip: string | null;
  occurredAt: Date;
}

/** The user's security events of the last `days` (default 14), newest first: what the account page's banner shows. */
export async function recentSecurityEvents(db: Kysely<Database>, userId: string, now: Date, options: { days?: number; limit?: number } = {}): Promise<RecentSecurityEvent[]> {
  const rows = await db
    .selectFrom('security_events')
    .select(['id', 'type', 'details', 'initiating_entity', 'ip', 'occurred_at'])
    .where('user_id', '=', userId)
    .where('occurred_at', '>', addSeconds(now, -(options.days ?? BANNER_DAYS) * 86400))
    .where('occurred_at', '<=', now)
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 20)
    .execute();
  const events: RecentSecurityEvent[] = [];
  for (const row of rows)
    if (isSecurityEventType(row.type))
      events.push({ id: row.id, type: row.type, details: row.details as Record<string, unknown>, initiatingEntity: row.initiating_entity, ip: row.ip, occurredAt: row.occurred_at });
  return events;
}

/**
 * Role grants in the organisation over the same window, newest first: every
 * admin's banner shows them, so a grant one admin slipped through is seen by
 * the others (issue 11, attack 2).
 */
export async function recentRoleGrants(db: Kysely<Database>, organisationId: string, now: Date, options: { days?: number; limit?: number } = {}): Promise<RecentSecurityEvent[]> {
  const rows = await db
    .selectFrom('security_events')
    .select(['id', 'type', 'details', 'initiating_entity', 'ip', 'occurred_at'])
    .where('organisation_id', '=', organisationId)
    .where('type', '=', 'role_granted')
    .where('occurred_at', '>', addSeconds(now, -(options.days ?? BANNER_DAYS) * 86400))
    .where('occurred_at', '<=', now)
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 20)
    .execute();
  return rows.map((row) => ({ id: row.id, type: 'role_granted' as const, details: row.details as Record<string, unknown>, initiatingEntity: row.initiating_entity, ip: row.ip, occurredAt: row.occurred_at }));
}
