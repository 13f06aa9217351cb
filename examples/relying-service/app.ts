/**
 * The relying service's routes: thin handlers over sign-in.ts, access-token.ts,
 * logout-token.ts and security-event.ts. What an integrator copies is the shape:
 * which checks run where, and what each answer is.
 */
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import * as oidc from 'openid-client';
import { InvalidAccessToken, verifyAccessToken } from './access-token.js';
import { ACR_PHISHING_RESISTANT, meetsAcr } from './acr.js';
import type { RelyingServiceConfig } from './config.js';
import { InvalidLogoutToken, verifyLogoutToken } from './logout-token.js';
import { RejectedSecurityEvent, type SecurityEventAction, verifySecurityEvent } from './security-event.js';
import { SeenTokenIds, SessionStore, type LocalSession } from './sessions.js';
import { KeySetUnavailable, wartaKeySet } from './warta-keys.js';
import { CALLBACK_PATH, finishSignIn, SIGNED_OUT_PATH, signOutUrl, startSignIn, type WartaConnection } from './sign-in.js';

export const BACKCHANNEL_LOGOUT_PATH = '/oidc/backchannel-logout';
export const SECURITY_EVENTS_PATH = '/security-events';

export interface RelyingService {
  app: Hono;
}

export function createRelyingService(config: RelyingServiceConfig, warta: WartaConnection, now: () => number = Date.now): RelyingService {
  const { issuer, jwks_uri } = warta.configuration.serverMetadata();
  const jwks = wartaKeySet(jwks_uri!, config.jwksCooldownSeconds);
  const sessions = new SessionStore(now);
  // Logout tokens live two minutes, SETs are resent for up to three days (docs/security-events.md).
  const seenLogoutTokens = new SeenTokenIds(10 * 60, now);
  const seenEvents = new SeenTokenIds(4 * 24 * 3600, now);
  const secure = config.baseUrl.protocol === 'https:';
  // __Host-: only this origin, only over https, only Path=/ (RFC 6265bis §4.1.3.2).
  const sessionCookie = secure ? '__Host-session' : 'session';
  const signInCookie = secure ? '__Host-sign-in' : 'sign-in';
  // Lax, not Strict: Warta's redirect back to the callback is a cross-site navigation that must carry the sign-in cookie.
  const cookieOptions = { httpOnly: true, secure, sameSite: 'Lax', path: '/' } as const;

  const app = new Hono();
  // form-action names Warta: the sign-out form's answer redirects there, and browsers hold redirects to it.
  const contentSecurityPolicy = `default-src 'none'; form-action 'self' ${new URL(issuer).origin}; frame-ancestors 'none'`;
  app.use(async function securityHeaders(c, next) {
    await next();
    c.header('content-security-policy', contentSecurityPolicy);
    c.header('cache-control', 'no-store');
  });

  const currentSession = (c: Context): LocalSession | undefined => sessions.get(getCookie(c, sessionCookie));

  async function sendToWarta(c: Context, returnTo: string, requiredAcr: string | undefined) {
    const request = await startSignIn(warta, config, requiredAcr);
    const pending = sessions.startSignIn({ codeVerifier: request.codeVerifier, state: request.state, nonce: request.nonce, requiredAcr, returnTo });
    setCookie(c, signInCookie, pending.id, { ...cookieOptions, maxAge: 600 });
    return c.redirect(request.authorizationUrl.href, 303);
  }

  app.get('/', (c) => {
    const session = currentSession(c);
    if (!session) return page(c, 'Relying service', html`<p>You are not signed in.</p><p><a href="/login">Sign in with Warta</a></p>`);
    const notices = sessions.takeNotices(session.sub);
    return page(
      c,
      'Relying service',
      html`${notices.map((text) => html`<p class="notice" role="status">${text}</p>`)}
        <p>Signed in as <strong>${session.name}</strong> (<code>${session.acr}</code>).</p>
        <p><a href="/sensitive">Sensitive records</a> (needs a passkey)</p>
        <form method="post" action="/logout"><button>Sign out</button></form>`,
    );
  });

  app.get('/login', (c) => sendToWarta(c, localPath(c.req.query('return')), undefined));

  app.get(CALLBACK_PATH, async (c) => {
    const pending = sessions.takeSignIn(getCookie(c, signInCookie));
    deleteCookie(c, signInCookie, cookieOptions);
    if (!pending) return page(c, 'Sign-in expired', html`<p>This sign-in is no longer valid. <a href="/login">Sign in again</a>.</p>`, 400);
    let signedIn;
    try {
      signedIn = await finishSignIn(warta, config, new URL(c.req.url).search.slice(1), pending);
    } catch (error) {
      if (error instanceof oidc.AuthorizationResponseError && error.error === 'unmet_authentication_requirements') return passkeyNeeded(c);
      if (error instanceof oidc.AuthorizationResponseError && error.error === 'access_denied') return page(c, 'Not signed in', html`<p>The sign-in was cancelled.</p>`, 403);
      console.warn('sign-in failed:', error instanceof Error ? error.message : error);
      return page(c, 'Sign-in failed', html`<p>The sign-in could not be completed. <a href="/login">Try again</a>.</p>`, 400);
    }
    const previous = getCookie(c, sessionCookie);
    if (previous) sessions.end(previous);
    const session = sessions.create(signedIn);
    setCookie(c, sessionCookie, session.id, cookieOptions);
    // Warta never issues less than was asked for, but the check belongs to whoever relies on it.
    if (pending.requiredAcr && !meetsAcr(session.acr, pending.requiredAcr)) return passkeyNeeded(c);
    return c.redirect(pending.returnTo, 303);
  });

  // Step-up: a session below the route's level goes back to Warta with acr_values.
  app.get('/sensitive', (c) => {
    const session = currentSession(c);
    if (!session || !meetsAcr(session.acr, ACR_PHISHING_RESISTANT)) return sendToWarta(c, '/sensitive', ACR_PHISHING_RESISTANT);
    return page(c, 'Sensitive records', html`<p>Signed in with a passkey (<code>${session.acr}</code>): here are the records.</p>`);
  });

  // POST, and the cookie is SameSite=Lax: another site cannot sign the user out.
  app.post('/logout', (c) => {
    const session = currentSession(c);
    deleteCookie(c, sessionCookie, cookieOptions);
    if (!session) return c.redirect('/', 303);
    sessions.end(session.id);
    return c.redirect(signOutUrl(warta, config, session.idToken).href, 303);
  });

  app.get(SIGNED_OUT_PATH, (c) => page(c, 'Signed out', html`<p>You are signed out of this service and of Warta.</p><p><a href="/login">Sign in again</a></p>`));

  // An API for other services and apps: a Warta access token, checked locally (RFC 9068).
  app.get('/api/me', async (c) => {
    // RFC 7235 §2.1: the scheme name is case-insensitive.
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    // RFC 6750 §3.1: no credentials, no error code.
    if (!token) return c.json({ error: 'invalid_token' }, 401, { 'www-authenticate': 'Bearer realm="relying-service"' });
    try {
      const verified = await verifyAccessToken(token, { jwks, issuer, audience: config.apiAudience });
      return c.json({ sub: verified.sub, client_id: verified.clientId, scope: verified.scope, acr: verified.acr ?? null });
    } catch (error) {
      if (error instanceof KeySetUnavailable) return c.json({ error: 'temporarily_unavailable', error_description: error.message }, 503);
      if (!(error instanceof InvalidAccessToken)) throw error;
      return c.json({ error: 'invalid_token', error_description: error.message }, 401, { 'www-authenticate': `Bearer realm="relying-service", error="invalid_token", error_description="${error.message}"` });
    }
  });

  // OpenID Connect Back-Channel Logout 1.0 §2.5-2.8.
  app.post(BACKCHANNEL_LOGOUT_PATH, async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.logout_token === 'string' ? form.logout_token : undefined;
    if (!token) return c.json({ error: 'invalid_request', error_description: 'logout_token is required' }, 400);
    try {
      const logout = await verifyLogoutToken(token, { jwks, issuer, clientId: config.clientId });
      // A replay is acknowledged and changes nothing (§2.6 step 6).
      if (!seenLogoutTokens.firstTime(logout.jti)) return c.body(null, 200);
      if (logout.sid !== undefined) sessions.endByWartaSession(logout.sid, logout.sub);
      else sessions.endAllOf(logout.sub!);
      return c.body(null, 200);
    } catch (error) {
      // Not a 200: Warta sends the logout again later.
      if (error instanceof KeySetUnavailable) return c.json({ error: 'temporarily_unavailable', error_description: error.message }, 503);
      if (!(error instanceof InvalidLogoutToken)) throw error;
      return c.json({ error: 'invalid_request', error_description: error.message }, 400);
    }
  });

  // RFC 8935 push delivery of Security Event Tokens.
  app.post(SECURITY_EVENTS_PATH, async (c) => {
    if (config.setBearerToken !== undefined && !sameSecret(c.req.header('authorization'), `Bearer ${config.setBearerToken}`)) {
      return c.json({ err: 'authentication_failed', description: 'a bearer token is required' }, 401, { 'www-authenticate': 'Bearer' });
    }
    if (c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() !== 'application/secevent+jwt') {
      return c.json({ err: 'invalid_request', description: 'expected application/secevent+jwt' }, 400);
    }
    try {
      const event = await verifySecurityEvent((await c.req.text()).trim(), { jwks, issuer, audience: config.setAudience });
      // Delivery is at least once: the same jti comes again when Warta missed our answer.
      if (seenEvents.firstTime(event.jti)) await act(event.action);
      return c.body(null, 202);
    } catch (error) {
      if (error instanceof RejectedSecurityEvent) return c.json({ err: error.err, description: error.message }, 400);
      if (error instanceof KeySetUnavailable) return c.json({ description: error.message }, 503);
      throw error;
    }
  });

  async function act(action: SecurityEventAction): Promise<void> {
    switch (action.kind) {
      case 'end-session':
        sessions.endByWartaSession(action.sid, action.sub);
        return;
      case 'end-all-sessions':
        sessions.endAllOf(action.sub);
        return;
      case 'notify':
        sessions.addNotice(action.sub, action.text);
        return;
      case 'reload-keys':
        // Warta withdrew keys in an emergency: stop trusting them now, not when the cache ages out.
        await jwks.reload();
        return;
      case 'ignore':
        return;
    }
  }

  return { app };
}

function passkeyNeeded(c: Context) {
  return page(c, 'A passkey is needed', html`<p>This page needs a sign-in with a passkey. Add a passkey to your Warta account, then <a href="/sensitive">try again</a>.</p><p><a href="/">Back</a></p>`, 403);
}

/** Only a path on this service: a `return` parameter must never send the user elsewhere. */
function localPath(value: string | undefined): string {
  return value && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/';
}

function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function page(c: Context, title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>, status: 200 | 400 | 403 = 200) {
  return c.html(html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`, status);
}
