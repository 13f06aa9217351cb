/**
 * Redirect URI rules.
 *
 * Matching (authorization request): simple string comparison against the registered
 * values (RFC 6749 §3.1.2.3, OIDC Core §3.1.2.1, RFC 9700 §2.1 and §4.1.3: no pattern
 * matching, no prefix matching, no normalisation), with the single exception RFC 8252
 * §7.3 requires: for a loopback IP literal redirect URI the port may differ, because a
 * native app binds whatever ephemeral port the OS gives it. RFC 8252 §8.3 recommends
 * against `localhost` (it can resolve to a non-loopback interface), so `localhost` gets
 * no port exemption and is refused for native clients.
 *
 * The rules for registering one are in src/clients/redirect-uri.ts.
 */

/**
 * `http://127.0.0.1[:port]` or `http://[::1][:port]`, followed by the path, query or end.
 * The port, when present, must be canonical (1-65535, no leading zero) so that a port
 * cannot hide anything else: `http://127.0.0.1:80@evil.example/` does not match.
 */
const LOOPBACK_PREFIX = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::([1-9][0-9]{0,4}))?(?=[/?#]|$)/;

/**
 * Returns the redirect URI to send the response to (the requested one, which for a
 * loopback URI carries the client's current port), or null when it is not registered.
 */
export function matchRedirectUri(requested: string, registered: readonly string[]): string | null {
  if (registered.includes(requested)) return requested;

  const requestedWithoutPort = withoutLoopbackPort(requested);
  if (requestedWithoutPort === null) return null;
  for (const candidate of registered) {
    if (withoutLoopbackPort(candidate) === requestedWithoutPort) return requested;
  }
  return null;
}

function withoutLoopbackPort(uri: string): string | null {
  const match = LOOPBACK_PREFIX.exec(uri);
  if (match === null) return null;
  const port = match[2];
  if (port !== undefined && Number(port) > 65535) return null;
  return `http://${match[1]}${uri.slice(match[0].length)}`;
}
