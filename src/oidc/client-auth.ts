/**
 * Client authentication at the token, introspection, revocation and PAR endpoints
 * (RFC 6749 §2.3, OIDC Core §9): `client_secret_basic`, `client_secret_post`,
 * `private_key_jwt`, `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 §2,
 * the client_id in the form and the certificate of the connection, src/oidc/mtls.ts),
 * and `none` for public clients, which only identify themselves.
 *
 * - A client uses exactly the method it registered, and only one per request
 *   (RFC 6749 §2.3: "MUST NOT use more than one authentication method").
 * - Secrets are 256-bit random values stored as a keyed hash: one indexed look-up
 *   and a constant-time comparison, no password hashing on the hot path.
 * - Every failure is 401 `invalid_client`; when the client tried the Authorization
 *   header the response carries `WWW-Authenticate: Basic` (RFC 6749 §5.2).
 */
import { decodeJwt, type JSONWebKeySet } from 'jose';
import type { ClientDirectory } from '../clients/directory.js';
import { effectiveSecurityProfile, FAPI2_CLIENT_AUTH_METHODS, type SecurityProfile } from '../clients/security-profile.js';
import { constantTimeEqual, keyedHash } from '../crypto/random.js';
import type { OAuthClient } from '../db/schema.js';
import { invalidRequest, WartaError } from '../errors.js';
import type { BasicCredentials } from '../http/authorization.js';
import type { PresentedClientCertificate } from '../http/client-certificate.js';
import type { FormParams } from '../http/form.js';
import type { Deps } from '../deps.js';
import { clientAssertionAlgsFor, verifyClientAssertion } from './client-assertion.js';
import { endpointUrl, ENDPOINTS } from './endpoints.js';
import { certificateAuthenticationRefusal, isMtlsAuthMethod, MTLS_AUTH_METHODS } from './mtls.js';
import { jtiRecorder } from './replay.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="warta", charset="UTF-8"' };

export interface AuthenticateClientOptions {
  /** Whether a public client (`none`) may call this endpoint by sending its client_id. */
  allowPublic: boolean;
  /** The path of the endpoint being called (its URL is an accepted assertion audience). */
  path: string;
  clients: ClientDirectory;
}

/** What the client presented: its form body, if sent the Authorization: Basic credentials, and the TLS client certificate its proxy forwarded. */
export interface PresentedClientCredentials {
  form: FormParams;
  basic: BasicCredentials | undefined;
  certificate: PresentedClientCertificate | undefined;
}

export async function authenticateClient(deps: Deps, presented: PresentedClientCredentials, options: AuthenticateClientOptions): Promise<OAuthClient> {
  const { form, basic } = presented;
  if (basic === 'malformed') throw invalidClient('malformed Basic credentials', BASIC_CHALLENGE);
  const used = [basic !== undefined, form.has('client_secret'), form.has('client_assertion')].filter(Boolean).length;
  if (used > 1) throw invalidRequest('use exactly one client authentication method');

  if (basic !== undefined) {
    const formClientId = form.get('client_id');
    if (formClientId !== undefined && formClientId !== basic.clientId) throw invalidRequest('client_id does not match the Authorization header');
    return clientWithSecret(deps, options.clients, basic.clientId, basic.secret, 'client_secret_basic', BASIC_CHALLENGE);
  }

  if (form.has('client_secret')) {
    return clientWithSecret(deps, options.clients, form.get('client_id'), form.require('client_secret'), 'client_secret_post');
  }

  if (form.has('client_assertion')) {
    if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION) throw invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    const assertion = form.require('client_assertion');
    const clientId = form.get('client_id') ?? assertionSubject(assertion);
    const { client, profile } = await registeredClient(deps, options.clients, clientId, 'private_key_jwt');
    await verifyClientAssertion({
      assertion,
      clientId: client.client_id,
      clientJwks: client.jwks as unknown as JSONWebKeySet,
      // RFC 9126 §2 and OIDC Core §9: the issuer, the token endpoint, or the endpoint called.
      expectedAudiences: [...new Set([deps.config.issuer, endpointUrl(deps.config.issuer, ENDPOINTS.token), endpointUrl(deps.config.issuer, options.path)])],
      now: deps.clock.now(),
      markJtiUsed: jtiRecorder(deps, `client-assertion:${client.client_id}`),
      allowedAlgs: clientAssertionAlgsFor(profile),
    });
    return client;
  }

  const clientId = form.get('client_id');
  if (clientId === undefined) throw invalidClient('client authentication is required');
  const { client } = await registeredClient(deps, options.clients, clientId, ['none', ...MTLS_AUTH_METHODS]);
  if (isMtlsAuthMethod(client.token_endpoint_auth_method)) {
    const refusal = certificateAuthenticationRefusal(client, presented.certificate);
    if (refusal !== undefined) throw invalidClient(refusal);
    return client;
  }
  if (!options.allowPublic) throw invalidClient('this endpoint is for confidential clients');
  return client;
}

