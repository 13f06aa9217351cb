import type { Kysely, Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import { addSeconds, type Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { announceToAdmins } from '../events/announce.js';
import { notFound, WartaError } from '../errors.js';

/**
 * When the officer may first act on cases: the waiver's moment if the operator
 * waived the cooldown, else the grant plus the configured cooldown. A rogue
 * admin's freshly minted officers wait a day, while the other admins see the
 * grant on their banner and can act.
 */
export async function officerActsFrom(db: Kysely<Database> | Transaction<Database>, cooldownSeconds: number, officerId: string): Promise<Date | undefined> {
  const row = await db.selectFrom('user_roles').select(['granted_at', 'acts_from']).where('user_id', '=', officerId).where('role', '=', 'recovery_officer').executeTakeFirst();
  if (!row) return undefined;
  return row.acts_from ?? addSeconds(row.granted_at, cooldownSeconds);
}

/** Refuses a case act by an officer still in the new-officer cooldown. */
export async function assertOfficerCooledDown(deps: { db: Kysely<Database>; clock: Clock; config: { recovery: { officerCooldownSeconds: number } } }, officerId: string): Promise<void> {
  const actsFrom = await officerActsFrom(deps.db, deps.config.recovery.officerCooldownSeconds, officerId);
  if (!actsFrom || actsFrom > deps.clock.now())
    throw new WartaError(403, 'officer_cooldown', `a newly appointed recovery officer may act on cases from ${actsFrom?.toISOString() ?? 'never'}; the instance operator can waive this`);
}

/** The operator lifts the cooldown for one named officer (e.g. when an organisation is set up), announced to the officer's organisation's admins and audited. */
export async function waiveOfficerCooldown(deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array }, context: AuditContext, officerId: string): Promise<Date> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const waived = await trx.updateTable('user_roles').set({ acts_from: now }).where('user_id', '=', officerId).where('role', '=', 'recovery_officer').returning('acts_from').executeTakeFirst();
    if (!waived) throw notFound('officer_not_found', 'no recovery officer with that username');
    const officer = await trx.selectFrom('users').select(['organisation_id', 'display_name', 'username']).where('id', '=', officerId).executeTakeFirstOrThrow();
    await announceToAdmins(trx, deps.clock, officer.organisation_id, { type: 'organisation_changed', details: { change: 'officer_cooldown_waived', officerName: officer.display_name || officer.username } });
    await appendAudit(trx, deps, context, { action: 'officer.cooldown_waived', subject: `user:${officerId}`, details: { acts_from: now.toISOString() } });
    return now;
  });
}
