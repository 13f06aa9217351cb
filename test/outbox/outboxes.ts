/**
 * Each outbox the engine serves, seen the same way by the engine tests: queue
 * messages for an endpoint, deliver, read the rows back.
 */
import { randomUUID } from 'node:crypto';
import { OPERATOR, registerClient } from '../../src/clients/service.js';
import { newId } from '../../src/crypto/random.js';
import { deliverPendingEvents } from '../../src/events/deliver.js';
import { raiseSecurityEvent } from '../../src/events/raise.js';
import { addReceiver } from '../../src/events/receivers.js';
import { deliverPendingLogouts } from '../../src/oidc/logout/backchannel.js';
import type { DeliveryOptions, DeliveryReport } from '../../src/outbox/deliver.js';
import type { Runtime } from '../../src/runtime.js';
import type { ReceiverMode } from '../support/receiver-server.js';
import { createTestUser, type TestRuntime } from '../support/runtime.js';

export interface OutboxRow {
  id: string;
  status: 'pending' | 'delivered' | 'rejected' | 'abandoned' | 'cancelled';
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
}

export interface Endpoint {
  /** Queues one message about `subject` (a new subject by default); returns the id the pushed token carries for it. */
  queue(subject?: string): Promise<string>;
  /** A subject this endpoint's messages may be about. */
  newSubject(): Promise<string>;
  rows(): Promise<OutboxRow[]>;
  auditSubject: string;
}

export interface OutboxUnderTest {
  name: string;
  deliver(deps: Runtime, options?: DeliveryOptions): Promise<DeliveryReport>;
  endpoint(runtime: TestRuntime, url: string): Promise<Endpoint>;
  /** The message id a pushed token carries (`jti` of a SET; `sid` of a logout token, whose `jti` is new at each attempt). */
  messageId(claims: Record<string, unknown>): string;
  abandonedAction: string;
  /** An answer the job takes as a refusal for good, when it has one. */
  refusal?: { mode: ReceiverMode; error: string; action: string };
}

const securityEvents: OutboxUnderTest = {
  name: 'Security Event Tokens',
  deliver: (deps, options) => deliverPendingEvents(deps, options),
  async endpoint(runtime, url) {
    const owner = await createTestUser(runtime);
    const receiver = await addReceiver(runtime, { actor: 'test' }, { organisationId: owner.organisation_id, url, audience: 'https://messenger.example.gov/warta-events' });
    const newSubject = async () => (await createTestUser(runtime, { organisationId: owner.organisation_id })).id;
    return {
      auditSubject: `event_receiver:${receiver.id}`,
      newSubject,
      async queue(subject) {
        const userId = subject ?? (await newSubject());
        const event = await runtime.db.transaction().execute((trx) =>
          raiseSecurityEvent(trx, runtime.clock, { type: 'device_linked', userId, organisationId: owner.organisation_id, details: { deviceId: randomUUID(), deviceName: 'Pixel 8' } }),
        );
        return (await runtime.db.selectFrom('set_outbox').select('jti').where('event_id', '=', event.id).where('receiver_id', '=', receiver.id).executeTakeFirstOrThrow()).jti;
      },
      async rows() {
        const rows = await runtime.db.selectFrom('set_outbox').selectAll().where('receiver_id', '=', receiver.id).orderBy('id').execute();
        return rows.map((row) => ({ id: row.jti, status: row.status, attempts: row.attempts, last_error: row.last_error, next_attempt_at: row.next_attempt_at }));
      },
    };
  },
  messageId: (claims) => claims.jti as string,
  abandonedAction: 'security_event.delivery_abandoned',
  refusal: { mode: { kind: 'reject', err: 'invalid_key' }, error: '400 invalid_key', action: 'security_event.delivery_rejected' },
};

const backchannelLogouts: OutboxUnderTest = {
  name: 'back-channel logouts',
  deliver: (deps, options) => deliverPendingLogouts(deps, options),
  async endpoint(runtime, url) {
    const client = await registerClient(runtime, { actor: 'test' }, { client_name: 'Test Portal', redirect_uris: ['http://127.0.0.1:8765/callback'], backchannel_logout_uri: url }, { authority: OPERATOR });
    return {
      auditSubject: `client:${client.client_id}`,
      newSubject: async () => randomUUID(),
      // As enqueueBackchannelLogouts does when a session ends; the rows carry their queue order in created_at.
      async queue(subject) {
        const sessionId = randomUUID();
        const now = runtime.clock.now();
        await runtime.db
          .insertInto('backchannel_logouts')
          .values({ id: newId(), client_id: client.client_id, user_id: subject ?? randomUUID(), session_id: sessionId, created_at: now, next_attempt_at: now, attempts: 0, delivered_at: null, abandoned_at: null, last_error: null })
          .execute();
        return sessionId;
      },
      async rows() {
        const rows = await runtime.db.selectFrom('backchannel_logouts').selectAll().where('client_id', '=', client.client_id).orderBy('created_at').execute();
        return rows.map((row) => ({
          id: row.session_id,
          status: row.delivered_at ? 'delivered' : row.abandoned_at ? 'abandoned' : 'pending',
          attempts: row.attempts,
          last_error: row.last_error,
          next_attempt_at: row.next_attempt_at,
        }));
      },
    };
  },
  messageId: (claims) => claims.sid as string,
  abandonedAction: 'oidc.backchannel_logout_abandoned',
};

export const OUTBOXES = [securityEvents, backchannelLogouts];