function assertionSubject(assertion: string): string | undefined {
  try {
    const sub = decodeJwt(assertion).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    throw invalidClient('client_assertion is not a JWT');
  }
}

async function registeredClient(
  deps: Deps,
  clients: ClientDirectory,
  clientId: string | undefined,
  method: OAuthClient['token_endpoint_auth_method'] | OAuthClient['token_endpoint_auth_method'][],
  headers?: Record<string, string>,
  fresh = false,
): Promise<{ client: OAuthClient; profile: SecurityProfile }> {
  if (clientId === undefined || clientId === '') throw invalidClient('client_id is required', headers);
  const client = await clients.find(clientId, { fresh });
  if (!client) throw invalidClient('unknown client', headers);
  // RFC 6749 §5.2: a client that may not authenticate now fails authentication; nothing about why beyond that.
  if (client.suspended_at !== null) throw invalidClient('this client is suspended', headers);
  if (!(Array.isArray(method) ? method : [method]).includes(client.token_endpoint_auth_method)) throw invalidClient(`this client is registered to authenticate with ${client.token_endpoint_auth_method}`, headers);
  // FAPI 2.0 SP §5.3.2.1: a client held to fapi2 (by itself, its organisation or the instance) authenticates only with a key or a certificate.
  const profile = await effectiveSecurityProfile(deps, client, clients);
  if (profile === 'fapi2' && !FAPI2_CLIENT_AUTH_METHODS.includes(client.token_endpoint_auth_method))
    throw invalidClient(`this client is held to the fapi2 security profile, which does not allow ${client.token_endpoint_auth_method}; it must authenticate with ${FAPI2_CLIENT_AUTH_METHODS.join(', ')}`, headers);
  return { client, profile };
}

/** A secret client whose secret matches; a mismatch is checked once more against the database (the secret may just have been rotated). */
async function clientWithSecret(deps: Deps, clients: ClientDirectory, clientId: string | undefined, secret: string, method: 'client_secret_basic' | 'client_secret_post', headers?: Record<string, string>): Promise<OAuthClient> {
  const presented = keyedHash(deps.tokenHashKey, secret);
  const { client } = await registeredClient(deps, clients, clientId, method, headers);
  if (secretMatches(client, presented)) return client;
  const { client: current } = await registeredClient(deps, clients, clientId, method, headers, true);
  if (secretMatches(current, presented)) return current;
  throw invalidClient('wrong client credentials', headers);
}

function secretMatches(client: OAuthClient, presentedHash: string): boolean {
  return client.client_secret_hash !== null && constantTimeEqual(presentedHash, client.client_secret_hash);
}

function invalidClient(description: string, headers?: Record<string, string>): WartaError {
  return new WartaError(401, 'invalid_client', description, headers ? { headers } : {});
}
