/**
 * Redirect URI registration: the shape rules that keep a redirect URI from being
 * turned against the user (RFC 6749 §3.1.2, RFC 8252 §7, RFC 7591 §2 and
 * `invalid_redirect_uri`). Matching one in an authorization request is in
 * src/oidc/checks/redirect-uri.ts.
 */
import { WartaError } from '../errors.js';

export type ApplicationType = 'web' | 'native';

export interface RedirectUriRegistrationOptions {
  applicationType: ApplicationType;
  /**
   * Lets web clients register plain-http loopback URIs (127.0.0.1, [::1], localhost),
   * for a developer running the client on their own machine. Never set in production.
   */
  developmentMode?: boolean;
}

/** Schemes that execute or embed content instead of navigating to an endpoint. */
const DANGEROUS_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:']);

/** RFC 8252 §7.3: loopback IP literals; `localhost` is deliberately not one (§8.3). */
const LOOPBACK_IP_HOSTS = new Set(['127.0.0.1', '[::1]']);

const DEVELOPMENT_WEB_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * A private-use scheme must be a reverse domain name the app controls (RFC 8252 §7.1,
 * RFC 7595 §3.8): `com.example.app`, never `myapp`, which any app could claim.
 */
const REVERSE_DOMAIN_SCHEME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

/** Every redirect URI is sent in an authorization request, whose values we cap at 2048. */
const MAX_REDIRECT_URI_LENGTH = 2048;

/** Throws `invalid_redirect_uri` (RFC 7591 §3.2.2) when `uri` may not be registered. */
export function validateRedirectUriForRegistration(uri: string, options: RedirectUriRegistrationOptions): void {
  const { applicationType, developmentMode = false } = options;

  if (typeof uri !== 'string' || uri.length === 0) reject('redirect URI must be a non-empty string');
  if (uri.length > MAX_REDIRECT_URI_LENGTH) reject(`redirect URI must be at most ${MAX_REDIRECT_URI_LENGTH} characters`);
  // Matching is by exact string, so the registered value must be the exact URI a client
  // sends: ASCII only, no spaces or control characters (the URL parser would silently
  // drop tabs and newlines, making what we checked differ from what we store).
  if (/[^\x21-\x7e]/.test(uri)) reject('redirect URI must be ASCII without spaces or control characters');
  // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
  if (uri.includes('#')) reject('redirect URI must not contain a fragment (#)');

  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    reject('redirect URI must be an absolute URI');
  }

  if (DANGEROUS_SCHEMES.has(url.protocol)) reject(`redirect URI scheme ${url.protocol} is not allowed`);
  if (url.hostname.includes('*')) reject('redirect URI must not use a wildcard host');
  // `https://trusted.example@evil.example/` reads as trusted to a human; nobody needs userinfo here.
  if (url.username !== '' || url.password !== '') reject('redirect URI must not contain user information');

  if (applicationType === 'web') {
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && developmentMode && DEVELOPMENT_WEB_HOSTS.has(url.hostname)) return;
    reject(
      developmentMode
        ? 'web client redirect URIs must use https (http only for 127.0.0.1, [::1] or localhost)'
        : 'web client redirect URIs must use https',
    );
  }

  if (applicationType === 'native') {
    // RFC 8252 §7.2: claimed "https" scheme redirection.
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:') {
      // RFC 8252 §7.3 / §8.3: loopback IP literal only.
      if (LOOPBACK_IP_HOSTS.has(url.hostname)) return;
      if (url.hostname === 'localhost') {
        reject('native client redirect URIs must use the loopback IP literal (127.0.0.1 or [::1]), not localhost (RFC 8252 §8.3)');
      }
      reject('native client http redirect URIs must use the loopback IP literal 127.0.0.1 or [::1]');
    }
    // RFC 8252 §7.1: private-use URI scheme.
    const scheme = url.protocol.slice(0, -1);
    if (!REVERSE_DOMAIN_SCHEME.test(scheme)) {
      reject('native client private-use URI schemes must be a reverse domain name such as com.example.app (RFC 8252 §7.1)');
    }
    return;
  }

  reject('application_type must be web or native');
}

function reject(description: string): never {
  throw new WartaError(400, 'invalid_redirect_uri', description);
}
