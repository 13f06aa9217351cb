import type { Transaction } from 'kysely';
import { appendAudit } from '../audit/audit.js';
import type { Database, Session } from '../db/schema.js';
import { endSessionGrants } from '../grants/service.js';
import { type AppContext, auditContext } from '../http/context.js';
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from './cookie.js';
import { revokeSession, startSession } from './service.js';

/**
 * Completes a sign-in inside the caller's transaction: ends the session the
 * browser had (a fresh id at every sign-in defeats session fixation), starts a
 * new one with the methods used, audits it, and sets the cookie.
 */
export async function completeSignIn(c: AppContext, trx: Transaction<Database>, input: { userId: string; amr: string[]; method: string }): Promise<Session> {
  const deps = c.get('deps');
  const previous = c.get('session');
  if (previous) await revokeSession(trx, deps.clock, previous.id, 'replaced_at_sign_in');
  const context = auditContext(c);
  const { token, session } = await startSession(trx, deps, { userId: input.userId, amr: input.amr, ip: context.ip ?? null, userAgent: context.userAgent ?? null });
  await appendAudit(trx, deps.clock, { ...context, actor: `user:${input.userId}` }, {
    action: 'signin.succeeded',
    subject: `user:${input.userId}`,
    details: { method: input.method, amr: session.amr, acr: session.acr, session_id: session.id },
  });
  writeSessionCookie(c, deps.config.secureCookies, token, deps.config.sessionAbsoluteSeconds);
  return session;
}

/** Ends the current session (if any) and clears the cookie. */
export async function signOut(c: AppContext): Promise<void> {
  const deps = c.get('deps');
  const session = c.get('session');
  if (session) {
    await deps.db.transaction().execute(async (trx) => {
      await revokeSession(trx, deps.clock, session.id, 'signed_out');
      // Relying parties signed in through this session hear of it (back-channel logout outbox).
      await endSessionGrants(trx, deps.clock, session, 'signed_out');
      await appendAudit(trx, deps.clock, auditContext(c), { action: 'signout', subject: `user:${session.user_id}`, details: { session_id: session.id } });
    });
  }
  if (readSessionCookie(c, deps.config.secureCookies) !== undefined) clearSessionCookie(c, deps.config.secureCookies);
}
