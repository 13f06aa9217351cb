import { type Kysely, sql } from 'kysely';
import { Gauge } from 'prom-client';
import { type AuditShippingStatus, auditShippingStatus } from '../audit-sink/status.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { Database, RecoveryCaseStatus } from '../db/schema.js';
import type { Metrics } from './metrics.js';

const RECOVERY_CASE_STATES: readonly RecoveryCaseStatus[] = ['pending', 'approved', 'redeemed', 'completed', 'rejected', 'cancelled', 'expired', 'locked', 'disputed'];

/** A scrape waits this long for each query; Prometheus's own timeout is 10 s by default and the rest of the scrape must still answer. */
const SCRAPE_QUERY_DEADLINE_MS = 2000;

export interface DatabaseCollectorDeps {
  db: Kysely<Database>;
  clock: Clock;
  config: Pick<Config, 'audit'>;
  connectionUse: DatabaseHandle['connectionUse'];
}

/** Rejects when `query` takes longer than the scrape can wait; the query itself is left to finish or fail on its own. */
function withinDeadline<T>(query: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('scrape query deadline passed')), SCRAPE_QUERY_DEADLINE_MS);
    timer.unref();
  });
  return Promise.race([query, deadline]).finally(() => clearTimeout(timer));
}

const secondsBetween = (earlier: Date, later: Date) => Math.max(0, (later.getTime() - earlier.getTime()) / 1000);

/**
 * Gauges read from the database when Prometheus scrapes, each with one cheap,
 * indexed or small query. A query that fails (the database is down) leaves its
 * gauge without samples and never fails the scrape: `warta_database_up 0` and
 * the process metrics are still reported, which is when they matter most.
 */
export function collectFromDatabase(metrics: Metrics, deps: DatabaseCollectorDeps): void {
  const registers = [metrics.registry];

  new Gauge({
    name: 'warta_database_up',
    help: '1 when the database answered a trivial query during this scrape, 0 otherwise.',
    registers,
    async collect() {
      const up = await withinDeadline(sql`select 1`.execute(deps.db)).then(
        () => 1,
        () => 0,
      );
      this.set(up);
    },
  });

  new Gauge({
    name: 'warta_database_connections',
    help: 'Database connections by state (PostgreSQL pool: total, idle, waiting clients; the embedded database: its one connection).',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      for (const [state, count] of Object.entries(deps.connectionUse())) this.set({ state }, count);
    },
  });

  new Gauge({
    name: 'warta_recovery_cases',
    help: 'Recovery cases by state.',
    labelNames: ['state'],
    registers,
    async collect() {
      this.reset();
      const rows = await withinDeadline(deps.db.selectFrom('recovery_cases').select((eb) => ['status', eb.fn.countAll<number>().as('count')]).groupBy('status').execute()).catch(() => undefined);
      if (!rows) return;
      for (const state of RECOVERY_CASE_STATES) this.set({ state }, 0);
      for (const row of rows) this.set({ state: row.status }, Number(row.count));
    },
  });

  const outboxBacklog = async () => {
    const [securityEvents, logouts] = await withinDeadline(
      Promise.all([
        deps.db
          .selectFrom('set_outbox')
          .select((eb) => ['receiver_id as receiver', eb.fn.countAll<number>().as('pending'), eb.fn.min('created_at').as('oldest')])
          .where('status', '=', 'pending')
          .groupBy('receiver_id')
          .execute(),
        deps.db
          .selectFrom('backchannel_logouts')
          .select((eb) => ['client_id as receiver', eb.fn.countAll<number>().as('pending'), eb.fn.min('created_at').as('oldest')])
          .where('delivered_at', 'is', null)
          .where('abandoned_at', 'is', null)
          .groupBy('client_id')
          .execute(),
      ]),
    );
    return [...securityEvents.map((row) => ({ outbox: 'security_events', ...row })), ...logouts.map((row) => ({ outbox: 'backchannel_logout', ...row }))];
  };

  new Gauge({
    name: 'warta_outbox_pending',
    help: 'Messages waiting in an outbox, per receiver (an event receiver id, or the client id of a back-channel logout).',
    labelNames: ['outbox', 'receiver'],
    registers,
    async collect() {
      this.reset();
      const rows = await outboxBacklog().catch(() => []);
      for (const row of rows) this.set({ outbox: row.outbox, receiver: row.receiver }, Number(row.pending));
    },
  });

  new Gauge({
    name: 'warta_outbox_oldest_pending_age_seconds',
    help: 'How long the oldest message waiting in an outbox has waited, per receiver.',
    labelNames: ['outbox', 'receiver'],
    registers,
    async collect() {
      this.reset();
      const rows = await outboxBacklog().catch(() => []);
      const now = deps.clock.now();
      for (const row of rows) if (row.oldest) this.set({ outbox: row.outbox, receiver: row.receiver }, secondsBetween(new Date(row.oldest), now));
    },
  });

  new Gauge({
    name: 'warta_signing_key_age_seconds',
    help: 'Seconds since the signing key tokens are signed with now was created, labelled with its key id.',
    // The kid also keeps a failed read from showing as age 0: a labelled gauge has no sample after reset().
    labelNames: ['kid'],
    registers,
    async collect() {
      this.reset();
      const now = deps.clock.now();
      const active = await withinDeadline(
        deps.db
          .selectFrom('signing_keys')
          .select(['kid', 'created_at'])
          .where('active_from', '<=', now)
          .where((eb) => eb.or([eb('retire_at', 'is', null), eb('retire_at', '>', now)]))
          .orderBy('active_from', 'desc')
          .limit(1)
          .executeTakeFirst(),
      ).catch(() => undefined);
      if (active) this.set({ kid: active.kid }, secondsBetween(active.created_at, now));
    },
  });

  // One read feeds both gauges of a scrape; no sink configured, no samples.
  let shipping: Promise<AuditShippingStatus | undefined> | undefined;
  const shippingOnce = () => (shipping ??= withinDeadline(auditShippingStatus(deps)).finally(() => setTimeout(() => (shipping = undefined), 0).unref()));
  new Gauge({
    name: 'warta_audit_sink_backlog',
    help: 'Audit entries the configured sink (WARTA_AUDIT_SINK) has not taken yet, sealed or waiting for the sealer.',
    labelNames: ['sink'],
    registers,
    async collect() {
      this.reset();
      const status = await shippingOnce().catch(() => undefined);
      if (status) this.set({ sink: status.sink }, status.backlog);
    },
  });
  new Gauge({
    name: 'warta_audit_sink_oldest_unshipped_seconds',
    help: 'Age of the oldest audit entry the configured sink has not taken yet; 0 when it is up to date.',
    labelNames: ['sink'],
    registers,
    async collect() {
      this.reset();
      const status = await shippingOnce().catch(() => undefined);
      if (status) this.set({ sink: status.sink }, status.oldestUnshippedAgeSeconds);
    },
  });
}
