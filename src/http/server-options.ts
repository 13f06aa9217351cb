/**
 * The node http server's deadlines. Node's own let a client hold a socket for
 * 300 s by sending its body a byte at a time (`requestTimeout`), and 60 s by
 * doing so with its headers; a few hundred such clients hold every socket the
 * process may open. Both deadlines are absolute (bytes that keep trickling in
 * do not extend them); the client gets `408` and the socket is closed.
 */
import type { ServerOptions } from 'node:http';
import type { Config } from '../config.js';

export function httpServerOptions(http: Config['http']): ServerOptions {
  return {
    headersTimeout: http.headersTimeoutSeconds * 1000,
    requestTimeout: http.requestTimeoutSeconds * 1000,
    keepAliveTimeout: http.keepAliveTimeoutSeconds * 1000,
    // Node checks the two deadlines above only this often (by default every 30 s, which would add up to 30 s to each).
    connectionsCheckingInterval: 1000,
  };
}
