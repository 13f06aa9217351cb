/**
 * The authorization endpoint (OIDC Core §3.1.2; GET and POST, §3.1.2.1) and the two
 * places a waiting request continues: after sign-in (`/authorize/resume`) and after
 * the consent form (`/authorize/consent`).
 */
import { Hono } from 'hono';
import { type AppContext, type AppEnv, auditContext } from '../../http/context.js';
import { logRequestError, toWartaError } from '../../http/error-handler.js';
import { WartaError } from '../../errors.js';
import { type AuthorizationParams, MAX_PARAM_VALUE_LENGTH, parseAuthorizationParams } from '../checks/params.js';
import { requirePushedRequest } from '../checks/pushed-request.js';
import { ENDPOINTS, REQUEST_URI_PREFIX } from '../endpoints.js';
import { readUrlEncodedBody } from '../../http/form.js';
import { renderConsentPage, renderErrorPage } from '../pages.js';
import { type AuthorizationStep, continueAuthorization, recordConsent, refuseOtherOrganisation, refuseUnmetRequirements } from './interaction.js';
import { checkAuthorizationRequest, checkClientRedirect, type ClientRedirect, identifyClient } from './request.js';
import { allowFormRedirectTo } from '../../http/form-redirect.js';
import { errorResponseUrl } from './respond.js';
import { consumePushedRequest, findInteractiveRequest } from './store.js';
import type { Deps } from '../../deps.js';
import type { OAuthClient } from '../../db/schema.js';
import { anonymousRequestLimit } from '../../throttle/middleware.js';

export function authorizationRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  // Anonymous, and a valid request is stored while the user signs in: limited per address.
  const requestLimit = anonymousRequestLimit(deps, 'authorize');
  app.get(ENDPOINTS.authorization, requestLimit, (c) => authorize(deps, c, new URLSearchParams(new URL(c.req.url).search)));
  app.post(ENDPOINTS.authorization, requestLimit, async (c) => authorize(deps, c, await readUrlEncodedBody(c).catch(() => new URLSearchParams())));

  app.get(ENDPOINTS.authorizationResume, async (c) => {
    const id = c.req.query('request') ?? '';
    const stored = await findInteractiveRequest(deps.db, deps.clock, id);
    if (!stored) return renderErrorPage(c, 'this sign-in request has expired or was already completed; start again from the application');
    return answer(deps, c, stored.params, { id, createdAt: stored.createdAt, client: stored.client });
  });

  app.post(ENDPOINTS.consent, async (c) => {
    const form = await readUrlEncodedBody(c);
    const id = form.get('request') ?? '';
    const stored = await findInteractiveRequest(deps.db, deps.clock, id);
    if (!stored) return renderErrorPage(c, 'this sign-in request has expired or was already completed; start again from the application');
    const decision = form.get('decision');
    if (decision !== 'allow' && decision !== 'deny' && decision !== 'unmet') return renderErrorPage(c, 'choose allow or deny');
    return answer(deps, c, stored.params, { id, createdAt: stored.createdAt, client: stored.client }, decision);
  });

  return app;
}

/** First pass: parse (errors go to the client when it and its redirect URI check out, else a page), resolve a pushed request, then answer. */
async function authorize(deps: Deps, c: AppContext, source: URLSearchParams): Promise<Response> {
  let params: AuthorizationParams;
  try {
    params = parseAuthorizationParams(source);
  } catch (error) {
    return answerParseError(deps, c, source, error);
  }
  if (params.request_uri !== undefined) {
    // RFC 9126 §4: only the pushed parameters count; client_id must match the pusher.
    const pushed = params.request_uri.startsWith(REQUEST_URI_PREFIX)
      ? await consumePushedRequest(deps.db, deps.clock, params.request_uri.slice(REQUEST_URI_PREFIX.length), params.client_id)
      : undefined;
    if (!pushed) return renderErrorPage(c, 'invalid_request_uri: the request_uri is unknown, expired, already used, or belongs to another client');
    return answer(deps, c, pushed, undefined, undefined, { pushed: true });
  }
  return answer(deps, c, params, undefined, undefined, { pushed: false });
}

/**
 * `arrival` is known only on the first pass; a waiting request (resume, consent) passed its
 * checks when it arrived, and is checked again against its client as registered now.
 */
