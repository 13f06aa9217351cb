/**
 * Access tokens presented to Warta's own protected resources, the UserInfo endpoint
 * and the messenger's device API (RFC 6750 §2.1 Authorization header; RFC 9449 §7 for
 * DPoP-bound tokens; RFC 8705 §3 for certificate-bound ones). Errors follow RFC 6750 §3.1: 401 `invalid_token`, 403
 * `insufficient_scope`, with a WWW-Authenticate challenge in the scheme the token belongs to.
 */
import { effectiveSecurityProfile } from '../clients/security-profile.js';
import { WartaError } from '../errors.js';
import type { PresentedAccessToken } from '../http/authorization.js';
import type { PresentedClientCertificate } from '../http/client-certificate.js';
import type { Deps } from '../deps.js';
import { currentDpopNonce, dpopNonceRequired } from './dpop-nonce.js';
import { dpopAlgsFor, dpopKeyOf, type PresentedDpopProof } from './dpop-request.js';
import { certificateThumbprint } from './mtls.js';
import { type AccessTokenClaims, accessTokenInForce, type Tokens } from './tokens.js';

const challenge = (scheme: 'Bearer' | 'DPoP', error?: string, description?: string) =>
  [`${scheme} realm="warta"`, ...(error ? [`error="${error}"`] : []), ...(description ? [`error_description="${description.replace(/["\\]/g, '')}"`] : [])].join(', ');

export function invalidToken(scheme: 'Bearer' | 'DPoP', description: string): WartaError {
  return new WartaError(401, 'invalid_token', description, { headers: { 'WWW-Authenticate': challenge(scheme, 'invalid_token', description) } });
}

/** What a request to a protected resource presented: its access token (undefined when missing or malformed) and DPoP proof. */
export interface ResourceRequest {
  accessToken: PresentedAccessToken | undefined;
  dpop: PresentedDpopProof;
  /** The resource's path, which a DPoP proof must name. */
  path: string;
  /** The TLS client certificate the trusted proxy forwarded; left out where none is read, so a certificate-bound token is refused there. */
  certificate?: PresentedClientCertificate | undefined;
}

/**
 * The verified, in-force access token of the request, proven with DPoP when it is bound to a key.
 * With `audience`, the token must name it in `aud` (RFC 9068 §4): a token made for another
 * service is not one for this resource, whatever its scope says.
 */
export async function authenticateBearer(deps: Deps, tokens: Tokens, request: ResourceRequest, requiredScope: string, options: { audience?: string } = {}): Promise<AccessTokenClaims> {
  if (!request.accessToken) {
    // RFC 6750 §3.1: a request without credentials gets a bare challenge.
    throw new WartaError(401, 'invalid_token', 'an access token is required', { headers: { 'WWW-Authenticate': challenge('Bearer') } });
  }
  const { scheme, token } = request.accessToken;
  const claims = await tokens.accessToken(token);
  if (!claims) throw invalidToken(scheme, 'the access token is invalid or expired');

  const boundTo = claims.cnf?.jkt;
  if (boundTo !== undefined) {
    // RFC 9449 §7.1: a DPoP-bound token is only accepted with the DPoP scheme and a proof by its key.
    if (scheme !== 'DPoP') throw invalidToken('DPoP', 'this access token is DPoP-bound: present it with the DPoP scheme and a proof');
    const tokenClient = await deps.clients.find(claims.client_id);
    // A fapi2 client's proofs use the profile's algorithms here too (FAPI 2.0 SP §5.4.1), not only at the token endpoint.
    const profile = tokenClient ? await effectiveSecurityProfile(deps, tokenClient, deps.clients) : 'baseline';
    const jkt = await dpopKeyOf(deps, request.dpop, request.path, { accessToken: token, nonceRequired: tokenClient !== undefined && dpopNonceRequired(tokenClient, profile), allowedAlgs: dpopAlgsFor(profile) });
    if (jkt !== boundTo) throw invalidToken('DPoP', 'the DPoP proof is missing or made with another key');
  } else if (scheme === 'DPoP') {
    throw invalidToken('Bearer', 'this access token is not DPoP-bound: use the Bearer scheme');
  }
  const boundCertificate = claims.cnf?.['x5t#S256'];
  // RFC 8705 §3: a certificate-bound token is accepted only over a connection with that very certificate.
  if (boundCertificate !== undefined && (request.certificate === undefined || certificateThumbprint(request.certificate.certificate) !== boundCertificate))
    throw invalidToken(scheme, 'this access token is bound to a TLS client certificate that the connection did not present');

  if (!(claims.scope ?? '').split(' ').includes(requiredScope))
    throw new WartaError(403, 'insufficient_scope', `the access token lacks the ${requiredScope} scope`, { headers: { 'WWW-Authenticate': `${challenge(scheme, 'insufficient_scope')}, scope="${requiredScope}"` } });
  if (options.audience !== undefined && !audiences(claims.aud).includes(options.audience)) throw invalidToken(scheme, 'the access token was not issued for this resource');
  if (!(await accessTokenInForce(deps.db, claims))) throw invalidToken(scheme, 'the access token has been revoked');
  return claims;
}

/**
 * The nonce to send with a successful answer to `claims`'s request (RFC 9449 §9): the
 * current one when the token is DPoP-bound and its client must use nonces.
 */
export async function dpopNonceToSend(deps: Deps, claims: AccessTokenClaims): Promise<string | undefined> {
  return claims.cnf?.jkt !== undefined && (await tokenClientRequiresNonce(deps, claims)) ? currentDpopNonce(deps) : undefined;
}

async function tokenClientRequiresNonce(deps: Deps, claims: AccessTokenClaims): Promise<boolean> {
  const client = await deps.clients.find(claims.client_id);
  return client !== undefined && dpopNonceRequired(client, await effectiveSecurityProfile(deps, client, deps.clients));
}

const audiences = (aud: unknown): unknown[] => (Array.isArray(aud) ? aud : [aud]);
