/**
 * The operator's view of the signing keys and the planned rotation, shared by
 * `warta keys` and the operator API. A key is shown by its kid, algorithm,
 * state and times; its key material, private or public, never leaves here.
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { addSigningKey } from './signing-keys.js';

/**
 * `signing`: signs now. `published`: rotated in, published ahead, signs from
 * active_from. `retiring`: replaced, still published until its tokens expire.
 * `retired`: unpublished. `withdrawn`: unpublished at once by an emergency rotation.
 */
export type SigningKeyState = 'signing' | 'published' | 'retiring' | 'retired' | 'withdrawn';

export interface SigningKeyView {
  kid: string;
  alg: string;
  state: SigningKeyState;
  created_at: string;
  /** Signs from here. */
  active_from: string;
  /** Unpublished from here (null: no successor yet). */
  retire_at: string | null;
  withdrawn_at: string | null;
}

export async function listSigningKeys(db: Db, clock: Clock): Promise<SigningKeyView[]> {
  const now = clock.now();
  const rows = await db.selectFrom('signing_keys').select(['kid', 'alg', 'created_at', 'active_from', 'retire_at', 'withdrawn_at']).orderBy('created_at').orderBy('active_from').execute();
  const signing = rows.filter((k) => k.active_from <= now && (!k.retire_at || k.retire_at > now)).at(-1)?.kid;
  return rows.map((k) => ({
    kid: k.kid,
    alg: k.alg,
    state: k.withdrawn_at ? 'withdrawn' : k.retire_at && k.retire_at <= now ? 'retired' : k.kid === signing ? 'signing' : k.active_from > now ? 'published' : 'retiring',
    created_at: k.created_at.toISOString(),
    active_from: k.active_from.toISOString(),
    retire_at: k.retire_at?.toISOString() ?? null,
    withdrawn_at: k.withdrawn_at?.toISOString() ?? null,
  }));
}

export interface PlannedRotation {
  kid: string;
  active_from: string;
  retiring: { kid: string; unpublished_at: string }[];
}

/**
 * A planned rotation: the new key is published now and signs only after
 * `publishAheadSeconds` (default WARTA_KEY_CACHE_SECONDS, so every relying
 * party's cached JWKS has it first); the keys it replaces stay published until
 * every token they signed has expired. Audited (`signing_key.rotated`) in the
 * rotation's transaction.
 */
export async function planSigningKeyRotation(
  deps: Pick<Deps, 'db' | 'box' | 'clock' | 'config' | 'auditEntryKey' | 'signingKeys' | 'signingKeyProvider'>,
  context: AuditContext,
  input: { reason: string | null; publishAheadSeconds?: number | undefined },
): Promise<PlannedRotation> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const rotation = await addSigningKey(trx, deps, {
      publishAheadSeconds: input.publishAheadSeconds ?? deps.config.signingKeys.cacheSeconds,
      maxTokenLifetimeSeconds: Math.max(deps.config.oidc.idTokenTtlSeconds, deps.config.oidc.accessTokenTtlSeconds),
    });
    await appendAudit(trx, deps, context, {
      action: 'signing_key.rotated',
      subject: `key:${rotation.kid}`,
      details: { reason: input.reason, active_from: rotation.activeFrom.toISOString(), retired: rotation.retired.map((r) => r.kid) },
    });
    return { kid: rotation.kid, active_from: rotation.activeFrom.toISOString(), retiring: rotation.retired.map((r) => ({ kid: r.kid, unpublished_at: r.retireAt.toISOString() })) };
  });
  deps.signingKeys.invalidate();
  return result;
}
