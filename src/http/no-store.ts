import type { Context } from 'hono';
import { completeResponse } from './security-headers.js';

/** A JSON answer carrying credentials or what a token is worth, which no cache may keep (RFC 6749 §5.1, RFC 7662 §2.2, RFC 9126 §2.2). */
export function noStoreJson(c: Context, body: object, status: 200 | 201 | 403 = 200): Response {
  c.header('Cache-Control', 'no-store');
  return c.json(body, status);
}

/**
 * The same answer (200) built in one piece with every header in one record, for the
 * endpoints answering most (token, introspection). Only for a handler that sets no
 * header through c.header(): its further headers (Pragma, DPoP-Nonce) go in `headers`.
 */
export function completeNoStoreJson(c: Context, body: object, headers?: Record<string, string>): Response {
  const record: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
  for (const name in headers) record[name] = headers[name]!;
  return completeResponse(c, JSON.stringify(body), 200, record);
}
