import { Hono } from 'hono';
import { type AppEnv, auditContext } from '../http/context.js';
import { allowFormRedirectTo } from '../http/form-redirect.js';
import { clearSessionCookie, readSessionCookie } from '../http/session-cookie.js';
import { ENDPOINTS } from '../oidc/endpoints.js';
import { waitingService } from '../oidc/authorize/store.js';
import { ACR_HARDWARE, ACR_PHISHING_RESISTANT, acrReaches } from '../sessions/service.js';
import { signOut } from '../sessions/sign-in.js';
import { renderPage } from '../ui/render.js';
import { clientMessages, passkeyText } from './messages.js';
import { safeReturnPath } from './return-path.js';
import type { Deps } from '../deps.js';

const SCRIPTS = ['/static/vendor/simplewebauthn-browser.js', '/static/webauthn-common.js'];

/** The service waiting behind a sign-in that resumes an authorization request, if that is where the sign-in returns to. */
async function stepUpFor(deps: Deps, returnTo: string): Promise<{ requestId: string; clientName: string; redirectUri: string } | undefined> {
  const resume = new URL(returnTo, deps.config.origin);
  if (resume.pathname !== ENDPOINTS.authorizationResume) return undefined;
  const requestId = resume.searchParams.get('request') ?? '';
  const waiting = await waitingService(deps.db, deps.clock, requestId);
  return waiting && { requestId, ...waiting };
}

