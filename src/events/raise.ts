import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import { newId } from '../crypto/random.js';
import { type Database, json, type SecurityEventRow } from '../db/schema.js';
import { ALWAYS_DELIVERED_EVENT_TYPES, BANNER_ONLY_EVENT_TYPES, INSTANCE_EVENT_TYPES, type InitiatingEntity, isSecurityEventType, type SecurityEventDetails, type SecurityEventType } from './types.js';

export type RaiseSecurityEventInput = {
  [T in SecurityEventType]: {
    type: T;
    userId: string;
    organisationId: string;
    details: SecurityEventDetails[T];
    /** The address the action came from, shown to the user in the banner; never sent to receivers. */
    ip?: string | null;
    initiatingEntity?: InitiatingEntity;
    /** RFC 8417 §2.2 `txn`: pass the same value to correlate the SETs of one action (e.g. the request id). */
    txn?: string;
  };
}[SecurityEventType];

// Namespace of the per-user advisory lock (two-key form: this, hashtext(user id)).
const SUBJECT_ORDER_LOCK = 71_140_006;

const MAX_TEXT = 200;

/**
 * Records a security event and queues one SET per subscribed receiver of the
 * user's organisation. Call it inside the transaction that makes the change
 * (next to its appendAudit): the event exists exactly when the change does.
 * It never waits for delivery; the outbox worker pushes the SETs.
 *
 * It is raiseSecurityEventSteps in a statement of its own, so an event raised
 * here and one raised inside a larger statement (the authorization code's) reach
 * the same receivers by the same rule.
 *
 * Order per subject: the per-user transaction lock makes two transactions that
 * raise events for the same user commit in the order their outbox ids were
 * assigned, so "oldest pending id first" in the claim query is the order the
 * changes happened in. The statement takes the lock before it inserts anything.
 */
export async function raiseSecurityEvent(trx: Transaction<Database>, clock: Clock, input: RaiseSecurityEventInput): Promise<SecurityEventRow> {
  const { userId, organisationId, ...event } = input;
  // The subject is read only in the organisation named, so a user of another one raises nothing and throws below.
  const { rows } = await sql<SecurityEventRow>`
    with subject as (${lockedSubjectStep(userId, sql<boolean>`organisation_id = ${organisationId}`)}),
    ${raiseSecurityEventSteps({ subject: 'subject', event: 'event', sets: 'event_sets' }, clock, event as SecurityEventStepInput, sql<boolean>`true`)}
    select * from event`.execute(trx);
  // Fail closed: an event filed under the wrong organisation would reach another organisation's receivers.
  if (!rows[0]) throw new Error(`security event ${input.type}: user ${userId} is not in organisation ${organisationId}`);
  return rows[0];
}

/** What raiseSecurityEventSteps raises: raiseSecurityEvent's input, with the user and organisation read in the statement itself. */
export type SecurityEventStepInput = {
  [T in SecurityEventType]: Omit<Extract<RaiseSecurityEventInput, { type: T }>, 'userId' | 'organisationId'>;
}[SecurityEventType];

/**
 * The step of a larger statement that reads a security event's subject when `condition`
 * holds, taking the per-user lock that orders a user's events: later steps that
 * assign outbox ids read from it, so the lock is held before any is.
 * Its rows (`id`, `organisation_id`) are what raiseSecurityEventSteps files the event under.
 * The lock orders the events, not the reads: a statement that waited for it still sees
 * the rows as they were when it began (PostgreSQL's read committed), which is safe for
 * the organisation because a user's `organisation_id` never changes; a receiver
 * subscribed or removed during the wait may be missed or included once.
 */
export function lockedSubjectStep(userId: string, condition: RawBuilder<boolean>): RawBuilder<unknown> {
  return sql`select id, organisation_id, pg_advisory_xact_lock(${SUBJECT_ORDER_LOCK}, hashtext(${userId}::text)) as locked
    from users where id = ${userId} and ${condition}`;
}

/**
 * A security event as steps of a larger statement, so a change, its audit entry
 * and its event commit together in one round trip: the event (CTE `names.event`,
 * returning the stored row) and one SET per subscribed receiver (`names.sets`), for
 * the user the `subject` step (lockedSubjectStep) read, when `condition` holds. The
 * organisation is the user's own, read in the same statement, so the event cannot be
 * filed under another one.
 */
export function raiseSecurityEventSteps(names: { subject: string; event: string; sets: string }, clock: Clock, input: SecurityEventStepInput, condition: RawBuilder<boolean>): RawBuilder<unknown> {
  const details = checkedDetails(input.type, input.details);
  const now = clock.now();
  const event = sql`${sql.table(names.event)} as (
    insert into security_events (id, organisation_id, user_id, type, details, initiating_entity, txn, ip, occurred_at)
    select ${newId()}, s.organisation_id, s.id, ${input.type}, ${json(details)}::jsonb, ${input.initiatingEntity ?? null}, ${input.txn?.slice(0, MAX_TEXT) ?? null}, ${input.ip ?? null}, ${now}
    from ${sql.table(names.subject)} s where ${condition}
    returning *)`;
  const receives = receiverRule(input.type);
  if (!receives) return event;
  return sql`${event}, ${sql.table(names.sets)} as (${queueSets(names.event, now, receives)})`;
}

/**
 * Who is sent an event of `type`, as a condition on receiver `r` of the event's
 * organisation; undefined when nobody is (a banner-only announcement). Every way of
 * raising an event queues its SETs by this rule.
 */
