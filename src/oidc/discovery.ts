/**
 * OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2, plus the
 * members RFC 7662, 7009, 9126, 9207, 9449, RP-Initiated and Back-Channel Logout
 * define). Every value states what Warta does, no more: e.g. `request_uri_parameter_supported`
 * is false (its default is true) because only PAR request_uris are accepted.
 */
import { AUTH_METHODS } from '../clients/metadata.js';
import type { Config } from '../config.js';
import { SIGNING_ALG } from '../crypto/signing-keys.js';
import { SUPPORTED_ACR_VALUES } from './checks/acr.js';
import { USER_CLAIMS } from './claims.js';
import { FAPI2_CLIENT_AUTH_METHODS } from '../clients/security-profile.js';
import { clientAssertionAlgsFor } from './client-assertion.js';
import { dpopAlgsFor } from './dpop-request.js';
import { endpointUrl, ENDPOINTS } from './endpoints.js';

export function providerMetadata(config: Pick<Config, 'issuer'> & { oidc: Pick<Config['oidc'], 'clientSecurityProfileFloor'> }): Record<string, unknown> {
  const url = (path: string) => endpointUrl(config.issuer, path);
  // Under a fapi2 floor every client is held to FAPI 2.0: only its methods and algorithms are on offer.
  const floor = config.oidc.clientSecurityProfileFloor;
  const authMethods = floor === 'fapi2' ? AUTH_METHODS.filter((m) => FAPI2_CLIENT_AUTH_METHODS.includes(m)) : [...AUTH_METHODS];
  const confidentialMethods = authMethods.filter((m) => m !== 'none');
  const assertionAlgs = [...clientAssertionAlgsFor(floor)];
  return {
    issuer: config.issuer,
    authorization_endpoint: url(ENDPOINTS.authorization),
    token_endpoint: url(ENDPOINTS.token),
    userinfo_endpoint: url(ENDPOINTS.userinfo),
    jwks_uri: url(ENDPOINTS.jwks),
    end_session_endpoint: url(ENDPOINTS.endSession),
    introspection_endpoint: url(ENDPOINTS.introspection),
    revocation_endpoint: url(ENDPOINTS.revocation),
    pushed_authorization_request_endpoint: url(ENDPOINTS.pushedAuthorization),
    // RFC 9126 §5: true only when every client must push; a client's own requirement is in its metadata (RFC 9126 §6).
    require_pushed_authorization_requests: config.oidc.clientSecurityProfileFloor === 'fapi2',
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [SIGNING_ALG],
    acr_values_supported: SUPPORTED_ACR_VALUES,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'at_hash', ...USER_CLAIMS],
    claim_types_supported: ['normal'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    ui_locales_supported: ['en', 'pl'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    introspection_endpoint_auth_methods_supported: confidentialMethods,
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    authorization_response_iss_parameter_supported: true,
    dpop_signing_alg_values_supported: [...dpopAlgsFor(floor)],
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
  };
}
