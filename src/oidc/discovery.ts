/**
 * OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2, plus the
 * members RFC 7662, 7009, 9126, 9207, 9449, 8705, RP-Initiated and Back-Channel Logout
 * define). Every value states what Warta does, no more: e.g. `request_uri_parameter_supported`
 * is false (its default is true) because only PAR request_uris are accepted, and the
 * mTLS methods appear only when a proxy forwards client certificates (`tls_client_auth`
 * only when it also forwards its verdict on the chain). No `mtls_endpoint_aliases`
 * (RFC 8705 §5): the proxy asks for a certificate on the issuer's own host, optionally,
 * so every endpoint serves clients with and without one.
 */
import { AUTH_METHODS } from '../clients/metadata.js';
import type { ClientCertificateSettings, Config } from '../config.js';
import { SIGNING_ALG } from '../crypto/signing-keys.js';
import { SUPPORTED_ACR_VALUES } from './checks/acr.js';
import { USER_CLAIMS } from './claims.js';
import { FAPI2_CLIENT_AUTH_METHODS } from '../clients/security-profile.js';
import { clientAssertionAlgsFor } from './client-assertion.js';
import { dpopAlgsFor } from './dpop-request.js';
import { endpointUrl, ENDPOINTS } from './endpoints.js';
import { isMtlsAuthMethod } from './mtls.js';

export function providerMetadata(config: Pick<Config, 'issuer'> & { clientCertificate?: ClientCertificateSettings | undefined; oidc?: Pick<Config['oidc'], 'clientSecurityProfileFloor'> }): Record<string, unknown> {
  const url = (path: string) => endpointUrl(config.issuer, path);
  const mtls = config.clientCertificate;
  // Under a fapi2 floor every client is held to FAPI 2.0: only its methods and algorithms are on offer.
  const floor = config.oidc?.clientSecurityProfileFloor ?? 'baseline';
  const offered = AUTH_METHODS.filter((m) => !isMtlsAuthMethod(m) || (mtls !== undefined && (m === 'self_signed_tls_client_auth' || mtls.verifyHeader !== undefined))).filter((m) => floor !== 'fapi2' || FAPI2_CLIENT_AUTH_METHODS.includes(m));
  const confidentialMethods = offered.filter((m) => m !== 'none');
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
    // draft-ietf-oauth-first-party-apps §4.1; only clients the operator marked first_party_native may use it.
    authorization_challenge_endpoint: url(ENDPOINTS.authorizationChallenge),
    // RFC 9126 §5: true only when every client must push; a client's own requirement is in its metadata (RFC 9126 §6).
    require_pushed_authorization_requests: floor === 'fapi2',
    // `attr:<name>` scopes are per organisation and per client, so they are not listed (RFC 8414 §2: scopes_supported need not be complete).
    scopes_supported: ['openid', 'profile', 'email', 'offline_access', 'groups'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    subject_types_supported: ['public', 'pairwise'],
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
    token_endpoint_auth_methods_supported: offered,
    token_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    introspection_endpoint_auth_methods_supported: confidentialMethods,
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    revocation_endpoint_auth_methods_supported: offered,
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    authorization_response_iss_parameter_supported: true,
    dpop_signing_alg_values_supported: [...dpopAlgsFor(floor)],
    tls_client_certificate_bound_access_tokens: mtls !== undefined,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
  };
}
