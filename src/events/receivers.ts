import type { Kysely } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { newId } from '../crypto/random.js';
import { type Database, type EventReceiver, json } from '../db/schema.js';
import { isUuid } from '../db/uuid.js';
import { notFound, WartaError } from '../errors.js';
import type { OutboundAllowList } from '../outbound/allow-list.js';
import { requireAllowedDestination } from '../outbound/registration.js';
import { DELIVERABLE_EVENT_TYPES, type SecurityEventType } from './types.js';

export interface ReceiverInput {
  organisationId: string;
  url: string;
  audience: string;
  /** Warta event type names; undefined or null for every type. */
  events?: unknown;
  /** Sent as `Authorization: Bearer …` to the receiver's endpoint (RFC 8935 §2, RFC 6750). */
  bearerToken?: string;
}

export const bearerTokenContext = (receiverId: string) => `event receiver ${receiverId}`;

const invalidReceiver = (description: string) => new WartaError(400, 'invalid_receiver', description);

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * A receiver endpoint: https, or http on a loopback address outside
 * production (tests and development). Never credentials in the URL (they would
 * be shown and logged with it: use the bearer token, stored sealed), never a
 * fragment (not sent in a request, so a sign of a mistake).
 */
export function checkReceiverUrl(raw: string, env: Config['env']): URL {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) throw new WartaError(400, 'invalid_receiver_url', 'url must be an absolute https URL of at most 2048 characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WartaError(400, 'invalid_receiver_url', 'url is not an absolute URL');
  }
  if (url.username || url.password) throw new WartaError(400, 'invalid_receiver_url', 'url must not contain credentials; register a bearer token instead');
  if (url.hash || raw.includes('#')) throw new WartaError(400, 'invalid_receiver_url', 'url must not have a fragment');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && env !== 'production' && isLoopbackHost(url.hostname)) return url;
  throw new WartaError(400, 'invalid_receiver_url', env === 'production' ? 'url must be https' : 'url must be https (http only on a loopback address outside production)');
}

function checkAudience(audience: unknown): string {
  if (typeof audience !== 'string' || audience.trim() === '' || audience.length > 512 || /[\u0000-\u001f\u007f]/.test(audience))
    throw invalidReceiver('audience must be 1 to 512 printable characters');
  return audience.trim();
}

function checkEvents(events: unknown): SecurityEventType[] | null {
  if (events === undefined || events === null) return null;
  if (!Array.isArray(events) || events.length === 0) throw invalidReceiver('events must be a non-empty list of event types (or left out for every type)');
  for (const type of events) if (!(DELIVERABLE_EVENT_TYPES as readonly unknown[]).includes(type)) throw invalidReceiver(`unknown event type "${String(type)}"; known: ${DELIVERABLE_EVENT_TYPES.join(', ')}`);
  return [...new Set(events as SecurityEventType[])];
}

// RFC 6750 §2.1 b64token.
function checkBearerToken(token: unknown): string | undefined {
  if (token === undefined || token === null) return undefined;
  if (typeof token !== 'string' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token) || token.length > 4096) throw invalidReceiver('bearer_token must be an RFC 6750 token (letters, digits, -._~+/ and trailing =), at most 4096 characters');
  return token;
}

/** What an admin sees of any failed delivery; the reason (a refused connection, a status, an address) is in the operator's log. */
export const DELIVERY_FAILED = 'delivery_failed';

