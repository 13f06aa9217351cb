/**
 * Deletes provider state nobody can use any more. Used codes and rotated refresh
 * tokens are kept until well after they expire, because presenting one again is how
 * reuse is detected; everything else goes once it has expired.
 */
import { addSeconds } from '../clock.js';
import type { Deps } from '../deps.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';

/** How long a spent or expired code or grant is kept, so a late replay is still recognised as reuse. */
const REUSE_MEMORY_SECONDS = 24 * 3600;
/** How long delivered or abandoned back-channel logouts stay for inspection. */
const OUTBOX_RETENTION_SECONDS = 30 * 24 * 3600;
const INTERVAL_MS = 10 * 60 * 1000;

export async function purgeExpiredOidcState(deps: Pick<Deps, 'db' | 'clock'>): Promise<number> {
  const now = deps.clock.now();
  const longAgo = addSeconds(now, -REUSE_MEMORY_SECONDS);
  const counts = await Promise.all([
    deps.db.deleteFrom('oauth_seen_jtis').where('expires_at', '<', now).executeTakeFirst(),
    deps.db.deleteFrom('oauth_revoked_access_tokens').where('expires_at', '<', now).executeTakeFirst(),
    deps.db.deleteFrom('oauth_authorization_requests').where('expires_at', '<', now).executeTakeFirst(),
    deps.db.deleteFrom('oauth_authorization_codes').where('expires_at', '<', longAgo).executeTakeFirst(),
    deps.db.deleteFrom('oauth_refresh_tokens').where('expires_at', '<', now).executeTakeFirst(),
    // A grant's tokens cannot outlive it; its access tokens expire minutes after it does.
    deps.db.deleteFrom('oauth_grants').where('expires_at', '<', longAgo).executeTakeFirst(),
    deps.db
      .deleteFrom('backchannel_logouts')
      .where((eb) => eb.or([eb('delivered_at', '<', addSeconds(now, -OUTBOX_RETENTION_SECONDS)), eb('abandoned_at', '<', addSeconds(now, -OUTBOX_RETENTION_SECONDS))]))
      .executeTakeFirst(),
  ]);
  return counts.reduce((sum, result) => sum + Number(result.numDeletedRows), 0);
}

export function startOidcHousekeeping(deps: Pick<Deps, 'db' | 'clock' | 'log'>): PeriodicJob {
  return startPeriodicJob({ name: 'OIDC housekeeping', intervalMs: INTERVAL_MS, log: deps.log, round: () => purgeExpiredOidcState(deps) });
}