async function answer(deps: Deps, c: AppContext, params: AuthorizationParams, pending: WaitingRequestRef | undefined, decision?: 'allow' | 'deny' | 'unmet', arrival?: { pushed: boolean }): Promise<Response> {
  let target: ClientRedirect;
  try {
    target = pending ? checkClientRedirect(pending.client, params) : await identifyClient(deps, params);
  } catch (error) {
    return pageFor(deps, c, error);
  }
  try {
    const request = checkAuthorizationRequest(target, params);
    if (arrival !== undefined) await requirePushedRequest(deps, target.client, arrival.pushed);
    if (decision === 'deny') throw new WartaError(400, 'access_denied', 'the user denied the request');
    // The sign-in page's way back when the person has no passkey of the level the client demands (OpenID Connect Core §3.1.2.6).
    if (decision === 'unmet') throw new WartaError(400, 'unmet_authentication_requirements', 'the user cannot sign in at the level this client requires');
    const requester = { session: c.get('session'), user: c.get('user'), context: auditContext(c) };
    if (decision === 'allow') {
      if (!requester.session) return continueAuthorization(deps, requester, { client: target.client, request, params, pending }).then((step) => respond(c, step));
      // A consent to a client the user may not use is never stored.
      await refuseOtherOrganisation(deps, requester.context, target.client, requester.user!);
      await refuseUnmetRequirements(deps, requester.context, target.client, requester.user!);
      await recordConsent(deps, requester.context, requester.user!, target.client, request.scopes);
    }
    return respond(c, await continueAuthorization(deps, requester, { client: target.client, request, params, pending, consented: decision === 'allow' }));
  } catch (error) {
    const wartaError = toWartaError(error);
    logRequestError(deps, c.get('requestId'), error, wartaError, 'authorization');
    return c.redirect(errorResponseUrl(target.redirectUri, deps.config.issuer, params.state, wartaError), 303);
  }
}

/** A waiting request: its id, when it arrived, and its client as read with it. */
interface WaitingRequestRef {
  id: string;
  createdAt: Date;
  client: OAuthClient;
}

function respond(c: AppContext, step: AuthorizationStep): Response | Promise<Response> {
  if ('redirectTo' in step) return c.redirect(step.redirectTo, 303);
  allowFormRedirectTo(c, step.consent.redirectUri);
  return renderConsentPage(c, step.consent);
}

/**
 * OIDC Core §3.1.2.6, RFC 6749 §4.1.2.1: once the client and its redirect URI are
 * known to be valid, errors such as `unsupported_response_type` go back to the client,
 * with `state` and `iss`. Only parameters sent exactly once are trusted for that (a
 * repeated `client_id` or `redirect_uri` is how parameter pollution picks another
 * destination); otherwise, or when the client or URI do not check out, a page.
 */
async function answerParseError(deps: Deps, c: AppContext, source: URLSearchParams, error: unknown): Promise<Response> {
  const wartaError = toWartaError(error);
  const clientId = singleParam(source, 'client_id');
  const redirectUri = singleParam(source, 'redirect_uri');
  if (wartaError.status >= 500 || clientId === undefined || redirectUri === undefined) return pageFor(deps, c, error);
  let target: ClientRedirect;
  try {
    target = await identifyClient(deps, { client_id: clientId, redirect_uri: redirectUri });
  } catch {
    return pageFor(deps, c, error);
  }
  logRequestError(deps, c.get('requestId'), error, wartaError, 'authorization');
  return c.redirect(errorResponseUrl(target.redirectUri, deps.config.issuer, singleParam(source, 'state'), wartaError), 303);
}

/** A parameter's value when it is sent once, non-empty and within the length limit. */
function singleParam(source: URLSearchParams, name: string): string | undefined {
  const values = source.getAll(name);
  return values.length === 1 && values[0] !== '' && values[0]!.length <= MAX_PARAM_VALUE_LENGTH ? values[0] : undefined;
}

function pageFor(deps: Deps, c: AppContext, error: unknown): Response | Promise<Response> {
  const wartaError = toWartaError(error);
  if (wartaError.status >= 500) throw error;
  deps.log.info({ requestId: c.get('requestId'), code: wartaError.code, detail: wartaError.detail }, 'authorization request shown as an error page');
  return renderErrorPage(c, `${wartaError.code}: ${wartaError.description}`);
}