export async function addReceiver(
  deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array; box: SecretBox; config: Pick<Config, 'env'> & { outbound: { allow: OutboundAllowList } } },
  context: AuditContext,
  input: ReceiverInput,
): Promise<EventReceiver> {
  const url = checkReceiverUrl(input.url, deps.config.env);
  const audience = checkAudience(input.audience);
  const events = checkEvents(input.events);
  const bearerToken = checkBearerToken(input.bearerToken);
  await requireAllowedDestination(deps, context, { url, field: 'url', subject: `org:${input.organisationId}` }, (description) => new WartaError(400, 'destination_not_allowed', description));
  const id = newId();
  return deps.db.transaction().execute(async (trx) => {
    const receiver = await trx
      .insertInto('event_receivers')
      .values({
        id,
        organisation_id: input.organisationId,
        url: url.href,
        audience,
        events: events === null ? null : json(events),
        bearer_token_enc: bearerToken === undefined ? null : deps.box.seal(bearerToken, bearerTokenContext(id)),
        created_by: context.actor,
        created_at: deps.clock.now(),
        removed_at: null,
        consecutive_failures: 0,
        failing_since: null,
        last_success_at: null,
        last_failure_at: null,
        last_error: null,
      })
      .onConflict((oc) => oc.columns(['organisation_id', 'url', 'audience']).where('removed_at', 'is', null).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!receiver) throw new WartaError(409, 'receiver_exists', 'a receiver with this url and audience is already registered');
    await appendAudit(trx, deps, context, {
      action: 'event_receiver.added',
      subject: `event_receiver:${receiver.id}`,
      details: { organisation_id: receiver.organisation_id, url: receiver.url, audience, events, bearer_token: bearerToken !== undefined },
    });
    return receiver;
  });
}

/** Removes a receiver of `organisationId` and cancels the SETs still queued for it. */
export async function removeReceiver(deps: { db: Kysely<Database>; clock: Clock; auditEntryKey: Uint8Array }, context: AuditContext, input: { id: string; organisationId: string }): Promise<EventReceiver> {
  if (!isUuid(input.id)) throw notFound('receiver_not_found', 'no such event receiver');
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const removed = await trx
      .updateTable('event_receivers')
      .set({ removed_at: now })
      .where('id', '=', input.id)
      .where('organisation_id', '=', input.organisationId)
      .where('removed_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!removed) throw notFound('receiver_not_found', 'no such event receiver');
    const cancelled = await trx
      .updateTable('set_outbox')
      .set({ status: 'cancelled', finished_at: now, last_error: 'receiver removed' })
      .where('receiver_id', '=', removed.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    await appendAudit(trx, deps, context, {
      action: 'event_receiver.removed',
      subject: `event_receiver:${removed.id}`,
      details: { organisation_id: removed.organisation_id, url: removed.url, cancelled_sets: Number(cancelled.numUpdatedRows) },
    });
    return removed;
  });
}

export async function listReceivers(db: Kysely<Database>, organisationId: string): Promise<(EventReceiver & { pending: number })[]> {
  return db
    .selectFrom('event_receivers as r')
    .selectAll('r')
    .select((eb) =>
      eb
        .selectFrom('set_outbox as o')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('o.receiver_id', '=', 'r.id')
        .where('o.status', '=', 'pending')
        .as('pending'),
    )
    .where('r.organisation_id', '=', organisationId)
    .where('r.removed_at', 'is', null)
    .orderBy('r.created_at')
    .execute()
    .then((rows) => rows.map((row) => ({ ...row, pending: Number(row.pending ?? 0) })));
}

/** Public JSON view: never the bearer token, sealed or not. */
export function receiverView(receiver: EventReceiver & { pending?: number }) {
  return {
    id: receiver.id,
    organisation_id: receiver.organisation_id,
    url: receiver.url,
    audience: receiver.audience,
    events: receiver.events,
    has_bearer_token: receiver.bearer_token_enc !== null,
    created_at: receiver.created_at.toISOString(),
    created_by: receiver.created_by,
    removed_at: receiver.removed_at?.toISOString() ?? null,
    health: {
      consecutive_failures: receiver.consecutive_failures,
      failing_since: receiver.failing_since?.toISOString() ?? null,
      last_success_at: receiver.last_success_at?.toISOString() ?? null,
      last_failure_at: receiver.last_failure_at?.toISOString() ?? null,
      // Never the stored reason, whatever an older version stored there: which error came back is how an admin would map a network.
      last_error: receiver.last_error === null ? null : DELIVERY_FAILED,
      ...(receiver.pending === undefined ? {} : { pending: receiver.pending }),
    },
  };
}
