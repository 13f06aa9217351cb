import { type RawBuilder, sql } from 'kysely';

// A refresh is the hot path: write only when the address changed or a minute has passed.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Notes that a device refreshed its tokens just now from `ip` (last use and last IP on
 * the device list). It is a statement for the refresh rotation's own query, as a
 * data-modifying CTE over the rotated grant (`grantCte`), so a refresh stays one round
 * trip; it writes at most once a minute per device unless the IP changed.
 */
export function touchDeviceOnRefresh(grantCte: string, now: Date, ip: string | null): RawBuilder<unknown> {
  const stale = new Date(now.getTime() - TOUCH_INTERVAL_MS);
  return sql`update devices d set last_used_at = ${now}, last_ip = ${ip}
    from ${sql.table(grantCte)} g
    where d.grant_id = g.id and (d.last_used_at <= ${stale} or d.last_ip is distinct from ${ip})`;
}
