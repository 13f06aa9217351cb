/**
 * Signing in through Warta with openid-client: the authorization code flow with
 * PKCE (S256), the request pushed first (PAR, RFC 9126) so nothing in the browser's
 * address bar can be altered, the client authenticated with its own key
 * (private_key_jwt) or a secret, tokens bound to a DPoP key (RFC 9449) so a token
 * that leaks from the service is useless, and RP-initiated logout. That is all the
 * FAPI 2.0 Security Profile asks of a client (`warta client create --profile fapi2`).
 */
import { importJWK } from 'jose';
import * as oidc from 'openid-client';
import { isLoopback, type RelyingServiceConfig } from './config.js';
import type { PendingSignIn } from './sessions.js';

export const CALLBACK_PATH = '/oidc/callback';
export const SIGNED_OUT_PATH = '/signed-out';
export const SCOPE = 'openid profile email';

export interface WartaConnection {
  configuration: oidc.Configuration;
  /**
   * The service's DPoP key, made at start-up and never stored: the tokens it binds are
   * used only within the callback request that redeems the code.
   */
  dpop: oidc.DPoPHandle;
}

export async function connectToWarta(config: RelyingServiceConfig): Promise<WartaConnection> {
  const auth = config.clientAuthentication;
  const clientAuth =
    auth.method === 'private_key_jwt'
      ? oidc.PrivateKeyJwt({ key: (await importJWK(auth.privateJwk, 'ES256')) as CryptoKey, kid: auth.privateJwk.kid! })
      : oidc.ClientSecretBasic(auth.secret);
  // openid-client refuses plain http; config.ts allows it only for a Warta on this machine.
  const execute = config.issuer.protocol === 'http:' && isLoopback(config.issuer) ? [oidc.allowInsecureRequests] : [];
  const configuration = await oidc.discovery(config.issuer, config.clientId, undefined, clientAuth, { execute });
  return { configuration, dpop: oidc.getDPoPHandle(configuration, await oidc.randomDPoPKeyPair('ES256')) };
}

export interface SignInRequest {
  codeVerifier: string;
  state: string;
  nonce: string;
  authorizationUrl: URL;
}

/** Everything the callback must check, and where to send the browser. */
export async function startSignIn(warta: WartaConnection, config: RelyingServiceConfig, requiredAcr: string | undefined): Promise<SignInRequest> {
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
  // The DPoP proof at PAR binds the code to the service's key (RFC 9449 §10).
  const authorizationUrl = await oidc.buildAuthorizationUrlWithPAR(warta.configuration, parameters, { DPoP: warta.dpop });
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
export async function finishSignIn(warta: WartaConnection, config: RelyingServiceConfig, callbackQuery: string, pending: PendingSignIn): Promise<SignedIn> {
  // The redirect_uri sent to the token endpoint is the callback URL without its query: build it
  // from the configured base, not from the Host header, which a proxy may have changed.
  const callbackUrl = new URL(`${CALLBACK_PATH}?${callbackQuery}`, config.baseUrl);
  const tokens = await oidc.authorizationCodeGrant(
    warta.configuration,
    callbackUrl,
    { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
    undefined,
    { DPoP: warta.dpop },
  );
  const claims = tokens.claims()!;
  const userinfo = await oidc.fetchUserInfo(warta.configuration, tokens.access_token, claims.sub, { DPoP: warta.dpop });
  return {
    sub: claims.sub,
    sid: typeof claims.sid === 'string' ? claims.sid : undefined,
    acr: String(claims.acr),
    name: String(userinfo.name ?? userinfo.preferred_username ?? claims.sub),
    idToken: tokens.id_token!,
  };
}

/** Warta's end-session URL: it ends the Warta session too and comes back to SIGNED_OUT_PATH. */
export function signOutUrl(warta: WartaConnection, config: RelyingServiceConfig, idToken: string): URL {
  return oidc.buildEndSessionUrl(warta.configuration, { id_token_hint: idToken, post_logout_redirect_uri: new URL(SIGNED_OUT_PATH, config.baseUrl).href });
}
