/**
 * Emergency signing-key rotation: the key (or a copy of it) may be in someone
 * else's hands, so unlike `keys rotate` nothing waits. Every published key is
 * withdrawn now and a new one signs from now, and in the same transaction every
 * event receiver of every organisation is queued a `signing_key_withdrawn` SET
 * (signed, at delivery, with the new key) naming the withdrawn kids.
 *
 * Reach: this instance forgets its cached keys at once. Every other instance
 * (and the CLI's host, which is a process of its own) re-reads the keys within
 * `WARTA_KEY_CACHE_SECONDS`; until then it may still accept, and sign with, a
 * withdrawn key. docs/incident-response.md says how to shorten that.
 */
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { newId } from '../crypto/random.js';
import { withdrawSigningKeys } from '../crypto/signing-keys.js';
import type { Deps } from '../deps.js';
import { raiseInstanceSecurityEvent } from '../events/raise.js';
import { endpointUrl, ENDPOINTS } from '../oidc/endpoints.js';
import { incidentReason } from './reason.js';

export interface EmergencyRotation {
  kid: string;
  withdrawn: string[];
  active_from: string;
  organisations_told: number;
  sets_queued: number;
}

export async function emergencyRotateSigningKey(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'box' | 'config' | 'signingKeys' | 'signingKeyProvider'>, context: AuditContext, input: { reason: unknown }): Promise<EmergencyRotation> {
  const reason = incidentReason(input.reason);
  const result = await deps.db.transaction().execute(async (trx) => {
    const rotation = await withdrawSigningKeys(trx, deps);
    const raised = await raiseInstanceSecurityEvent(trx, deps.clock, {
      type: 'signing_key_withdrawn',
      details: { withdrawnKids: rotation.withdrawn, signingKid: rotation.kid, jwksUri: endpointUrl(deps.config.issuer, ENDPOINTS.jwks) },
      initiatingEntity: 'admin',
      txn: newId(),
    });
    await appendAudit(trx, deps, context, {
      action: 'signing_key.withdrawn',
      subject: `key:${rotation.kid}`,
      details: { reason, withdrawn: rotation.withdrawn, organisations_told: raised.events, sets_queued: raised.sets },
    });
    return { kid: rotation.kid, withdrawn: rotation.withdrawn, active_from: deps.clock.now().toISOString(), organisations_told: raised.events, sets_queued: raised.sets };
  });
  deps.signingKeys.invalidate();
  return result;
}
