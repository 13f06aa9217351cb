import type { Context } from 'hono';

/** A JSON answer carrying credentials or what a token is worth, which no cache may keep (RFC 6749 §5.1, RFC 7662 §2.2, RFC 9126 §2.2). */
export function noStoreJson(c: Context, body: object, status: 200 | 201 | 403 = 200): Response {
  c.header('Cache-Control', 'no-store');
  return c.json(body, status);
}
