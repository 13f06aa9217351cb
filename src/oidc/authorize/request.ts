/**
 * Validating an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.2) in the two
 * phases the error rules impose (OIDC Core §3.1.2.6, RFC 6749 §4.1.2.1):
 *
 *  1. `identifyClient`: the client and its redirect URI. Until both check out nothing
 *     may be sent to the redirect URI (it could be an attacker's), so these errors are
 *     shown to the user as a page.
 *  2. `checkAuthorizationRequest`: everything else; these errors go back to the client.
 */
import { findClient } from '../../clients/service.js';
import type { OAuthClient } from '../../db/schema.js';
import { invalidRequest, WartaError } from '../../errors.js';
import type { Deps } from '../../deps.js';
import { requestedAcrValues, requiredAcr } from '../checks/acr.js';
import type { AuthorizationParams, Prompt } from '../checks/params.js';
import { checkPkceRequest } from '../checks/pkce.js';
import { matchRedirectUri } from '../checks/redirect-uri.js';
import { checkRequestedScope } from '../checks/scope.js';

export interface ClientRedirect {
  client: OAuthClient;
  /** The redirect URI responses go to (for a loopback URI, with the port the client asked for). */
  redirectUri: string;
}

/** A request that passed every check; what the code is issued for. */
export interface ValidatedRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string;
  prompt: Prompt[];
  maxAge: number | undefined;
  loginHint: string | undefined;
  uiLocales: string | undefined;
  requiredAcr: string | undefined;
  /** The acr values the client named (checks/acr.ts claimedAcr); absent in requests stored before it existed. */
  requestedAcrValues?: string[] | undefined;
  dpopJkt: string | undefined;
  /** The `device_name` parameter, for the device list (src/devices/). */
  deviceName?: string | undefined;
}

/** Errors here must not redirect: they are shown to the user (status 400). */
export async function identifyClient(deps: Pick<Deps, 'db'>, params: Pick<AuthorizationParams, 'client_id' | 'redirect_uri'>): Promise<ClientRedirect> {
  return checkClientRedirect(await findClient(deps.db, params.client_id), params);
}

/** identifyClient with the client already read (a waiting request is read with its client). */
export function checkClientRedirect(client: OAuthClient | undefined, params: Pick<AuthorizationParams, 'redirect_uri'>): ClientRedirect {
  if (!client) throw new WartaError(400, 'invalid_client', 'the application that sent you here is not registered with Warta');
  if (!client.grant_types.includes('authorization_code')) throw new WartaError(400, 'unauthorized_client', 'this application may not sign users in');
  // Shown to the user, never redirected: a suspended client may be in an attacker's hands.
  if (client.suspended_at !== null) throw new WartaError(400, 'unauthorized_client', 'this application is suspended by the operator of this sign-in service');
  // Required even when only one URI is registered: OIDC Core §3.1.2.1 makes it REQUIRED.
  if (params.redirect_uri === undefined) throw invalidRequest('redirect_uri is required');
  const redirectUri = matchRedirectUri(params.redirect_uri, client.redirect_uris);
  if (redirectUri === null) throw new WartaError(400, 'invalid_request', 'redirect_uri is not registered for this application', { detail: `unregistered redirect_uri for client ${client.client_id}` });
  return { client, redirectUri };
}

const JKT = /^[A-Za-z0-9_-]{43}$/;

/** Errors here are returned to the client at its redirect URI. */
export function checkAuthorizationRequest({ client, redirectUri }: ClientRedirect, params: AuthorizationParams): ValidatedRequest {
  if (params.response_type !== 'code') throw new WartaError(400, 'unsupported_response_type', 'response_type must be code');
  const scopes = checkRequestedScope(params.scope, client.scope);
  const { codeChallenge } = checkPkceRequest({ codeChallenge: params.code_challenge, codeChallengeMethod: params.code_challenge_method });
  if (params.dpop_jkt !== undefined && !JKT.test(params.dpop_jkt)) throw invalidRequest('dpop_jkt must be a base64url SHA-256 JWK thumbprint');
  return {
    clientId: client.client_id,
    redirectUri,
    scopes,
    state: params.state,
    nonce: params.nonce,
    codeChallenge,
    prompt: params.prompt ?? [],
    maxAge: params.max_age,
    loginHint: params.login_hint,
    uiLocales: params.ui_locales,
    requiredAcr: requiredAcr(params.acr_values, client.required_acr),
    requestedAcrValues: requestedAcrValues(params.acr_values, client.required_acr),
    dpopJkt: params.dpop_jkt,
    deviceName: params.device_name,
  };
}
