/**
 * Forgets where people signed in from once it no longer matters. Ended sessions,
 * devices unused since, and old security events stay (the account page, the
 * admin's view and reuse detection read them), but their IP addresses and user
 * agents are blanked once older than `WARTA_PERSONAL_DATA_RETENTION_DAYS`.
 * Audit entries are left alone: they are append-only and MAC'd, so an edit would
 * break the chain; `warta audit archive` is how the audit log's addresses leave
 * the database.
 */
import { sql } from 'kysely';
import { addSeconds } from '../clock.js';
import type { Deps } from '../deps.js';
import { type PeriodicJob, startPeriodicJob } from '../jobs/periodic.js';

/** Rows blanked per statement: keeps each transaction and its locks short on a large first run. */
export const RETENTION_BATCH = 500;
const INTERVAL_MS = 60 * 60 * 1000;

export interface BlankedCounts {
  sessions: number;
  devices: number;
  security_events: number;
}

type RetentionDeps = Pick<Deps, 'db' | 'clock' | 'config'>;

async function blankSessions(deps: RetentionDeps, cutoff: Date): Promise<number> {
  const result = await deps.db
    .updateTable('sessions')
    .set({ ip: null, user_agent: null })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('sessions')
        .select('id')
        .where((w) => w.or([w('ip', 'is not', null), w('user_agent', 'is not', null)]))
        // Ended before the cutoff: revoked, or past its idle or absolute expiry. `least` skips a null revoked_at;
        // written as one expression so sessions_address_ended_idx (migration 0025) answers it.
        .where(sql<Date>`least(revoked_at, expires_at, idle_expires_at)`, '<', cutoff)
        .limit(RETENTION_BATCH),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

async function blankDevices(deps: RetentionDeps, cutoff: Date): Promise<number> {
  const result = await deps.db
    .updateTable('devices')
    .set({ user_agent: null, first_ip: null, last_ip: null })
    .where('grant_id', 'in', (eb) =>
      eb
        .selectFrom('devices')
        .select('grant_id')
        .where((w) => w.or([w('user_agent', 'is not', null), w('first_ip', 'is not', null), w('last_ip', 'is not', null)]))
        .where('last_used_at', '<', cutoff)
        .limit(RETENTION_BATCH),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

async function blankSecurityEvents(deps: RetentionDeps, cutoff: Date): Promise<number> {
  const result = await deps.db
    .updateTable('security_events')
    .set({ ip: null })
    .where('id', 'in', (eb) => eb.selectFrom('security_events').select('id').where('ip', 'is not', null).where('occurred_at', '<', cutoff).limit(RETENTION_BATCH))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** One round: every table in batches until nothing older than the retention keeps an address, or the job is stopping. */
export async function blankExpiredPersonalData(deps: RetentionDeps, stopping: () => boolean = () => false): Promise<BlankedCounts> {
  const cutoff = addSeconds(deps.clock.now(), -deps.config.personalData.retentionSeconds);
  const counts: BlankedCounts = { sessions: 0, devices: 0, security_events: 0 };
  const steps: [keyof BlankedCounts, (deps: RetentionDeps, cutoff: Date) => Promise<number>][] = [
    ['sessions', blankSessions],
    ['devices', blankDevices],
    ['security_events', blankSecurityEvents],
  ];
  for (const [table, blank] of steps) {
    for (;;) {
      if (stopping()) return counts;
      const blanked = await blank(deps, cutoff);
      counts[table] += blanked;
      if (blanked < RETENTION_BATCH) break;
    }
  }
  return counts;
}

export function startPersonalDataRetention(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'log'>): PeriodicJob {
  return startPeriodicJob({ name: 'personal data retention', intervalMs: INTERVAL_MS, log: deps.log, round: (stopping) => blankExpiredPersonalData(deps, stopping) });
}
