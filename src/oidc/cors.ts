/**
 * CORS for browser-based public clients (a single-page messenger using DPoP) on the
 * token, UserInfo and revocation endpoints, and nowhere else.
 *
 * A browser origin counts as registered when it is the origin of an https redirect URI
 * of a public client (`token_endpoint_auth_method: none`) that is not suspended: that
 * origin receives the client's authorization codes already, so letting its scripts
 * redeem them adds no power, and no separate list can drift from the redirect URIs.
 * Confidential clients never get CORS (their secret must not be in a browser), and
 * an unregistered origin gets no CORS header at all, so the browser withholds the answer.
 *
 * The preflight allows what a DPoP client sends (`Authorization`, `DPoP`,
 * `Content-Type`), and answers expose `DPoP-Nonce` and `WWW-Authenticate`, without
 * which a browser client cannot follow a `use_dpop_nonce` challenge (RFC 9449 §8, §9).
 * No credentials: these endpoints take no cookie.
 */
import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import { ENDPOINTS } from './endpoints.js';

/** The paths a registered browser origin may call, with the methods each takes. */
export const BROWSER_CLIENT_METHODS: Readonly<Record<string, string>> = {
  [ENDPOINTS.token]: 'POST',
  [ENDPOINTS.revocation]: 'POST',
  [ENDPOINTS.userinfo]: 'GET, POST',
};

const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function browserClientCors(deps: Pick<Deps, 'db'>): MiddlewareHandler {
  return async function browserClientCors(c, next) {
    const methods = BROWSER_CLIENT_METHODS[c.req.path];
    const origin = c.req.header('origin');
    if (methods === undefined || origin === undefined) return next();
    // The answer depends on the Origin, whatever it is.
    c.header('Vary', 'Origin');
    if (!(await isRegisteredBrowserOrigin(deps, origin))) return next();
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Access-Control-Expose-Headers', 'DPoP-Nonce, WWW-Authenticate');
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined) {
      c.header('Access-Control-Allow-Methods', methods);
      c.header('Access-Control-Allow-Headers', 'Authorization, DPoP, Content-Type');
      c.header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
      return c.body(null, 204);
    }
    return next();
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
