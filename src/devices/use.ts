import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';

// A refresh is the hot path: write only when the address changed or a minute has passed.
const TOUCH_INTERVAL_MS = 60_000;

/** Notes that a device refreshed its tokens just now from `ip` (last use, last IP on the device list). One statement; writes at most once a minute per device unless the IP changed. */
export async function recordDeviceUse(db: Kysely<Database>, clock: Clock, input: { grantId: string; ip: string | null }): Promise<void> {
  const now = clock.now();
  await db
    .updateTable('devices')
    .set({ last_used_at: now, last_ip: input.ip })
    .where('grant_id', '=', input.grantId)
    .where((eb) => eb.or([eb('last_used_at', '<=', new Date(now.getTime() - TOUCH_INTERVAL_MS)), eb('last_ip', 'is distinct from', input.ip)]))
    .execute();
}
