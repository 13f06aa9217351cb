import { Hono } from 'hono';
import { type AppEnv, auditContext, signInRequest } from '../http/context.js';
import { WartaError } from '../errors.js';
import { optionalString, readJsonObject, requiredString } from '../http/json-body.js';
import { writeSessionCookie } from '../http/session-cookie.js';
import { requireSession } from '../sessions/middleware.js';
import { finishAuthentication, finishReauthentication, startAuthentication, startReauthentication } from './authenticate.js';
import { passkeyView } from './credentials.js';
import { finishEnrollment, finishRegistration, startEnrollment, startRegistration } from './register.js';
import { safeReturnPath } from './return-path.js';
import type { Deps } from '../deps.js';
import { anonymousRequestLimit } from '../throttle/middleware.js';

const userView = (user: { id: string; username: string; display_name: string }) => ({ id: user.id, username: user.username, display_name: user.display_name });

function credentialOf(body: Record<string, unknown>): unknown {
  if (body.credential === undefined) throw new WartaError(400, 'invalid_request', 'credential is required');
  return body.credential;
}

/**
 * The passkey ceremonies as JSON endpoints, used by Warta's own pages and by the
 * messenger's native apps alike (docs/api/passkeys.md). Each ceremony is a pair:
 * `…/options` returns the WebAuthn options, `…/verify` takes the credential.
 */
export function webauthnRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  // Anonymous and each stores a challenge: limited per address (src/throttle/requests.ts). The sign-in's options store nothing.
  const optionsLimit = anonymousRequestLimit(deps, 'webauthn-options');

  app.post('/api/webauthn/enrollment/options', optionsLimit, async (c) => {
    const body = await readJsonObject(c);
    return c.json(await startEnrollment(deps, requiredString(body, 'invitation', 128)));
  });

  app.post('/api/webauthn/enrollment/verify', async (c) => {
    const body = await readJsonObject(c);
    const { user, passkey, session, token } = await finishEnrollment(deps, signInRequest(c), { invitationToken: requiredString(body, 'invitation', 128), credential: credentialOf(body), name: optionalString(body, 'name', 200) });
    writeSessionCookie(c, deps.config, token);
    return c.json({ user: userView(user), passkey: passkeyView(passkey), amr: session.amr, acr: session.acr, redirect_to: '/account' }, 201);
  });

  app.post('/api/webauthn/registration/options', requireSession(), async (c) => {
    await readJsonObject(c);
    return c.json(await startRegistration(deps, { session: c.get('session')!, user: c.get('user')! }));
  });

  app.post('/api/webauthn/registration/verify', requireSession(), async (c) => {
    const body = await readJsonObject(c);
    const passkey = await finishRegistration(deps, auditContext(c), { session: c.get('session')!, user: c.get('user')!, credential: credentialOf(body), name: optionalString(body, 'name', 200) });
    return c.json({ passkey: passkeyView(passkey) }, 201);
  });

  // Writes nothing (the challenge is sealed, not stored), so it is not counted against the address: there is nothing to fill.
  app.post('/api/webauthn/authentication/options', async (c) => {
    const body = await readJsonObject(c);
    return c.json(await startAuthentication(deps, { username: optionalString(body, 'username', 254) }));
  });

  app.post('/api/webauthn/authentication/verify', async (c) => {
    const body = await readJsonObject(c);
    const returnTo = safeReturnPath(optionalString(body, 'return_to', 2048));
    const { user, session, token } = await finishAuthentication(deps, signInRequest(c), { credential: credentialOf(body) });
    writeSessionCookie(c, deps.config, token);
    return c.json({ user: userView(user), amr: session.amr, acr: session.acr, redirect_to: returnTo });
  });

  app.post('/api/webauthn/reauthentication/options', requireSession(), async (c) => {
    await readJsonObject(c);
    return c.json(await startReauthentication(deps, { session: c.get('session')!, user: c.get('user')! }));
  });

  app.post('/api/webauthn/reauthentication/verify', requireSession(), async (c) => {
    const body = await readJsonObject(c);
    const session = await finishReauthentication(deps, auditContext(c), { session: c.get('session')!, credential: credentialOf(body) });
    return c.json({ auth_time: session.auth_time.toISOString(), amr: session.amr, acr: session.acr });
  });

  return app;
}
