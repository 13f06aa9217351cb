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
import { Hono } from 'hono';
import { appendAudit } from '../../audit/audit.js';
import { findClient } from '../../clients/service.js';
import type { OAuthClient } from '../../db/schema.js';
import { type AppContext, type AppEnv, auditContext } from '../../http/context.js';
import { toWartaError } from '../../http/error-handler.js';
import { invalidRequest, WartaError } from '../../errors.js';
import { clearSessionCookie } from '../../sessions/cookie.js';
import { revokeSession } from '../../sessions/service.js';
import { allowFormRedirectTo } from '../authorize/respond.js';
import { ENDPOINTS } from '../endpoints.js';
import { type FormParams, readUrlEncodedBody, singleValued } from '../form.js';
import { endSessionGrants } from '../../grants/service.js';
import { renderErrorPage, renderLoggedOut, renderLogoutConfirmation } from '../pages.js';
import type { Tokens } from '../tokens.js';

interface LogoutRequest {
  client: OAuthClient | undefined;
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
  /** The hint's sid and sub, when an ID token hint was given. */
  hint: { sid: unknown; sub: string } | undefined;
}

export function endSessionRoutes(tokens: Tokens) {
  const app = new Hono<AppEnv>();

  const endSession = async (c: AppContext, params: FormParams) => {
    let request: LogoutRequest;
    try {
      request = await validateLogoutRequest(c, tokens, params);
    } catch (error) {
      return errorPage(c, error);
    }
    const session = c.get('session');
    if (!session) return afterLogout(c, request);
    const hintIsThisSession = request.hint !== undefined && request.hint.sub === session.user_id && request.hint.sid === session.id;
    if (hintIsThisSession) {
      await endWartaSession(c, request.client);
      return afterLogout(c, request);
    }
    if (request.postLogoutRedirectUri !== undefined) allowFormRedirectTo(c, request.postLogoutRedirectUri);
    return renderLogoutConfirmation(c, {
      clientName: request.client?.client_name,
      hidden: { client_id: request.client?.client_id, post_logout_redirect_uri: request.postLogoutRedirectUri, state: request.state },
    });
  };

  app.get(ENDPOINTS.endSession, (c) => endSession(c, singleValued(new URLSearchParams(new URL(c.req.url).search))));
  app.post(ENDPOINTS.endSession, async (c) => endSession(c, singleValued(await readUrlEncodedBody(c))));

  // The confirmation form posts here; same-origin only (the CSRF check is not waived for it).
  app.post(ENDPOINTS.endSessionConfirm, async (c) => {
    const params = singleValued(await readUrlEncodedBody(c));
    let request: LogoutRequest;
    try {
      request = await validateLogoutRequest(c, tokens, params);
    } catch (error) {
      return errorPage(c, error);
    }
    if (params.get('decision') !== 'logout') return c.redirect('/', 303);
    if (c.get('session')) await endWartaSession(c, request.client);
    return afterLogout(c, request);
  });

  return app;
}

async function validateLogoutRequest(c: AppContext, tokens: Tokens, params: FormParams): Promise<LogoutRequest> {
  const deps = c.get('deps');
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

async function endWartaSession(c: AppContext, client: OAuthClient | undefined): Promise<void> {
  const deps = c.get('deps');
  const session = c.get('session')!;
  await deps.db.transaction().execute(async (trx) => {
    await revokeSession(trx, deps.clock, session.id, 'rp_initiated_logout');
    const notified = await endSessionGrants(trx, deps.clock, session, 'signed_out');
    await appendAudit(trx, deps.clock, auditContext(c), {
      action: 'signout',
      subject: `user:${session.user_id}`,
      details: { session_id: session.id, via: 'end_session', client_id: client?.client_id ?? null, backchannel_logout: notified },
    });
  });
  clearSessionCookie(c, deps.config.secureCookies);
}

function afterLogout(c: AppContext, request: LogoutRequest): Response | Promise<Response> {
  if (request.postLogoutRedirectUri === undefined) return renderLoggedOut(c);
  const url = new URL(request.postLogoutRedirectUri);
  if (request.state !== undefined) url.searchParams.append('state', request.state);
  return c.redirect(url.href, 303);
}

function errorPage(c: AppContext, error: unknown): Response | Promise<Response> {
  const wartaError = toWartaError(error);
  if (!(error instanceof WartaError) || wartaError.status >= 500) throw error;
  return renderErrorPage(c, `${wartaError.code}: ${wartaError.description}`);
}
