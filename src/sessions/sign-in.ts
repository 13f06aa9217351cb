import type { Transaction } from 'kysely';
import { appendAudit, type AuditContext } from '../audit/audit.js';
import type { Database, Session } from '../db/schema.js';
import { endSessionGrants } from '../grants/service.js';
import type { Deps } from '../deps.js';
import { revokeSession, startSession } from './service.js';

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
export async function completeSignIn(deps: Pick<Deps, 'clock' | 'config' | 'auditEntryKey' | 'metrics'>, trx: Transaction<Database>, request: SignInRequest, input: { userId: string; amr: string[]; acrCeiling?: string; method: string }): Promise<SignedIn> {
  const { context, previousSession } = request;
  if (previousSession) await revokeSession(trx, deps.clock, previousSession.id, 'replaced_at_sign_in');
  const { token, session } = await startSession(trx, deps, { userId: input.userId, amr: input.amr, acrCeiling: input.acrCeiling, ip: context.ip ?? null, userAgent: context.userAgent ?? null });
  await appendAudit(trx, deps, { ...context, actor: `user:${input.userId}` }, {
    action: 'signin.succeeded',
    subject: `user:${input.userId}`,
    details: { method: input.method, amr: session.amr, acr: session.acr, session_id: session.id },
  });
  deps.metrics.recordSignIn(input.method, 'success');
  return { session, token };
}

/** Ends a session; the route clears the cookie. */
export async function signOut(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, session: Session): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await revokeSession(trx, deps.clock, session.id, 'signed_out');
    // Relying parties signed in through this session hear of it (back-channel logout outbox).
    await endSessionGrants(trx, deps.clock, session, 'signed_out');
    await appendAudit(trx, deps, context, { action: 'signout', subject: `user:${session.user_id}`, details: { session_id: session.id } });
  });
}
