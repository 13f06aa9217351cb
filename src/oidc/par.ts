/**
 * Pushed authorization requests (RFC 9126). The client sends the authorization
 * parameters over the back channel, authenticated, and gets a one-time request_uri
 * for the browser. The same checks as at the authorization endpoint run here, and
 * their errors come back as JSON (§2.3). A DPoP proof binds the future code to its
 * key (RFC 9449 §10.1).
 */
import { effectiveSecurityProfile } from '../clients/security-profile.js';
import type { OAuthClient } from '../db/schema.js';
import { invalidRequest, WartaError } from '../errors.js';
import type { FormParams } from '../http/form.js';
import type { Deps } from '../deps.js';
import { checkAuthorizationRequest, identifyClient } from './authorize/request.js';
import { saveAuthorizationRequest } from './authorize/store.js';
import { parseAuthorizationParams } from './checks/params.js';
import { dpopNonceRequired } from './dpop-nonce.js';
import { dpopAlgsFor, dpopKeyOf, type PresentedDpopProof } from './dpop-request.js';
import { ENDPOINTS, REQUEST_URI_PREFIX } from './endpoints.js';

/** The authenticated client's pushed parameters, checked and stored; the answer of §2.2. */
export async function pushAuthorizationRequest(deps: Deps, input: { client: OAuthClient; form: FormParams; dpop: PresentedDpopProof }): Promise<{ request_uri: string; expires_in: number }> {
  const { client, form } = input;
  if (form.has('request_uri')) throw invalidRequest('request_uri must not be pushed (RFC 9126 §2.1)');
  if (!client.grant_types.includes('authorization_code')) throw new WartaError(400, 'unauthorized_client', 'this client may not use the authorization code flow');

  const raw = new URLSearchParams(form.raw);
  if (!raw.has('client_id')) raw.set('client_id', client.client_id);
  const params = parseAuthorizationParams(raw);
  if (params.client_id !== client.client_id) throw invalidRequest('client_id does not match the authenticated client');

  const profile = await effectiveSecurityProfile(deps, client, deps.clients);
  const jkt = await dpopKeyOf(deps, input.dpop, ENDPOINTS.pushedAuthorization, { nonceRequired: dpopNonceRequired(client, profile), allowedAlgs: dpopAlgsFor(profile) });
  if (jkt !== undefined && params.dpop_jkt !== undefined && jkt !== params.dpop_jkt) throw new WartaError(400, 'invalid_dpop_proof', 'dpop_jkt does not match the DPoP proof key');
  const pushed = { ...params, dpop_jkt: params.dpop_jkt ?? jkt };

  checkAuthorizationRequest(await identifyClient(deps, pushed), pushed);
  const id = await saveAuthorizationRequest(deps.db, deps.clock, { kind: 'pushed', params: pushed, ttlSeconds: deps.config.oidc.pushedRequestTtlSeconds });
  return { request_uri: `${REQUEST_URI_PREFIX}${id}`, expires_in: deps.config.oidc.pushedRequestTtlSeconds };
}
