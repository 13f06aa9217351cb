import { type Compilable, type OperationNodeSource, type RawBuilder, sql, type Transaction } from 'kysely';
import { appendAudit, type AuditContext, auditEntry } from '../audit/audit.js';
import type { AuditEntry, Database, Session } from '../db/schema.js';
import { endSessionGrants } from '../grants/service.js';
import type { Deps } from '../deps.js';
import { newSession, revokeSession, type SessionLifetimePolicy, startSession } from './service.js';

/** What a sign-in needs to know about the request it arrives on; the route gathers it. */
export interface SignInRequest {
  /** Who asks (the actor becomes the user once signed in) and from where. */
  context: AuditContext;
  /** The session the browser already had, if any. */
  previousSession: Session | undefined;
}

/** A started session and the token for its cookie, which the route sets once the transaction committed. */
export interface SignedIn {
  session: Session;
  token: string;
}

/**
 * Completes a sign-in inside the caller's transaction: ends the session the
 * browser had (a fresh id at every sign-in defeats session fixation), starts a
 * new one with the methods used, and audits it.
 */
export async function completeSignIn(deps: Pick<Deps, 'clock' | 'config' | 'auditEntryKey' | 'metrics'>, trx: Transaction<Database>, request: SignInRequest, input: { userId: string; amr: string[]; acrCeiling?: string; method: string; organisationPolicy?: SessionLifetimePolicy }): Promise<SignedIn> {
  const { context, previousSession } = request;
  if (previousSession) await revokeSession(trx, deps.clock, previousSession.id, 'replaced_at_sign_in');
  const { token, session } = await startSession(trx, deps, { userId: input.userId, amr: input.amr, acrCeiling: input.acrCeiling, ip: context.ip ?? null, userAgent: context.userAgent ?? null, organisationPolicy: input.organisationPolicy });
  await appendAudit(trx, deps, { ...context, actor: `user:${input.userId}` }, {
    action: 'signin.succeeded',
    subject: `user:${input.userId}`,
    details: { method: input.method, amr: session.amr, acr: session.acr, session_id: session.id },
  });
  deps.metrics.recordSignIn(input.method, 'success');
  return { session, token };
}

/**
 * A condition of a sign-in made in one statement: a data-modifying query (e.g. the
 * passkey's counter moving forward) that holds when it changes a row. It is given
 * the condition that every gate before it held, to put in its WHERE clause, so a
 * gate changes nothing once an earlier one did not hold.
 */
export type SignInGate = (earlierGatesHeld: RawBuilder<boolean>) => WriteQuery;

type WriteQuery = Compilable<unknown> & OperationNodeSource;

/**
 * completeSignIn as one statement, on condition: the `gates` run first, in order,
 * and only if each changes a row are the previous session ended, the new one
 * started and the sign-in audited. All of it commits together or not at all,
 * like the transaction completeSignIn runs in, in one round trip instead of five.
 * When a gate did not hold, nothing after it was written, and the answer says which
 * (its index in `gates`); what the gates before it changed is committed.
 * `afterwards`: further writes of a successful sign-in (e.g. the failure counters
 * it settles), given the condition that the session started, for their WHERE clauses.
 */
export async function completeSignInWhen(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'auditEntryKey' | 'metrics'>,
  request: SignInRequest,
  input: { userId: string; amr: string[]; acrCeiling?: string; method: string; organisationPolicy: SessionLifetimePolicy },
  gates: readonly [SignInGate, ...SignInGate[]],
  afterwards: (sessionStarted: RawBuilder<boolean>) => readonly WriteQuery[] = () => [],
): Promise<{ signedIn: SignedIn } | { failedGate: number }> {
  const { context, previousSession } = request;
  const { token, session } = newSession(deps, { userId: input.userId, amr: input.amr, acrCeiling: input.acrCeiling, ip: context.ip ?? null, userAgent: context.userAgent ?? null, organisationPolicy: input.organisationPolicy });
  const entry = auditEntry(deps, { ...context, actor: `user:${input.userId}` }, {
    action: 'signin.succeeded',
    subject: `user:${input.userId}`,
    details: { method: input.method, amr: session.amr, acr: session.acr, session_id: session.id },
  });
  const sessionColumns = sql.join(SESSION_COLUMNS.map((column) => sql.ref(column)));
  const auditColumns = sql.join(AUDIT_COLUMNS.map((column) => sql.ref(column)));
  const names = gates.map((_, index) => `gate_${index}`);
  const held = (count: number) => (count === 0 ? sql<boolean>`true` : sql<boolean>`${sql.join(names.slice(0, count).map((name) => sql`exists (select 1 from ${sql.table(name)})`), sql` and `)}`);
  const gateQueries = sql.join(gates.map((gate, index) => sql`${sql.table(names[index]!)} as (${gate(held(index))})`));
  const gateCounts = sql.join(names.map((name) => sql`(select count(*) from ${sql.table(name)})::int`));
  const followUps = afterwards(sql<boolean>`exists (select 1 from started)`).map((write, index) => sql`, ${sql.table(`afterwards_${index}`)} as (${write})`);
  // json_populate_record turns each value into its column's type, as an insert's VALUES would.
  const { rows } = await sql<{ gates: number[]; started: number }>`
    with ${gateQueries},
    replaced as (
      update sessions set revoked_at = ${deps.clock.now()}, revoked_reason = 'replaced_at_sign_in'
      where id = ${previousSession?.id ?? null} and revoked_at is null and ${held(gates.length)}
    ),
    started as (
      insert into sessions (${sessionColumns})
      select ${sessionColumns} from json_populate_record(null::sessions, ${JSON.stringify(session)}::json)
      where ${held(gates.length)}
      returning id
    ),
    audited as (
      insert into audit_log (${auditColumns})
      select ${auditColumns} from json_populate_record(null::audit_log, ${JSON.stringify(entry)}::json)
      where exists (select 1 from started)
    )${followUps.length ? sql.join(followUps, sql``) : sql``}
    select array[${gateCounts}] as gates, (select count(*) from started)::int as started`.execute(deps.db);
  const outcome = rows[0]!;
  if (!outcome.started) return { failedGate: Math.max(0, outcome.gates.findIndex((count) => !count)) };
  deps.metrics.recordSignIn(input.method, 'success');
  return { signedIn: { session, token } };
}

// Every column, checked by the compiler: a column added to the table must be added here, or the statement would leave it null.
const SESSION_COLUMNS = Object.keys({
  id: 1, token_hash: 1, user_id: 1, created_at: 1, last_seen_at: 1, idle_expires_at: 1, expires_at: 1, auth_time: 1, amr: 1, acr: 1, ip: 1, user_agent: 1, revoked_at: 1, revoked_reason: 1,
} satisfies Record<keyof Session, 1>);
// The audit log's `id` is the database's own sequence.
const AUDIT_COLUMNS = Object.keys({
  entry_id: 1, at: 1, actor: 1, action: 1, subject: 1, outcome: 1, ip: 1, user_agent: 1, details: 1, mac: 1, seal_refused: 1, seq: 1, prev_hash: 1, hash: 1,
} satisfies Record<Exclude<keyof AuditEntry, 'id'>, 1>);

/** Ends a session; the route clears the cookie. */
export async function signOut(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, session: Session): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await revokeSession(trx, deps.clock, session.id, 'signed_out');
    // Relying parties signed in through this session hear of it (back-channel logout outbox).
    await endSessionGrants(trx, deps.clock, session, 'signed_out');
    await appendAudit(trx, deps, context, { action: 'signout', subject: `user:${session.user_id}`, details: { session_id: session.id } });
  });
}
