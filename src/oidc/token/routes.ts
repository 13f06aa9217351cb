/**
 * The token endpoint (RFC 6749 §3.2): authenticate the client, check it may use the
 * grant type, verify any DPoP proof, take the client certificate's thumbprint when its
 * tokens are certificate-bound, then hand over to the grant's own file.
 */
import { Hono } from 'hono';
import type { ClientDirectory } from '../../clients/directory.js';
import { readBasicCredentials, readDpopProof } from '../../http/authorization.js';
import { readClientCertificate } from '../../http/client-certificate.js';
import type { AppEnv } from '../../http/context.js';
import { readForm } from '../../http/form.js';
import { completeNoStoreJson } from '../../http/no-store.js';
import { invalidRequest, WartaError } from '../../errors.js';
import type { Deps } from '../../deps.js';
import { effectiveSecurityProfile } from '../../clients/security-profile.js';
import { requireSenderConstraint } from '../checks/sender-constraint.js';
import { authenticateClient } from '../client-auth.js';
import { currentDpopNonce, dpopNonceRequired } from '../dpop-nonce.js';
import { dpopAlgsFor, dpopKeyOf } from '../dpop-request.js';
import { ENDPOINTS } from '../endpoints.js';
import { certificateThumbprint } from '../mtls.js';
import type { Tokens } from '../tokens.js';
import { authorizationCodeGrant } from './authorization_code.js';
import { clientCredentialsGrant } from './client_credentials.js';
import { refreshTokenGrant } from './refresh_token.js';

const GRANTS = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
} as const;

export function tokenRoutes(deps: Deps, tokens: Tokens, clients: ClientDirectory) {
  const app = new Hono<AppEnv>();
  app.post(ENDPOINTS.token, async (c) => {
    const form = await readForm(c);
    const certificate = readClientCertificate(c, deps.config.http);
    const client = await authenticateClient(deps, { form, basic: readBasicCredentials(c), certificate }, { allowPublic: true, path: ENDPOINTS.token, clients });

    const grantType = form.get('grant_type');
    if (grantType === undefined) throw invalidRequest('grant_type is required');
    if (!Object.hasOwn(GRANTS, grantType)) throw new WartaError(400, 'unsupported_grant_type', 'grant_type must be authorization_code, refresh_token or client_credentials');
    if (!client.grant_types.includes(grantType)) throw new WartaError(400, 'unauthorized_client', `this client is not registered for the ${grantType} grant`);

    const profile = await effectiveSecurityProfile(deps, client, clients);
    const nonceRequired = dpopNonceRequired(client, profile);
    const jkt = await dpopKeyOf(deps, readDpopProof(c), ENDPOINTS.token, { nonceRequired, allowedAlgs: dpopAlgsFor(profile) });
    // RFC 8705 §3: a client registered with tls_client_certificate_bound_access_tokens gets tokens only for the certificate it connects with.
    if (client.tls_client_certificate_bound_access_tokens && certificate === undefined) throw invalidRequest('this client\'s tokens are bound to its TLS client certificate: connect with it');
    const x5t = client.tls_client_certificate_bound_access_tokens && certificate !== undefined ? certificateThumbprint(certificate.certificate) : undefined;
    requireSenderConstraint(client, profile, { dpopJkt: jkt, certificateThumbprint: x5t });

    const grant = GRANTS[grantType as keyof typeof GRANTS];
    const issued = await grant({ deps, tokens, client, profile, form, jkt, x5t, ip: c.get('clientIp') });
    deps.metrics.recordTokenIssued(grantType as keyof typeof GRANTS);
    // RFC 6749 §5.1: "Cache-Control: no-store" and "Pragma: no-cache".
    // RFC 9449 §8.2: a fresh nonce with every answer, so the client rarely meets use_dpop_nonce.
    return completeNoStoreJson(c, issued, nonceRequired ? { Pragma: 'no-cache', 'DPoP-Nonce': currentDpopNonce(deps) } : { Pragma: 'no-cache' });
  });
  return app;
}
