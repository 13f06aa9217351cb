/**
 * Devices, sessions and sign-ins, two ways in:
 *  - `/api/account/*` for the account page (session cookie; same-origin checked by the app);
 *  - `/api/me/*` for the messenger (RFC 6750 bearer access token, or DPoP), so one
 *    installation can show the others and sign one out ("not you? revoke"). The token
 *    must carry `warta:account` and name Warta as its audience: an `openid` token of any
 *    consented service must not list a user's IPs or sign their sessions out (issue 11).
 * Both call the same service; ids that are not UUIDs, other users' ids and unknown
 * ids are all 404 with nothing changed.
 */
import { Hono } from 'hono';
import { readAccessToken, readDpopProof } from '../http/authorization.js';
import { readClientCertificate } from '../http/client-certificate.js';
import { type AppContext, type AppEnv, auditContext } from '../http/context.js';
import { WartaError } from '../errors.js';
import { readJsonObject, requiredString } from '../http/json-body.js';
import { authenticateBearer, dpopNonceToSend } from '../oidc/bearer.js';
import type { Deps } from '../deps.js';
import { requireSession } from '../sessions/middleware.js';
import { deviceIdParam, renameDevice, revokeBrowserSession, revokeDevice, sessionIdParam } from './actions.js';
import { accountSecurityOverview } from './views.js';
import { MAX_DEVICE_NAME_LENGTH } from '../grants/device-name.js';
import { ACCOUNT_SCOPE } from '../clients/reserved-scopes.js';


export function devicesRoutes(deps: Deps) {
  const { tokens } = deps;
  const app = new Hono<AppEnv>();

  /**
   * The user and device behind the request's access token. The scope is checked before the
   * audience, so another client's token learns which scope it lacks (403), and a token for
   * another service is invalid here (401). Client-credentials tokens (no user grant) are refused.
   */
  async function bearerUser(c: AppContext): Promise<{ userId: string; grantId: string }> {
    const request = { accessToken: readAccessToken(c), dpop: readDpopProof(c), path: c.req.path, certificate: readClientCertificate(c, deps.config.http) };
    const claims = await authenticateBearer(deps, tokens, request, ACCOUNT_SCOPE, { audience: deps.config.issuer });
    if (typeof claims.grant_id !== 'string') throw new WartaError(403, 'insufficient_scope', 'this API needs an access token issued to a signed-in user');
    const dpopNonce = await dpopNonceToSend(deps, claims);
    if (dpopNonce !== undefined) c.header('DPoP-Nonce', dpopNonce);
    return { userId: claims.sub, grantId: claims.grant_id };
  }
  const bearerContext = (c: AppContext, userId: string) => ({ ...auditContext(c), actor: `user:${userId}` });

  // --- account page (session cookie) ---
  app.get('/api/account/devices', requireSession(), async (c) => {
    const session = c.get('session')!;
    return c.json(await accountSecurityOverview(deps, session.user_id, { sessionId: session.id }));
  });
  app.patch('/api/account/devices/:id', requireSession(), async (c) => {
    const deviceId = deviceIdParam(c.req.param('id'));
    const name = requiredString(await readJsonObject(c), 'name', MAX_DEVICE_NAME_LENGTH);
    return c.json({ device: await renameDevice(deps, auditContext(c), { userId: c.get('user')!.id, deviceId, name }) });
  });
  app.delete('/api/account/devices/:id', requireSession(), async (c) => {
    const deviceId = deviceIdParam(c.req.param('id'));
    const revoked = await revokeDevice(deps, auditContext(c), { userId: c.get('user')!.id, deviceId, txn: c.get('requestId') });
    return c.json({ revoked: true, id: revoked.id, session_ended: revoked.sessionEnded });
  });
  app.delete('/api/account/sessions/:id', requireSession(), async (c) => {
    const sessionId = sessionIdParam(c.req.param('id'));
    const revoked = await revokeBrowserSession(deps, auditContext(c), { userId: c.get('user')!.id, sessionId, txn: c.get('requestId') });
    return c.json({ revoked: true, id: revoked.id, current: revoked.id === c.get('session')!.id });
  });

  // --- the messenger (bearer access token) ---
  app.get('/api/me/devices', async (c) => {
    const { userId, grantId } = await bearerUser(c);
    c.header('Cache-Control', 'no-store');
    return c.json(await accountSecurityOverview(deps, userId, { grantId }));
  });
  app.patch('/api/me/devices/:id', async (c) => {
    const { userId } = await bearerUser(c);
    const deviceId = deviceIdParam(c.req.param('id'));
    const name = requiredString(await readJsonObject(c), 'name', MAX_DEVICE_NAME_LENGTH);
    return c.json({ device: await renameDevice(deps, bearerContext(c, userId), { userId, deviceId, name }) });
  });
  app.delete('/api/me/devices/:id', async (c) => {
    const { userId } = await bearerUser(c);
    const deviceId = deviceIdParam(c.req.param('id'));
    const revoked = await revokeDevice(deps, bearerContext(c, userId), { userId, deviceId, txn: c.get('requestId') });
    return c.json({ revoked: true, id: revoked.id, session_ended: revoked.sessionEnded });
  });
  app.delete('/api/me/sessions/:id', async (c) => {
    const { userId } = await bearerUser(c);
    const sessionId = sessionIdParam(c.req.param('id'));
    const revoked = await revokeBrowserSession(deps, bearerContext(c, userId), { userId, sessionId, txn: c.get('requestId') });
    return c.json({ revoked: true, id: revoked.id });
  });

  return app;
}
