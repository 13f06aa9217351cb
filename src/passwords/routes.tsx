import { Hono } from 'hono';
import { type AppEnv, auditContext, signInRequest } from '../http/context.js';
import { readJsonObject, requiredString } from '../http/json-body.js';
import { writeSessionCookie } from '../http/session-cookie.js';
import { requireRecentAuthentication, requireSession } from '../sessions/middleware.js';
import { reauthenticationRedirect } from '../sessions/reauth.js';
import { PASSWORD_TOTP_SCRIPT } from '../totp/form-parts.js';
import { renderPage } from '../ui/render.js';
import { countActivePasskeys, listTotpAndPassword, methodSettings } from '../users/sign-in-methods.js';
import { safeReturnPath } from '../webauthn/return-path.js';
import { signInWithPassword, reauthenticateWithPassword } from './authenticate.js';
import { finishPasswordEnrollment, startPasswordEnrollment } from './enroll.js';
import { readPassword, readPasswordEnrollment, readPasswordReauthentication, readPasswordSignIn } from './input.js';
import { pt } from './messages.js';
import { AccountPasswordPage, EnrollPasswordPage, ReauthPage, SignInPasswordPage } from './pages.js';
import { removePassword, setPassword } from './service.js';
import type { Deps } from '../deps.js';

const scripts = [PASSWORD_TOTP_SCRIPT];
// The re-authentication page also offers a passkey, through the passkeys capability's browser library.
const PASSKEY_SCRIPTS = ['/static/vendor/simplewebauthn-browser.js'];

/** Password sign-in, re-authentication, the account's password, and enrollment by invitation with a password. */
export function passwordRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get('/signin/password', (c) =>
    renderPage(c, { title: (t) => pt(t, 'pwd.signin.title'), scripts }, (page) => <SignInPasswordPage {...page} returnTo={safeReturnPath(c.req.query('return_to'))} />),
  );

  app.post('/api/signin/password', async (c) => {
    const { session, token } = await signInWithPassword(deps, signInRequest(c), readPasswordSignIn(await readJsonObject(c)));
    writeSessionCookie(c, deps.config, token);
    return c.json({ user_id: session.user_id, amr: session.amr, acr: session.acr, auth_time: session.auth_time.toISOString(), expires_at: session.expires_at.toISOString() });
  });

  app.get('/account/reauth', async (c) => {
    const user = c.get('user');
    const returnTo = safeReturnPath(c.req.query('return_to'));
    if (!user) return c.redirect(`/signin?return_to=${encodeURIComponent(returnTo)}`);
    const methods = await listTotpAndPassword(deps.db, user.id);
    const hasPasskey = (await countActivePasskeys(deps.db, user.id)) > 0;
    return renderPage(c, { title: (t) => pt(t, 'pwd.reauth.title'), scripts: [...PASSKEY_SCRIPTS, ...scripts] }, (page) => (
      <ReauthPage {...page} returnTo={returnTo} hasPasswordAndTotp={methods.password !== null && methods.totp !== null} hasPasskey={hasPasskey} />
    ));
  });

  app.post('/api/account/reauth/password', requireSession(), async (c) => {
    const session = await reauthenticateWithPassword(deps, auditContext(c), { user: c.get('user')!, session: c.get('session')!, attempt: readPasswordReauthentication(await readJsonObject(c)) });
    return c.json({ auth_time: session.auth_time.toISOString(), amr: session.amr, acr: session.acr });
  });

  app.get('/account/password', async (c) => {
    const gate = reauthenticationRedirect(c.get('session'), deps.clock, c.req.path);
    if (gate) return c.redirect(gate);
    const { current: password, allowed } = await methodSettings(deps.db, c.get('user')!, 'password');
    return renderPage(c, { title: (t) => pt(t, 'pwd.account.title'), scripts }, (page) => <AccountPasswordPage {...page} password={password} allowed={allowed} />);
  });

  app.put('/api/account/password', requireRecentAuthentication(deps), async (c) => {
    const password = readPassword(await readJsonObject(c));
    const action = await setPassword(deps, auditContext(c), c.get('user')!, password, c.get('session')!.id);
    return c.json({ status: action === 'password.set' ? 'set' : 'changed' });
  });

  app.delete('/api/account/password', requireRecentAuthentication(deps), async (c) => {
    const { remaining } = await removePassword(deps, auditContext(c), { session: c.get('session')!, confirmLastMethod: c.req.query('confirm_last_method') === 'true' });
    return c.json({ status: 'removed', remaining_sign_in_methods: remaining });
  });

  app.get('/enroll/password', (c) => renderPage(c, { title: (t) => pt(t, 'pwd.enroll.title'), scripts }, (page) => <EnrollPasswordPage {...page} />));

  // POST with the token in the body: tokens stay out of URLs and access logs.
  app.post('/api/enroll/password/start', async (c) => {
    const token = requiredString(await readJsonObject(c), 'token', 128);
    return c.json(await startPasswordEnrollment(deps, auditContext(c), token));
  });

  app.post('/api/enroll/password', async (c) => {
    const { user, session, token } = await finishPasswordEnrollment(deps, signInRequest(c), readPasswordEnrollment(await readJsonObject(c)));
    writeSessionCookie(c, deps.config, token);
    return c.json({ user_id: user.id, username: user.username, amr: session.amr, acr: session.acr, redirect_to: '/account' }, 201);
  });

  return app;
}
