import { type Compilable, type OperationNodeSource, type RawBuilder, sql, type Transaction } from 'kysely';
import { appendAudit, type AuditContext, auditEntry } from '../audit/audit.js';
import type { AuditEntry, Database, Db, Session } from '../db/schema.js';
import { type StatementTemplate, statementTemplate } from '../db/statement-template.js';
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
 * gate changes nothing once an earlier one did not hold. It is built once, from the
 * statement's values (src/db/statement-template.ts).
 */
export type SignInGate<Values> = (db: Db, values: Values & SignInValues, earlierGatesHeld: RawBuilder<boolean>) => WriteQuery;

/** Further writes of a successful sign-in (e.g. the failure counters it settles), given the condition that the session started. */
export type SignInFollowUps<Values> = (db: Db, values: Values & SignInValues, sessionStarted: RawBuilder<boolean>) => readonly WriteQuery[];

type WriteQuery = Compilable<unknown> & OperationNodeSource;

/** What every sign-in statement is given besides its gates' own values. */
export interface SignInValues {
  now: Date;
  previousSessionId: string | null;
  /** The new session's row, as JSON. */
  session: string;
  /** Its `signin.succeeded` audit entry, as JSON. */
  auditEntry: string;
}

type SignInOutcome = { gates: number[]; started: number };

/** A sign-in made in one statement, for one kind of sign-in: its gates and follow-ups, by shape. */
export type SignInStatement<Values extends object, Shape extends string> = StatementTemplate<Values & SignInValues, Shape, SignInOutcome>;

/**
 * completeSignIn as one statement, on condition: the `gates` run first, in order,
 * and only if each changes a row are the previous session ended, the new one
 * started and the sign-in audited. All of it commits together or not at all,
 * like the transaction completeSignIn runs in, in one round trip instead of five.
 * `parts` gives the gates and follow-ups of each shape; the statement is built once per shape.
 */
export function signInStatement<Values extends object, Shape extends string = ''>(
  name: string,
  parts: (shape: Shape) => { gates: readonly [SignInGate<Values>, ...SignInGate<Values>[]]; afterwards?: SignInFollowUps<Values> },
): SignInStatement<Values, Shape> {
  return statementTemplate(name, (db, values: Values & SignInValues, shape: Shape) => {
    const { gates, afterwards = () => [] } = parts(shape);
    const sessionColumns = sql.join(SESSION_COLUMNS.map((column) => sql.ref(column)));
    const auditColumns = sql.join(AUDIT_COLUMNS.map((column) => sql.ref(column)));
    const names = gates.map((_, index) => `gate_${index}`);
    const held = (count: number) => (count === 0 ? sql<boolean>`true` : sql<boolean>`${sql.join(names.slice(0, count).map((gate) => sql`exists (select 1 from ${sql.table(gate)})`), sql` and `)}`);
    const gateQueries = sql.join(gates.map((gate, index) => sql`${sql.table(names[index]!)} as (${gate(db, values, held(index))})`));
    const gateCounts = sql.join(names.map((gate) => sql`(select count(*) from ${sql.table(gate)})::int`));
    const followUps = afterwards(db, values, sql<boolean>`exists (select 1 from started)`).map((write, index) => sql`, ${sql.table(`afterwards_${index}`)} as (${write})`);
    // json_populate_record turns each value into its column's type, as an insert's VALUES would.
    return sql<SignInOutcome>`
    with ${gateQueries},
    replaced as (
      update sessions set revoked_at = ${values.now}, revoked_reason = 'replaced_at_sign_in'
      where id = ${values.previousSessionId} and revoked_at is null and ${held(gates.length)}
    ),
    started as (
      insert into sessions (${sessionColumns})
      select ${sessionColumns} from json_populate_record(null::sessions, ${values.session}::json)
      where ${held(gates.length)}
      returning id
    ),
    audited as (
      insert into audit_log (${auditColumns})
      select ${auditColumns} from json_populate_record(null::audit_log, ${values.auditEntry}::json)
      where exists (select 1 from started)
    )${followUps.length ? sql.join(followUps, sql``) : sql``}
    select array[${gateCounts}] as gates, (select count(*) from started)::int as started`;
  });
}

/**
 * Runs a sign-in statement (signInStatement) with the gates' `values`. When a gate did
 * not hold, nothing after it was written, and the answer says which (its index among
 * the gates); what the gates before it changed is committed.
 */
export async function completeSignInWhen<Values extends object, Shape extends string>(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'auditEntryKey' | 'metrics'>,
  request: SignInRequest,
  input: { userId: string; amr: string[]; acrCeiling?: string; method: string; organisationPolicy: SessionLifetimePolicy },
  statement: SignInStatement<Values, Shape>,
  values: Values,
  shape?: Shape,
): Promise<{ signedIn: SignedIn } | { failedGate: number }> {
  const { context, previousSession } = request;
  const { token, session } = newSession(deps, { userId: input.userId, amr: input.amr, acrCeiling: input.acrCeiling, ip: context.ip ?? null, userAgent: context.userAgent ?? null, organisationPolicy: input.organisationPolicy });
  const entry = auditEntry(deps, { ...context, actor: `user:${input.userId}` }, {
    action: 'signin.succeeded',
    subject: `user:${input.userId}`,
    details: { method: input.method, amr: session.amr, acr: session.acr, session_id: session.id },
  });
  const signIn: SignInValues = { now: deps.clock.now(), previousSessionId: previousSession?.id ?? null, session: JSON.stringify(session), auditEntry: JSON.stringify(entry) };
  const { rows } = await statement.execute(deps.db, { ...values, ...signIn }, shape);
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
