import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { completeResponse } from './security-headers.js';

/**
 * A public JSON document (the JWKS, the discovery metadata) serialised once,
 * with a strong ETag (RFC 9110 §8.8.3) taken from its bytes: every instance
 * serving the same document names it alike, so a client revalidating against
 * any instance behind the load balancer gets a 304.
 */
export interface PublishedDocument {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

export function publishDocument(value: unknown): PublishedDocument {
  const body = new TextEncoder().encode(JSON.stringify(value));
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
}

/** RFC 9110 §13.1.2: If-None-Match uses the weak comparison, and `*` matches any current representation. */
export function ifNoneMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

/**
 * The document, or 304 Not Modified (no body) when the client already holds this version.
 * `headers` (Cache-Control, CORS) go on both; set them here rather than through c.header() (see completeResponse).
 */
export function answerPublishedDocument(c: Context, document: PublishedDocument, contentType = 'application/json', headers: Record<string, string> = {}): Response {
  const record: Record<string, string> = { ETag: document.etag };
  for (const name in headers) record[name] = headers[name]!;
  if (ifNoneMatchHolds(c.req.header('if-none-match'), document.etag)) return completeResponse(c, null, 304, record);
  record['Content-Type'] = contentType;
  return completeResponse(c, document.body, 200, record);
}
