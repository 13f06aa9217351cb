/**
 * Which browser origins may call the token, UserInfo and revocation endpoints with
 * CORS (a single-page messenger using DPoP), and nowhere else.
 *
 * A browser origin counts as registered when it is the origin of an https redirect URI
 * of a public client (`token_endpoint_auth_method: none`) that is not suspended: that
 * origin receives the client's authorization codes already, so letting its scripts
 * redeem them adds no power, and no separate list can drift from the redirect URIs.
 * Confidential clients never get CORS (their secret must not be in a browser).
 *
 * The preflight allows what a DPoP client sends (`Authorization`, `DPoP`,
 * `Content-Type`), and answers expose `DPoP-Nonce` and `WWW-Authenticate`, without
 * which a browser client cannot follow a `use_dpop_nonce` challenge (RFC 9449 §8, §9).
 */
import type { CorsPolicy } from '../http/cors.js';
import type { Deps } from '../deps.js';
import { ENDPOINTS } from './endpoints.js';

/** The paths a registered browser origin may call, with the methods each takes. */
const BROWSER_CLIENT_METHODS: Readonly<Record<string, string>> = {
  [ENDPOINTS.token]: 'POST',
  [ENDPOINTS.revocation]: 'POST',
  [ENDPOINTS.userinfo]: 'GET, POST',
};

export function browserClientCorsPolicy(deps: Pick<Deps, 'db'>): CorsPolicy {
  return {
    paths: BROWSER_CLIENT_METHODS,
    allowHeaders: ['Authorization', 'DPoP', 'Content-Type'],
    exposeHeaders: ['DPoP-Nonce', 'WWW-Authenticate'],
    isAllowedOrigin: (origin) => isRegisteredBrowserOrigin(deps, origin),
  };
}

/** Whether `origin` is the origin of an https redirect URI of a public client in service. */
export async function isRegisteredBrowserOrigin(deps: Pick<Deps, 'db'>, origin: string): Promise<boolean> {
  if (originOf(origin) !== origin || !origin.startsWith('https://')) return false;
  const clients = await deps.db.selectFrom('oauth_clients').select('redirect_uris').where('token_endpoint_auth_method', '=', 'none').where('suspended_at', 'is', null).execute();
  return clients.some((client) => client.redirect_uris.some((uri) => uri.startsWith('https:') && originOf(uri) === origin));
}

function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}
