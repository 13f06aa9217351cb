/** Paths of the provider's endpoints; the public URL of each is the issuer followed by its path. */
export const ENDPOINTS = {
  discovery: '/.well-known/openid-configuration',
  /** RFC 8414 §3: the same document for OAuth-only clients. */
  authorizationServerMetadata: '/.well-known/oauth-authorization-server',
  jwks: '/.well-known/jwks.json',
  authorization: '/authorize',
  /** Where the sign-in and consent pages send the browser back to. */
  authorizationResume: '/authorize/resume',
  consent: '/authorize/consent',
  token: '/token',
  userinfo: '/userinfo',
  introspection: '/introspect',
  revocation: '/revoke',
  pushedAuthorization: '/par',
  /** draft-ietf-oauth-first-party-apps §5: native sign-in without a browser (src/first-party/). */
  authorizationChallenge: '/authorize-challenge',
  endSession: '/end_session',
  endSessionConfirm: '/end_session/confirm',
} as const;

export const endpointUrl = (issuer: string, path: string): string => `${issuer}${path}`;

/** The URN prefix of request_uri values from the PAR endpoint (RFC 9126 §2.2). */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
