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

type Window = { days?: number; limit?: number };

/** Security events that occurred in the window ending `now`, newest first, at most `limit`. */
function eventsInWindow(db: Kysely<Database>, now: Date, window: Window) {
  return db
    .selectFrom('security_events')
    .select(['id', 'type', 'details', 'initiating_entity', 'ip', 'occurred_at'])
    .where('occurred_at', '>', addSeconds(now, -(window.days ?? BANNER_DAYS) * 86400))
    .where('occurred_at', '<=', now)
    .orderBy('occurred_at', 'desc')
    .orderBy('seq', 'desc')
    .limit(window.limit ?? 20);
}

/** The stored rows Warta still knows the type of, as the banner reads them. */
function knownEvents(rows: { id: string; type: string; details: unknown; initiating_entity: InitiatingEntity | null; ip: string | null; occurred_at: Date }[]): RecentSecurityEvent[] {
  const events: RecentSecurityEvent[] = [];
  for (const row of rows)
    if (isSecurityEventType(row.type))
      events.push({ id: row.id, type: row.type, details: row.details as Record<string, unknown>, initiatingEntity: row.initiating_entity, ip: row.ip, occurredAt: row.occurred_at });
  return events;
}

/** The user's security events of the last `days` (default 14), newest first: what the account page's banner shows. */
export async function recentSecurityEvents(db: Kysely<Database>, userId: string, now: Date, window: Window = {}): Promise<RecentSecurityEvent[]> {
  return knownEvents(await eventsInWindow(db, now, window).where('user_id', '=', userId).execute());
}

/**
 * Role grants in the organisation over the same window, newest first: every
 * admin's banner shows them, so a grant one admin slipped through is seen by
 * the others.
 */
export async function recentRoleGrants(db: Kysely<Database>, organisationId: string, now: Date, window: Window = {}): Promise<RecentSecurityEvent[]> {
  return knownEvents(await eventsInWindow(db, now, window).where('organisation_id', '=', organisationId).where('type', '=', 'role_granted').execute());
}
