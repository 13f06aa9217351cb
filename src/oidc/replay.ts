import { sql } from 'kysely';
import type { Deps } from '../deps.js';

/**
 * Records a single-use identifier (a DPoP proof's or client assertion's jti) until
 * `expiresAt`; resolves false when it is already recorded and not yet expired. One
 * upsert, so two instances seeing the same jti at once cannot both accept it.
 */
export async function markJtiUsed(deps: Pick<Deps, 'db' | 'clock'>, key: string, expiresAt: Date): Promise<boolean> {
  const now = deps.clock.now();
  const { rows } = await sql<{ key: string }>`
    insert into oauth_seen_jtis (key, expires_at) values (${key}, ${expiresAt})
    on conflict (key) do update set expires_at = excluded.expires_at
      where oauth_seen_jtis.expires_at <= ${now}
    returning key`.execute(deps.db);
  return rows.length === 1;
}

/** `markJtiUsed` bound to a namespace, in the shape the DPoP and client assertion checks take. */
export const jtiRecorder =
  (deps: Pick<Deps, 'db' | 'clock'>, namespace: string) =>
  (jti: string, expiresAt: Date): Promise<boolean> =>
    markJtiUsed(deps, `${namespace}:${jti}`, expiresAt);
