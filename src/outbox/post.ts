/**
 * The one outbound HTTP call an outbox makes: POST a signed token to a URI an
 * admin registered, at the address checked against the outbound allow-list,
 * with a time-out, never following a redirect.
 */
import type { ResolvedAddress } from '../outbound/destination.js';
import { pinnedRequest } from '../outbound/pinned-request.js';

export interface PostInit {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  redirect: 'manual';
  signal: AbortSignal;
}

/** Sends the POST to `url`, connecting to `pinned` (the checked address) and nowhere else. */
export type FetchLike = (url: string, init: PostInit, pinned: ResolvedAddress) => Promise<Response>;

export const pinnedFetch: FetchLike = (url, init, pinned) => pinnedRequest(new URL(url), init, pinned);

export interface SignedPost {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type Attempt =
  | { outcome: 'delivered' }
  /** The endpoint refused this message for good: it is not sent again. */
  | { outcome: 'rejected'; error: string }
  | { outcome: 'failed'; error: string };

/** Reads a non-2xx response; returns the reason when the endpoint said this message will never be accepted. */
export type PermanentFailure = (response: Response) => Promise<string | undefined>;

/** 2xx is delivered; what `permanentFailure` names is rejected; anything else (other statuses, a time-out, a refused connection) is retried. */
export async function postSignedToken(fetchImpl: FetchLike, post: SignedPost, pinned: ResolvedAddress, options: { timeoutMs: number; permanentFailure?: PermanentFailure }): Promise<Attempt> {
  let response: Response;
  try {
    response = await fetchImpl(post.url, {
      method: 'POST',
      headers: post.headers,
      body: post.body,
      // A redirect could lead the token (and any bearer token) anywhere, or to plain http: never followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    }, pinned);
  } catch (error) {
    return { outcome: 'failed', error: describeNetworkError(error) };
  }
  try {
    if (response.status >= 200 && response.status < 300) return { outcome: 'delivered' };
    const refusal = await options.permanentFailure?.(response);
    if (refusal) return { outcome: 'rejected', error: refusal };
    return { outcome: 'failed', error: response.status >= 300 && response.status < 400 ? `http ${response.status} (redirects are not followed)` : `http ${response.status}` };
  } catch (error) {
    return { outcome: 'failed', error: describeNetworkError(error) };
  } finally {
    // Nobody reads the rest: release the connection (a classifier may already have read or locked the body).
    await response.body?.cancel().catch(() => {});
  }
}

/** At most `limit` bytes of the body, as text: an endpoint cannot make us buffer a large answer. */
export async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= limit) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  reader.releaseLock();
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** A short, secret-free reason: never the URL (it may carry a key in its query) nor the response body. */
function describeNetworkError(error: unknown): string {
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  // node:http puts the code on the error, fetch on its cause.
  const candidates = [(error as { code?: unknown })?.code, (error as { cause?: { code?: unknown } })?.cause?.code];
  const code = candidates.find((c): c is string => typeof c === 'string');
  return code && /^[A-Z0-9_]{1,40}$/.test(code) ? `network error ${code}` : 'network error';
}