function receiverRule(type: SecurityEventType): RawBuilder<boolean> | undefined {
  if (BANNER_ONLY_EVENT_TYPES.includes(type)) return undefined;
  if (ALWAYS_DELIVERED_EVENT_TYPES.includes(type)) return sql<boolean>`true`;
  return sql<boolean>`(r.events is null or r.events @> ${json([type])}::jsonb)`;
}

/**
 * The insert that queues a SET for each event of the CTE `events` (its `id`,
 * `organisation_id`, `user_id`) to each receiver of the event's organisation that
 * `receives`, not removed; outbox ids in subject, then receiver, order.
 */
function queueSets(events: string, now: Date, receives: RawBuilder<boolean>): RawBuilder<unknown> {
  return sql`insert into set_outbox (jti, receiver_id, event_id, user_id, status, created_at, next_attempt_at, attempts)
    select gen_random_uuid()::text, r.id, e.id, e.user_id, 'pending', ${now}, ${now}, 0
    from ${sql.table(events)} e join event_receivers r on r.organisation_id = e.organisation_id and r.removed_at is null and ${receives}
    order by e.user_id, r.id`;
}

/** The details as stored: required members present, free text bounded. A bad call is a bug, so it aborts the caller's transaction. */
function checkedDetails(type: SecurityEventType, given: SecurityEventDetails[SecurityEventType]): Record<string, unknown> {
  if (!isSecurityEventType(type)) throw new TypeError(`unknown security event type "${String(type)}"`);
  if (INSTANCE_EVENT_TYPES.includes(type)) throw new TypeError(`security event ${type} is about the instance: raise it with raiseInstanceSecurityEvent`);
  const details: Record<string, unknown> = { ...(given as Record<string, unknown>) };
  const required: Partial<Record<SecurityEventType, string[]>> = {
    session_revoked: ['sessionId'],
    credential_change: ['changeType', 'credentialType'],
    recovery_opened: ['caseId'],
    recovery_approved: ['caseId'],
    recovery_rejected: ['caseId'],
    recovery_disputed: ['caseId'],
    recovery_expired: ['caseId'],
    account_recovered: ['caseId'],
    device_linked: ['deviceId', 'deviceName'],
    role_granted: ['role', 'grantedBy', 'displayName'],
    role_revoked: ['role', 'revokedBy', 'displayName'],
    client_changed: ['clientId', 'clientName', 'change'],
    organisation_changed: ['change'],
  };
  for (const name of required[type] ?? [])
    if (typeof details[name] !== 'string' || details[name] === '') throw new TypeError(`security event ${type} needs details.${name}`);
  for (const [name, value] of Object.entries(details)) if (typeof value === 'string') details[name] = value.slice(0, MAX_TEXT);
  return details;
}

export interface RaisedInBulk {
  events: number;
  sets: number;
}

/**
 * `raiseSecurityEvent` for many users of one organisation at once, in two
 * statements whatever their number (ending an organisation's sessions touches
 * every account). Users outside the organisation are skipped, never filed under it.
 * Unlike the single raise it takes no per-user lock (thousands of advisory locks
 * would exhaust the lock table): a SET raised concurrently for one of these users
 * may reach a receiver in the other order.
 */
export async function raiseSecurityEventForUsers(
  trx: Transaction<Database>,
  clock: Clock,
  input: { type: 'sessions_revoked'; organisationId: string; userIds: readonly string[]; details: SecurityEventDetails['sessions_revoked']; initiatingEntity: InitiatingEntity; txn: string },
): Promise<RaisedInBulk> {
  if (input.userIds.length === 0) return { events: 0, sets: 0 };
  const now = clock.now();
  const { rows } = await sql<{ events: number; sets: number }>`
    with raised as (
      insert into security_events (id, organisation_id, user_id, type, details, initiating_entity, txn, ip, occurred_at)
      select gen_random_uuid(), u.organisation_id, u.id, ${input.type}, ${json(input.details)}::jsonb, ${input.initiatingEntity}, ${input.txn.slice(0, MAX_TEXT)}, null, ${now}
      from users u where u.id = any(${[...input.userIds]}::uuid[]) and u.organisation_id = ${input.organisationId}
      order by u.id
      returning id, user_id, organisation_id),
    queued as (${queueSets('raised', now, receiverRule(input.type) ?? sql<boolean>`false`)} returning 1)
    select (select count(*) from raised)::int as events, (select count(*) from queued)::int as sets`.execute(trx);
  return rows[0]!;
}

/**
 * An event about the instance itself (INSTANCE_EVENT_TYPES): one per organisation,
 * a SET to every receiver of each whatever it subscribed to, in one statement.
 */
export async function raiseInstanceSecurityEvent(
  trx: Transaction<Database>,
  clock: Clock,
  input: { type: 'signing_key_withdrawn'; details: SecurityEventDetails['signing_key_withdrawn']; initiatingEntity: InitiatingEntity; txn: string },
): Promise<RaisedInBulk> {
  const now = clock.now();
  const { rows } = await sql<{ events: number; sets: number }>`
    with raised as (
      insert into security_events (id, organisation_id, user_id, type, details, initiating_entity, txn, ip, occurred_at)
      select gen_random_uuid(), o.id, null, ${input.type}, ${json(input.details)}::jsonb, ${input.initiatingEntity}, ${input.txn.slice(0, MAX_TEXT)}, null, ${now}
      from organisations o
      returning id, organisation_id, user_id),
    queued as (${queueSets('raised', now, receiverRule(input.type) ?? sql<boolean>`false`)} returning 1)
    select (select count(*) from raised)::int as events, (select count(*) from queued)::int as sets`.execute(trx);
  return rows[0]!;
}