/** The pages around passkeys: start, sign-in, sign-out and enrollment from an invitation. */
export function webauthnPages(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get('/', (c) => c.redirect(c.get('session') ? '/account' : '/signin', 303));

  app.get('/signin', async (c) => {
    const returnTo = safeReturnPath(c.req.query('return_to'));
    // An OIDC client can demand a fresh sign-in (prompt=login, max_age) or a passkey (step-up):
    // then an existing session is not enough, and the sign-in replaces it.
    const tier = c.req.query('acr');
    const passkeyRequired = tier === 'phishing-resistant' || tier === 'hardware';
    const session = c.get('session');
    const sessionSuffices = session && c.req.query('prompt') !== 'login' && (!passkeyRequired || acrReaches(session.acr, tier === 'hardware' ? ACR_HARDWARE : ACR_PHISHING_RESISTANT));
    if (sessionSuffices) return c.redirect(returnTo, 303);
    const passwordLink = passkeyRequired ? undefined : returnTo === '/account' ? '/signin/password' : `/signin/password?return_to=${encodeURIComponent(returnTo)}`;
    // A service demands a phishing-resistant passkey: say which, why, how to get one, and offer the way back to it.
    const stepUp = passkeyRequired ? await stepUpFor(deps, returnTo) : undefined;
    if (stepUp) allowFormRedirectTo(c, stepUp.redirectUri);
    return renderPage(c, { title: (t) => passkeyText(t, 'signin.title'), scripts: [...SCRIPTS, '/static/webauthn-signin.js'] }, ({ t }) => (
      <section id="signin" data-return-to={returnTo} data-messages={JSON.stringify({ ...clientMessages(t), done: passkeyText(t, 'signin.done') })}>
        <h1>{passkeyText(t, 'signin.title')}</h1>
        {c.req.query('signed_out') === 'here' ? (
          <p class="ok" role="status" id="signed-out-here">
            {passkeyText(t, 'signin.signed_out_here')}
          </p>
        ) : null}
        <p>{passkeyText(t, 'signin.intro')}</p>
        <noscript>
          <p class="error">{passkeyText(t, 'js.required')}</p>
        </noscript>
        <button type="button" id="passkey-signin">
          {passkeyText(t, 'signin.passkey_button')}
        </button>
        <form id="username-form" novalidate>
          <label for="username">{passkeyText(t, 'signin.username_label')}</label>
          <input id="username" name="username" type="text" autocomplete="username webauthn" autocapitalize="none" spellcheck={false} maxlength={254} aria-describedby="username-hint" />
          <p id="username-hint" class="muted">
            {passkeyText(t, 'signin.username_hint')}
          </p>
          <button type="submit" class="secondary">
            {passkeyText(t, 'signin.continue')}
          </button>
        </form>
        <p id="status" role="status" aria-live="polite"></p>
        {stepUp ? (
          <section id="step-up" aria-labelledby="step-up-title">
            <h2 id="step-up-title">{passkeyText(t, 'stepup.title', { service: stepUp.clientName })}</h2>
            <p>{passkeyText(t, 'stepup.why', { service: stepUp.clientName })}</p>
            <p>{passkeyText(t, 'stepup.how')}</p>
            <form method="post" action={ENDPOINTS.consent}>
              <input type="hidden" name="request" value={stepUp.requestId} />
              <input type="hidden" name="decision" value="unmet" />
              <button type="submit" class="secondary">
                {passkeyText(t, 'stepup.back', { service: stepUp.clientName })}
              </button>
            </form>
          </section>
        ) : null}
        {passwordLink ? (
          <p>
            <a href={passwordLink}>{passkeyText(t, 'signin.password_link')}</a>
          </p>
        ) : null}
        <h2>{passkeyText(t, 'signin.lost_title')}</h2>
        <p>
          {passkeyText(t, 'signin.lost_text')} <a href="/recover">{passkeyText(t, 'signin.lost_link')}</a>
        </p>
      </section>
    ));
  });

  app.post('/signout', async (c) => {
    const session = c.get('session');
    if (session) await signOut(deps, auditContext(c), session);
    if (readSessionCookie(c, deps.config.secureCookies) !== undefined) clearSessionCookie(c, deps.config.secureCookies);
    return c.redirect('/signin', 303);
  });

  // The invitation token is in the URL fragment, which the browser never sends: the page's script reads it.
  app.get('/enroll', (c) =>
    renderPage(c, { title: (t) => passkeyText(t, 'enroll.title'), scripts: [...SCRIPTS, '/static/webauthn-enroll.js'] }, ({ t }) => (
      <section id="enroll" data-messages={JSON.stringify({ ...clientMessages(t), checking: passkeyText(t, 'enroll.checking'), for: passkeyText(t, 'enroll.for'), no_token: passkeyText(t, 'enroll.no_token'), done: passkeyText(t, 'enroll.done') })}>
        <h1>{passkeyText(t, 'enroll.title')}</h1>
        <noscript>
          <p class="error">{passkeyText(t, 'js.required')}</p>
        </noscript>
        <p id="invitation-summary" aria-live="polite">
          {passkeyText(t, 'enroll.checking')}
        </p>
        <h2>{passkeyText(t, 'enroll.what_title')}</h2>
        <ol>
          <li>{passkeyText(t, 'enroll.step1', { origin: new URL(deps.config.origin).host })}</li>
          <li>{passkeyText(t, 'enroll.step2')}</li>
          <li>{passkeyText(t, 'enroll.step3')}</li>
        </ol>
        <form id="enroll-form">
          <label for="passkey-name">{passkeyText(t, 'enroll.name_label')}</label>
          <input id="passkey-name" name="name" type="text" maxlength={64} autocomplete="off" aria-describedby="passkey-name-hint" />
          <p id="passkey-name-hint" class="muted">
            {passkeyText(t, 'enroll.name_hint')}
          </p>
          <button type="submit" id="create-passkey" disabled>
            {passkeyText(t, 'enroll.create')}
          </button>
        </form>
        <p id="status" role="status" aria-live="polite"></p>
        <section id="other-method" aria-labelledby="other-method-title" hidden>
          <h2 id="other-method-title">{passkeyText(t, 'enroll.other_title')}</h2>
          <p>{passkeyText(t, 'enroll.other_text')}</p>
          <p>
            <a id="password-path" href="/enroll/password">
              {passkeyText(t, 'enroll.other_link')}
            </a>
          </p>
        </section>
      </section>
    )),
  );

  return app;
}
