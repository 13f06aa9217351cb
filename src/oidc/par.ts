/**
 * Pushed authorization requests (RFC 9126). The client sends the authorization
 * parameters over the back channel, authenticated, and gets a one-time request_uri
 * for the browser. The same checks as at the authorization endpoint run here, and
 * their errors come back as JSON (§2.3). A DPoP proof binds the future code to its
 * key (RFC 9449 §10.1).
 */
import { Hono } from 'hono';
import type { ClientDirectory } from '../clients/directory.js';
import type { AppEnv } from '../http/context.js';
import { invalidRequest, WartaError } from '../errors.js';
import type { Deps } from '../runtime.js';
import { checkAuthorizationRequest, identifyClient } from './authorize/request.js';
import { saveAuthorizationRequest } from './authorize/store.js';
import { parseAuthorizationParams } from './checks/params.js';
import { readClientRequest } from './client-auth.js';
import { dpopKeyOf } from './dpop-request.js';
import { ENDPOINTS, REQUEST_URI_PREFIX } from './endpoints.js';

export function pushedAuthorizationRoutes(deps: Deps, clients: ClientDirectory) {
  const app = new Hono<AppEnv>();
  app.post(ENDPOINTS.pushedAuthorization, async (c) => {
    const { form, client } = await readClientRequest(c, deps, { allowPublic: true, path: ENDPOINTS.pushedAuthorization, clients });
    if (form.has('request_uri')) throw invalidRequest('request_uri must not be pushed (RFC 9126 §2.1)');
    if (!client.grant_types.includes('authorization_code')) throw new WartaError(400, 'unauthorized_client', 'this client may not use the authorization code flow');

    const raw = new URLSearchParams(form.raw);
    if (!raw.has('client_id')) raw.set('client_id', client.client_id);
    const params = parseAuthorizationParams(raw);
    if (params.client_id !== client.client_id) throw invalidRequest('client_id does not match the authenticated client');

    const jkt = await dpopKeyOf(c, deps, ENDPOINTS.pushedAuthorization);
    if (jkt !== undefined && params.dpop_jkt !== undefined && jkt !== params.dpop_jkt) throw new WartaError(400, 'invalid_dpop_proof', 'dpop_jkt does not match the DPoP proof key');
    const pushed = { ...params, dpop_jkt: params.dpop_jkt ?? jkt };

    checkAuthorizationRequest(await identifyClient(deps, pushed), pushed);
    const id = await saveAuthorizationRequest(deps.db, deps.clock, { kind: 'pushed', params: pushed, ttlSeconds: deps.config.pushedRequestTtlSeconds });
    c.header('Cache-Control', 'no-store');
    return c.json({ request_uri: `${REQUEST_URI_PREFIX}${id}`, expires_in: deps.config.pushedRequestTtlSeconds }, 201);
  });
  return app;
}
