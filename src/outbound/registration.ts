import { appendAudit, type AuditContext, type AuditWriter } from '../audit/audit.js';
import type { Db } from '../db/schema.js';
import type { WartaError } from '../errors.js';
import { destinationRefusal, type OutboundAllowList } from './allow-list.js';

export interface DestinationCheckDeps extends AuditWriter {
  db: Db;
  config: { outbound: { allow: OutboundAllowList } };
}

/**
 * Refuses to register `url` as somewhere Warta sends to unless the operator's
 * allow-list admits its host. No DNS here: an admin request makes no outbound
 * lookup, and where a name points is checked at every delivery. The refused
 * attempt is audited (nothing else is written): probing internal addresses is
 * what a compromised admin account would try.
 */
export async function requireAllowedDestination(
  deps: DestinationCheckDeps,
  context: AuditContext,
  input: { url: URL; field: string; subject?: string },
  refusal: (description: string) => WartaError,
): Promise<void> {
  const reason = destinationRefusal(deps.config.outbound.allow, input.url.hostname);
  if (!reason) return;
  await appendAudit(deps.db, deps, context, {
    action: 'outbound.destination_refused',
    subject: input.subject ?? null,
    outcome: 'failure',
    details: { field: input.field, host: input.url.host, reason },
  });
  throw refusal(`${input.field} is not an allowed destination: ${reason} (the instance operator sets it: WARTA_OUTBOUND_ALLOW)`);
}
