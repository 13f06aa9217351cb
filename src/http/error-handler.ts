import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable } from '../db/connect.js';
import type { Logger } from '../log.js';
import { WartaError } from '../errors.js';

/** Turns any thrown value into a WartaError: the one place errors become HTTP. */
export function toWartaError(error: unknown): WartaError {
  if (error instanceof WartaError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 413) return new WartaError(413, 'request_too_large', 'the request body is too large');
    if (error.status === 400) return new WartaError(400, 'invalid_request', error.message || 'malformed request');
  }
  if (error instanceof SyntaxError) return new WartaError(400, 'invalid_request', 'the request body is not valid JSON');
  // Fail closed: without the database nobody is signed in.
  if (isDatabaseUnavailable(error)) return new WartaError(503, 'temporarily_unavailable', 'the service is temporarily unavailable; try again shortly', { headers: { 'Retry-After': '5' } });
  return new WartaError(500, 'server_error', 'an unexpected error occurred', { cause: error });
}

export function errorResponse(c: Context, log: Logger, error: unknown): Response {
  const wartaError = toWartaError(error);
  const requestId = c.get('requestId') as string | undefined;
  if (wartaError.status >= 500) log.error({ requestId, err: error, code: wartaError.code }, 'request failed');
  else log.info({ requestId, code: wartaError.code, detail: wartaError.detail }, 'request refused');
  for (const [name, value] of Object.entries(wartaError.headers)) c.header(name, value);
  c.header('Cache-Control', 'no-store');
  return c.json({ error: wartaError.code, error_description: wartaError.description }, wartaError.status);
}
