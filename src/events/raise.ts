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
 * Order per subject: the per-user transaction lock makes two transactions that
 * raise events for the same user commit in the order their outbox ids were
 * assigned, so "oldest pending id first" in the claim query is the order the
 * changes happened in.
 */
export async function raiseSecurityEvent(trx: Transaction<Database>, clock: Clock, input: RaiseSecurityEventInput): Promise<SecurityEventRow> {
  const details = checkedDetails(input);
  // The organisation check and the subject lock in one round trip; a mismatch throws, and the rollback releases the lock.
  const user = await trx
    .selectFrom('users')
    .select(['organisation_id', sql<unknown>`pg_advisory_xact_lock(${SUBJECT_ORDER_LOCK}, hashtext(${input.userId}::text))`.as('locked')])
    .where('id', '=', input.userId)
    .executeTakeFirst();
  // Fail closed: an event filed under the wrong organisation would reach another organisation's receivers.
  if (!user || user.organisation_id !== input.organisationId) throw new Error(`security event ${input.type}: user ${input.userId} is not in organisation ${input.organisationId}`);

  const now = clock.now();
  const event = await trx
    .insertInto('security_events')
    .values({
      id: newId(),
      organisation_id: input.organisationId,
      user_id: input.userId,
      type: input.type,
      details: json(details),
      initiating_entity: input.initiatingEntity ?? null,
      txn: input.txn?.slice(0, MAX_TEXT) ?? null,
      ip: input.ip ?? null,
      occurred_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();

  const receivers = BANNER_ONLY_EVENT_TYPES.includes(input.type) ? [] : await trx
    .selectFrom('event_receivers')
    .select('id')
    .where('organisation_id', '=', input.organisationId)
    .where('removed_at', 'is', null)
    .$if(!ALWAYS_DELIVERED_EVENT_TYPES.includes(input.type), (qb) => qb.where((eb) => eb.or([eb('events', 'is', null), sql<boolean>`events @> ${json([input.type])}::jsonb`])))
    .orderBy('id')
    .execute();
  if (receivers.length) {
    await trx
      .insertInto('set_outbox')
      .values(
        receivers.map((receiver) => ({
          jti: newId(),
          receiver_id: receiver.id,
          event_id: event.id,
          user_id: input.userId,
          status: 'pending' as const,
          created_at: now,
          next_attempt_at: now,
          locked_until: null,
          claim_id: null,
          attempts: 0,
          last_error: null,
          finished_at: null,
        })),
      )
      .execute();
  }
  return event;
}

/** What raiseSecurityEventSteps raises: raiseSecurityEvent's input, with the user and organisation read in the statement itself. */
export type SecurityEventStepInput = {
  [T in SecurityEventType]: Omit<Extract<RaiseSecurityEventInput, { type: T }>, 'userId' | 'organisationId'>;
}[SecurityEventType];

/**
 * The step of a larger statement that reads a security event's subject when `condition`
 * holds, taking the per-user lock raiseSecurityEvent takes (same namespace and key):
 * later steps that assign outbox ids read from it, so the lock is held before any is.
 * Its rows (`id`, `organisation_id`) are what raiseSecurityEventSteps files the event under.
 */
export function lockedSubjectStep(userId: string, condition: RawBuilder<boolean>): RawBuilder<unknown> {
  return sql`select id, organisation_id, pg_advisory_xact_lock(${SUBJECT_ORDER_LOCK}, hashtext(${userId}::text)) as locked
    from users where id = ${userId} and ${condition}`;
}

/**
 * raiseSecurityEvent as steps of a larger statement, so the change, its audit entry
 * and its event commit together in one round trip: the event (CTE `names.event`) and
 * one SET per subscribed receiver (`names.sets`), for the user the `subject` step
 * (lockedSubjectStep) read, when `condition` holds. The organisation is the user's
 * own, read under the lock, so the event cannot be filed under another one.
 */
export function raiseSecurityEventSteps(names: { subject: string; event: string; sets: string }, clock: Clock, input: SecurityEventStepInput, condition: RawBuilder<boolean>): RawBuilder<unknown> {
  const details = checkedDetails({ ...input, userId: '', organisationId: '' } as RaiseSecurityEventInput);
  const now = clock.now();
  const event = sql`${sql.table(names.event)} as (
    insert into security_events (id, organisation_id, user_id, type, details, initiating_entity, txn, ip, occurred_at)
    select ${newId()}, s.organisation_id, s.id, ${input.type}, ${json(details)}::jsonb, ${input.initiatingEntity ?? null}, ${input.txn?.slice(0, MAX_TEXT) ?? null}, ${input.ip ?? null}, ${now}
    from ${sql.table(names.subject)} s where ${condition}
    returning id, organisation_id, user_id)`;
  if (BANNER_ONLY_EVENT_TYPES.includes(input.type)) return event;
  const subscribed = ALWAYS_DELIVERED_EVENT_TYPES.includes(input.type) ? sql`true` : sql`(r.events is null or r.events @> ${json([input.type])}::jsonb)`;
  return sql`${event}, ${sql.table(names.sets)} as (
    insert into set_outbox (jti, receiver_id, event_id, user_id, status, created_at, next_attempt_at, attempts)
    select gen_random_uuid()::text, r.id, e.id, e.user_id, 'pending', ${now}, ${now}, 0
    from ${sql.table(names.event)} e join event_receivers r on r.organisation_id = e.organisation_id and r.removed_at is null and ${subscribed}
    order by r.id)`;
}

/** The details as stored: required members present, free text bounded. A bad call is a bug, so it aborts the caller's transaction. */
function checkedDetails(input: RaiseSecurityEventInput): Record<string, unknown> {
  if (!isSecurityEventType(input.type)) throw new TypeError(`unknown security event type "${String(input.type)}"`);
  if (INSTANCE_EVENT_TYPES.includes(input.type)) throw new TypeError(`security event ${input.type} is about the instance: raise it with raiseInstanceSecurityEvent`);
  const details: Record<string, unknown> = { ...(input.details as Record<string, unknown>) };
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
  for (const name of required[input.type] ?? [])
    if (typeof details[name] !== 'string' || details[name] === '') throw new TypeError(`security event ${input.type} needs details.${name}`);
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
    queued as (
      insert into set_outbox (jti, receiver_id, event_id, user_id, status, created_at, next_attempt_at, attempts)
      select gen_random_uuid()::text, r.id, e.id, e.user_id, 'pending', ${now}, ${now}, 0
      from raised e join event_receivers r on r.organisation_id = e.organisation_id and r.removed_at is null
        and (r.events is null or r.events @> ${json([input.type])}::jsonb)
      order by e.user_id, r.id
      returning 1)
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
      returning id, organisation_id),
    queued as (
      insert into set_outbox (jti, receiver_id, event_id, user_id, status, created_at, next_attempt_at, attempts)
      select gen_random_uuid()::text, r.id, e.id, null, 'pending', ${now}, ${now}, 0
      from raised e join event_receivers r on r.organisation_id = e.organisation_id and r.removed_at is null
      returning 1)
    select (select count(*) from raised)::int as events, (select count(*) from queued)::int as sets`.execute(trx);
  return rows[0]!;
}
