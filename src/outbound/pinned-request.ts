/**
 * An HTTP request to a URL whose host was already resolved and checked: the
 * socket connects to that address and no other. The URL's host still names
 * the request (Host header, TLS server name and certificate check), so https
 * is verified against the name the admin registered. No connection is reused
 * (each could have been made to an address checked under an older list), no
 * redirect is followed, no proxy is consulted.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { ResolvedAddress } from './destination.js';

export interface PinnedRequestInit {
  method: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** The connection's only answer to "where is this host?": the checked address. */
function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return function lookupPinned(_hostname, options, callback) {
    // With autoSelectFamily (Node 20's default) net asks for every address at once.
    if ((options as { all?: boolean }).all) (callback as unknown as (error: null, addresses: ResolvedAddress[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

/** POSTs to `url`, connecting to `pinned`; resolves with the response as a web Response (its body streamed). */
export function pinnedRequest(url: URL, init: PinnedRequestInit, pinned: ResolvedAddress): Promise<Response> {
  const request = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
  if (!request) return Promise.reject(new Error(`unsupported scheme ${url.protocol}`));
  return new Promise<Response>((resolve, reject) => {
    const outgoing = request(
      {
        protocol: url.protocol,
        // The name (or literal) the URL gives; the socket goes where the lookup says.
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: init.method,
        headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
        lookup: pinnedLookup(pinned),
        agent: false,
        signal: init.signal,
      },
      (incoming) => {
        try {
          resolve(toResponse(incoming));
        } catch (error) {
          reject(error);
        }
      },
    );
    outgoing.on('error', reject);
    outgoing.end(init.body);
  });
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

function toResponse(incoming: IncomingMessage): Response {
  const status = incoming.statusCode ?? 0;
  const headers = new Headers();
  for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) {
    try {
      headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
    } catch {
      // A header a web Response cannot carry: nothing here reads it.
    }
  }
  if (status < 200 || status > 599) {
    incoming.destroy();
    throw Object.assign(new Error(`unexpected status ${status}`), { code: 'BAD_STATUS' });
  }
  if (NULL_BODY_STATUSES.has(status)) {
    incoming.resume();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(incoming) as ReadableStream<Uint8Array>, { status, headers });
}
