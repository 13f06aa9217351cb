/**
 * Signing in through Warta with openid-client: the authorization code flow with
 * PKCE (S256), the request pushed first (PAR, RFC 9126) so nothing in the browser's
 * address bar can be altered, the client authenticated with its own key
 * (private_key_jwt) or a secret, and RP-initiated logout.
 */
import { importJWK } from 'jose';
import * as oidc from 'openid-client';
import { isLoopback, type RelyingServiceConfig } from './config.js';
import type { PendingSignIn } from './sessions.js';

export const CALLBACK_PATH = '/oidc/callback';
export const SIGNED_OUT_PATH = '/signed-out';
export const SCOPE = 'openid profile email';

export async function connectToWarta(config: RelyingServiceConfig): Promise<oidc.Configuration> {
  const auth = config.clientAuthentication;
  const clientAuth =
    auth.method === 'private_key_jwt'
      ? oidc.PrivateKeyJwt({ key: (await importJWK(auth.privateJwk, 'ES256')) as CryptoKey, kid: auth.privateJwk.kid! })
      : oidc.ClientSecretBasic(auth.secret);
  // openid-client refuses plain http; config.ts allows it only for a Warta on this machine.
  const execute = config.issuer.protocol === 'http:' && isLoopback(config.issuer) ? [oidc.allowInsecureRequests] : [];
  return oidc.discovery(config.issuer, config.clientId, undefined, clientAuth, { execute });
}

export interface SignInRequest {
  codeVerifier: string;
  state: string;
  nonce: string;
  authorizationUrl: URL;
}

/** Everything the callback must check, and where to send the browser. */
export async function startSignIn(wartaConfig: oidc.Configuration, config: RelyingServiceConfig, requiredAcr: string | undefined): Promise<SignInRequest> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const parameters: Record<string, string> = {
    redirect_uri: new URL(CALLBACK_PATH, config.baseUrl).href,
    scope: SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(requiredAcr ? { acr_values: requiredAcr } : {}),
  };
  const authorizationUrl = wartaConfig.serverMetadata().pushed_authorization_request_endpoint
    ? await oidc.buildAuthorizationUrlWithPAR(wartaConfig, parameters)
    : oidc.buildAuthorizationUrl(wartaConfig, parameters);
  return { codeVerifier, state, nonce, authorizationUrl };
}

export interface SignedIn {
  sub: string;
  sid: string | undefined;
  acr: string;
  name: string;
  idToken: string;
}

/**
 * Redeems the code; openid-client checks `iss` (RFC 9207), `state`, the ID token
 * (signature, iss, aud, exp, iat, nonce) and PKCE. Warta's errors (the user went
 * back, `unmet_authentication_requirements`) come out as AuthorizationResponseError.
 */
export async function finishSignIn(wartaConfig: oidc.Configuration, config: RelyingServiceConfig, callbackQuery: string, pending: PendingSignIn): Promise<SignedIn> {
  // The redirect_uri sent to the token endpoint is the callback URL without its query: build it
  // from the configured base, not from the Host header, which a proxy may have changed.
  const callbackUrl = new URL(`${CALLBACK_PATH}?${callbackQuery}`, config.baseUrl);
  const tokens = await oidc.authorizationCodeGrant(wartaConfig, callbackUrl, {
    pkceCodeVerifier: pending.codeVerifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims()!;
  const userinfo = await oidc.fetchUserInfo(wartaConfig, tokens.access_token, claims.sub);
  return {
    sub: claims.sub,
    sid: typeof claims.sid === 'string' ? claims.sid : undefined,
    acr: String(claims.acr),
    name: String(userinfo.name ?? userinfo.preferred_username ?? claims.sub),
    idToken: tokens.id_token!,
  };
}

/** Warta's end-session URL: it ends the Warta session too and comes back to SIGNED_OUT_PATH. */
export function signOutUrl(wartaConfig: oidc.Configuration, config: RelyingServiceConfig, idToken: string): URL {
  return oidc.buildEndSessionUrl(wartaConfig, { id_token_hint: idToken, post_logout_redirect_uri: new URL(SIGNED_OUT_PATH, config.baseUrl).href });
}
