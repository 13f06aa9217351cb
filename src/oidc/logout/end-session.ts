/**
 * RP-Initiated Logout 1.0 (`end_session_endpoint`), GET and POST (§2).
 *
 * - `id_token_hint` must be an ID token Warta issued (expired is fine); `client_id`,
 *   when also given, must be its audience (§2).
 * - `post_logout_redirect_uri` is honoured only when it exactly matches one the
 *   identified client registered (§3, §4); otherwise an error page, never a redirect.
 * - The user is asked to confirm unless the hint names the current session (§2: the OP
 *   "MUST ask" when the hint is missing or is for another session): a page from another
 *   site cannot sign a user out by merely linking here.
 * - Ending the session revokes it, ends the grants bound to it and queues back-channel
 *   logouts, in one transaction with the audit entry.
 */
import { appendAudit, type AuditContext } from '../../audit/audit.js';
import { findClient } from '../../clients/service.js';
import type { OAuthClient, Session } from '../../db/schema.js';
import { invalidRequest } from '../../errors.js';
import type { FormParams } from '../../http/form.js';
import type { Deps } from '../../deps.js';
import { revokeSession } from '../../sessions/service.js';
import { endSessionGrants } from '../../grants/service.js';
import type { Tokens } from '../tokens.js';
import { subjectFor } from '../subject.js';

export interface LogoutRequest {
  client: OAuthClient | undefined;
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
  /** The hint's sid and sub, when an ID token hint was given. */
  hint: { sid: unknown; sub: string } | undefined;
}

export async function validateLogoutRequest(deps: Deps, tokens: Tokens, params: FormParams): Promise<LogoutRequest> {
  const hintToken = params.get('id_token_hint');
  const hint = hintToken === undefined ? undefined : await tokens.idTokenHint(hintToken);
  if (hintToken !== undefined && !hint) throw invalidRequest('id_token_hint is not an ID token issued by Warta');
  const audiences = hint === undefined ? [] : Array.isArray(hint.aud) ? hint.aud : [hint.aud];
  const clientIdParam = params.get('client_id');
  if (clientIdParam !== undefined && hint !== undefined && !audiences.includes(clientIdParam)) throw invalidRequest('client_id is not the audience of id_token_hint');
  const clientId = clientIdParam ?? (audiences.length === 1 ? audiences[0] : undefined);
  const client = clientId === undefined ? undefined : await findClient(deps.db, clientId);
  if (clientId !== undefined && !client) throw invalidRequest('unknown client_id');

  const postLogoutRedirectUri = params.get('post_logout_redirect_uri');
  if (postLogoutRedirectUri !== undefined) {
    if (!client) throw invalidRequest('post_logout_redirect_uri needs client_id or id_token_hint to identify the client');
    if (!client.post_logout_redirect_uris.includes(postLogoutRedirectUri)) throw invalidRequest('post_logout_redirect_uri is not registered for this client');
  }
  return { client, postLogoutRedirectUri, state: params.get('state'), hint: hint && { sid: hint.sid, sub: hint.sub } };
}

/** Whether the ID token hint names exactly this session, so no confirmation is needed. */
export function hintNamesSession(deps: Pick<Deps, 'pairwiseSubjectKey'>, request: LogoutRequest, session: Session): boolean {
  if (request.hint === undefined || request.client === undefined) return false;
  // The hint carries the `sub` its client saw, which for a pairwise client is not the user id.
  return request.hint.sub === subjectFor(deps, request.client, session.user_id) && request.hint.sid === session.id;
}

/** Ends the Warta session and the grants bound to it; the route clears the cookie. */
export async function endWartaSession(deps: Pick<Deps, 'db' | 'clock' | 'auditEntryKey'>, context: AuditContext, session: Session, client: OAuthClient | undefined): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await revokeSession(trx, deps.clock, session.id, 'rp_initiated_logout');
    const notified = await endSessionGrants(trx, deps.clock, session, 'signed_out');
    await appendAudit(trx, deps, context, {
      action: 'signout',
      subject: `user:${session.user_id}`,
      details: { session_id: session.id, via: 'end_session', client_id: client?.client_id ?? null, backchannel_logout: notified },
    });
  });
}

/** Where the browser goes after logging out: the client's registered URI with its state, or undefined for Warta's own page. */
export function postLogoutLocation(request: LogoutRequest): string | undefined {
  if (request.postLogoutRedirectUri === undefined) return undefined;
  const url = new URL(request.postLogoutRedirectUri);
  if (request.state !== undefined) url.searchParams.append('state', request.state);
  return url.href;
}
