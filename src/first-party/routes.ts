/**
 * `POST /authorize-challenge` (draft-ietf-oauth-first-party-apps §5.1): a form like
 * the token endpoint's, the client authenticated the same way (public clients by
 * client_id), and a DPoP proof on every call.
 */
import { Hono } from 'hono';
import type { ClientDirectory } from '../clients/directory.js';
import { effectiveSecurityProfile } from '../clients/security-profile.js';
import { invalidRequest } from '../errors.js';
import { readBasicCredentials, readDpopProof } from '../http/authorization.js';
import { readClientCertificate } from '../http/client-certificate.js';
import { auditContext, type AppEnv } from '../http/context.js';
import { readForm } from '../http/form.js';
import { noStoreJson } from '../http/no-store.js';
import type { Deps } from '../deps.js';
import { anonymousRequestLimit } from '../throttle/middleware.js';
import { authenticateClient } from '../oidc/client-auth.js';
import { currentDpopNonce, dpopNonceRequired } from '../oidc/dpop-nonce.js';
import { dpopAlgsFor, dpopKeyOf } from '../oidc/dpop-request.js';
import { ENDPOINTS } from '../oidc/endpoints.js';
import { completeAuthorizationChallenge, startAuthorizationChallenge } from './authorization-challenge.js';

export function authorizationChallengeRoutes(deps: Deps, clients: ClientDirectory) {
  const app = new Hono<AppEnv>();
  // Each first call stores an auth_session and a challenge: limited per address like the other anonymous endpoints that store rows.
  app.post(ENDPOINTS.authorizationChallenge, anonymousRequestLimit(deps, 'authorize_challenge'), async (c) => {
    const form = await readForm(c);
    const certificate = readClientCertificate(c, deps.config.http);
    const client = await authenticateClient(deps, { form, basic: readBasicCredentials(c), certificate }, { allowPublic: true, path: ENDPOINTS.authorizationChallenge, clients });
    // RFC 9449 §8: the client's server-nonce requirement holds here as at the token endpoint.
    const profile = await effectiveSecurityProfile(deps, client, clients);
    const nonceRequired = dpopNonceRequired(client, profile);
    const jkt = await dpopKeyOf(deps, readDpopProof(c), ENDPOINTS.authorizationChallenge, { nonceRequired, allowedAlgs: dpopAlgsFor(profile) });
    c.header('Pragma', 'no-cache');
    if (nonceRequired) c.header('DPoP-Nonce', currentDpopNonce(deps));
    if (!form.has('auth_session')) return noStoreJson(c, await startAuthorizationChallenge(deps, { client, form, jkt }), 403);
    const issued = await completeAuthorizationChallenge(deps, { client, form, jkt, credential: webauthnResponse(form.get('webauthn_response')), context: auditContext(c) });
    return noStoreJson(c, issued);
  });
  return app;
}

/** The assertion (AuthenticationResponseJSON) the platform API returned, sent as a JSON string. */
function webauthnResponse(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw invalidRequest('webauthn_response must be the passkey response as JSON');
  }
}
