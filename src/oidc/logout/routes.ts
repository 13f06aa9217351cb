/** The end_session endpoint and its confirmation form (RP-Initiated Logout 1.0; the rules are in end-session.ts). */
import { Hono } from 'hono';
import { WartaError } from '../../errors.js';
import { type AppContext, type AppEnv, auditContext } from '../../http/context.js';
import { toWartaError } from '../../http/error-handler.js';
import { readUrlEncodedBody, type FormParams, singleValued } from '../../http/form.js';
import { allowFormRedirectTo } from '../../http/form-redirect.js';
import { clearSessionCookie } from '../../http/session-cookie.js';
import type { Deps } from '../../deps.js';
import { ENDPOINTS } from '../endpoints.js';
import { renderErrorPage, renderLoggedOut, renderLogoutConfirmation } from '../pages.js';
import type { Tokens } from '../tokens.js';
import { endWartaSession, hintNamesSession, type LogoutRequest, postLogoutLocation, validateLogoutRequest } from './end-session.js';

export function endSessionRoutes(deps: Deps, tokens: Tokens) {
  const app = new Hono<AppEnv>();

  const endSession = async (c: AppContext, params: FormParams) => {
    let request: LogoutRequest;
    try {
      request = await validateLogoutRequest(deps, tokens, params);
    } catch (error) {
      return errorPage(c, error);
    }
    const session = c.get('session');
    if (!session) return afterLogout(c, request);
    if (hintNamesSession(deps, request, session)) {
      await signOutHere(c, request);
      return afterLogout(c, request);
    }
    if (request.postLogoutRedirectUri !== undefined) allowFormRedirectTo(c, request.postLogoutRedirectUri);
    return renderLogoutConfirmation(c, {
      clientName: request.client?.client_name,
      hidden: { client_id: request.client?.client_id, post_logout_redirect_uri: request.postLogoutRedirectUri, state: request.state },
    });
  };

  const signOutHere = async (c: AppContext, request: LogoutRequest) => {
    await endWartaSession(deps, auditContext(c), c.get('session')!, request.client);
    clearSessionCookie(c, deps.config.secureCookies);
  };

  app.get(ENDPOINTS.endSession, (c) => endSession(c, singleValued(new URLSearchParams(new URL(c.req.url).search))));
  app.post(ENDPOINTS.endSession, async (c) => endSession(c, singleValued(await readUrlEncodedBody(c))));

  // The confirmation form posts here; same-origin only (the CSRF check is not waived for it).
  app.post(ENDPOINTS.endSessionConfirm, async (c) => {
    const params = singleValued(await readUrlEncodedBody(c));
    let request: LogoutRequest;
    try {
      request = await validateLogoutRequest(deps, tokens, params);
    } catch (error) {
      return errorPage(c, error);
    }
    if (params.get('decision') !== 'logout') return c.redirect('/', 303);
    if (c.get('session')) await signOutHere(c, request);
    return afterLogout(c, request);
  });

  return app;
}

function afterLogout(c: AppContext, request: LogoutRequest): Response | Promise<Response> {
  const location = postLogoutLocation(request);
  return location === undefined ? renderLoggedOut(c) : c.redirect(location, 303);
}

function errorPage(c: AppContext, error: unknown): Response | Promise<Response> {
  const wartaError = toWartaError(error);
  if (!(error instanceof WartaError) || wartaError.status >= 500) throw error;
  return renderErrorPage(c, `${wartaError.code}: ${wartaError.description}`);
}
