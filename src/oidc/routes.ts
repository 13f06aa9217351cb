/**
 * The OpenID provider's endpoints. The browser-facing ones (authorization, resume,
 * consent, end_session) read the Warta session cookie; the back-channel ones never do.
 * Endpoints with a folder (authorize/, token/, logout/) have their own routes there;
 * the others are answered here, over the plain functions of their files.
 */
import { Hono } from 'hono';
import { WartaError } from '../errors.js';
import { readAccessTokenOrFormToken, readBasicCredentials, readDpopProof } from '../http/authorization.js';
import { readClientCertificate } from '../http/client-certificate.js';
import { type AppContext, type AppEnv } from '../http/context.js';
import { cors } from '../http/cors.js';
import { readForm } from '../http/form.js';
import { answerPublishedDocument, publishDocument } from '../http/published-document.js';
import { completeNoStoreJson, noStoreJson } from '../http/no-store.js';
import type { Deps } from '../deps.js';
import { loadSession } from '../sessions/middleware.js';
import { authorizationRoutes } from './authorize/routes.js';
import { authenticateClient } from './client-auth.js';
import { providerMetadata } from './discovery.js';
import { browserClientCorsPolicy } from './browser-origins.js';
import { effectiveSecurityProfile } from '../clients/security-profile.js';
import { currentDpopNonce, dpopNonceRequired } from './dpop-nonce.js';
import { ENDPOINTS } from './endpoints.js';
import { introspectToken } from './introspect.js';
import { endSessionRoutes } from './logout/routes.js';
import { pushAuthorizationRequest } from './par.js';
import { revokeToken } from './revoke.js';
import { tokenRoutes } from './token/routes.js';
import { userinfo } from './userinfo.js';
import { anonymousRequestLimit } from '../throttle/middleware.js';

const BROWSER_PATHS = [ENDPOINTS.authorization, ENDPOINTS.authorizationResume, ENDPOINTS.consent, ENDPOINTS.endSession, ENDPOINTS.endSessionConfirm];

const POST_ONLY_PATHS = [ENDPOINTS.token, ENDPOINTS.introspection, ENDPOINTS.revocation, ENDPOINTS.pushedAuthorization, ENDPOINTS.authorizationChallenge, ENDPOINTS.consent, ENDPOINTS.endSessionConfirm];

export function oidcRoutes(deps: Deps) {
  const { tokens, clients } = deps;
  const app = new Hono<AppEnv>();
  for (const path of BROWSER_PATHS) app.use(path, loadSession(deps));
  const browserClients = browserClientCorsPolicy(deps);
  for (const path of Object.keys(browserClients.paths)) app.use(path, cors(browserClients));

  /** The form of a back-channel request, and the client it authenticates. */
  const clientRequest = async (c: AppContext, options: { allowPublic: boolean; path: string }) => {
    const form = await readForm(c);
    const certificate = readClientCertificate(c, deps.config.http);
    return { form, certificate, client: await authenticateClient(deps, { form, basic: readBasicCredentials(c), certificate }, { ...options, clients }) };
  };

  // Discovery (OpenID Connect Discovery 1.0 §4, RFC 8414 §3): one document, built once from the configuration.
  const metadata = publishDocument(providerMetadata({ issuer: deps.config.issuer, clientCertificate: deps.config.http.clientCertificate, oidc: deps.config.oidc }));
  for (const path of [ENDPOINTS.discovery, ENDPOINTS.authorizationServerMetadata])
    app.get(path, (c) => answerPublishedDocument(c, metadata, 'application/json; charset=utf-8', { 'Cache-Control': 'public, max-age=300', 'Access-Control-Allow-Origin': '*' }));

  app.route('/', authorizationRoutes(deps));
  app.route('/', tokenRoutes(deps, tokens, clients));

  const answerUserinfo = async (c: AppContext) => {
    const { claims, dpopNonce } = await userinfo(deps, tokens, { accessToken: await readAccessTokenOrFormToken(c), dpop: readDpopProof(c), path: ENDPOINTS.userinfo, certificate: readClientCertificate(c, deps.config.http) });
    if (dpopNonce !== undefined) c.header('DPoP-Nonce', dpopNonce);
    return c.json(claims);
  };
  app.get(ENDPOINTS.userinfo, answerUserinfo);
  app.post(ENDPOINTS.userinfo, answerUserinfo);

  app.post(ENDPOINTS.introspection, async (c) => {
    const { form, client } = await clientRequest(c, { allowPublic: false, path: ENDPOINTS.introspection });
    const token = form.require('token');
    return completeNoStoreJson(c, await introspectToken(deps, tokens, client, { token, tokenTypeHint: form.get('token_type_hint') }));
  });

  app.post(ENDPOINTS.revocation, async (c) => {
    const { form, client } = await clientRequest(c, { allowPublic: true, path: ENDPOINTS.revocation });
    await revokeToken(deps, tokens, client, form.require('token'), { actor: `client:${client.client_id}`, ip: c.get('clientIp') });
    return c.body(null, 200);
  });

  // Public clients push without a secret, and each push stores a request: limited per address.
  app.post(ENDPOINTS.pushedAuthorization, anonymousRequestLimit(deps, 'par'), async (c) => {
    const { form, client } = await clientRequest(c, { allowPublic: true, path: ENDPOINTS.pushedAuthorization });
    const pushed = await pushAuthorizationRequest(deps, { client, form, dpop: readDpopProof(c) });
    if (dpopNonceRequired(client, await effectiveSecurityProfile(deps, client, deps.clients))) c.header('DPoP-Nonce', currentDpopNonce(deps));
    return noStoreJson(c, pushed, 201);
  });

  app.route('/', endSessionRoutes(deps, tokens));
  for (const path of POST_ONLY_PATHS)
    app.on(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'], path, () => {
      throw new WartaError(405, 'invalid_request', 'use POST', { headers: { Allow: 'POST' } });
    });
  return app;
}
