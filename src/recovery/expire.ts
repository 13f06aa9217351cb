import { sql } from 'kysely';
import type { RecoveryCase } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { recordCaseChange } from './cases.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';

const BATCH = 100;

/**
 * Closes open cases whose time ran out (a pending case nobody approved, a code
 * nobody redeemed, an enrollment nobody finished) and tells the user with a
 * recovery_expired event. Every instance may sweep: SKIP LOCKED hands each case
 * to one of them, and the condition is checked again on the locked row. Each
 * refusal to redeem an expired code is decided in SQL at redemption, so the
 * sweep is about telling people, not about security; it may run late.
 * Returns how many cases it closed (at most one batch).
 */
export async function expireRecoveryCases(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>): Promise<number> {
  const now = deps.clock.now();
  const due = sql<boolean>`((status = 'pending' and expires_at <= ${now}) or (status = 'approved' and code_expires_at <= ${now}) or (status = 'redeemed' and grant_expires_at <= ${now}))`;
  return deps.db.transaction().execute(async (trx) => {
    const { rows } = await sql<RecoveryCase>`
      update recovery_cases set
        status = 'expired',
        closed_at = ${now},
        close_reason = case status when 'pending' then 'not_approved_in_time' when 'approved' then 'code_not_redeemed_in_time' else 'enrollment_not_finished_in_time' end
      where id in (select id from recovery_cases where ${due} order by id limit ${BATCH} for update skip locked)
        and ${due}
      returning *`.execute(trx);
    for (const expired of rows)
      await recordCaseChange(trx, deps, { actor: 'system' }, expired, { action: 'recovery.expired', event: 'recovery_expired', initiatingEntity: 'system', details: { reason: expired.close_reason } });
    return rows.length;
  });
}

/** The background sweep started by src/main.ts, every `recoverySweepIntervalMs`. */
export function startRecoveryExpiry(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey' | 'config' | 'log'>): PeriodicJob {
  return startPeriodicJob({
    name: 'recovery case expiry',
    intervalMs: deps.config.recovery.sweepIntervalMs,
    log: deps.log,
    round: async (stopping) => {
      while (!stopping() && (await expireRecoveryCases(deps)) === BATCH);
    },
  });
}
