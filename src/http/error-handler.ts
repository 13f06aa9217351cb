import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable } from '../db/connect.js';
import type { Deps } from '../deps.js';
import type { ThrottleLimit } from '../metrics/metrics.js';
import { WartaError } from '../errors.js';

/** nginx's status for a client that closed the connection before the response: nothing was sent, nothing failed. */
export const CLIENT_CLOSED_REQUEST = 'client_closed_request';

/**
 * True for the error a request body read rejects with when the client goes away
 * mid-body: node's `Error('aborted')` with code ECONNRESET (hono's
 * `c.req.json()`/`text()` pass it on). Checked before the database errors: its
 * code is also a dropped database connection's.
 */
export function isClientAbort(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ECONNRESET' && error.message === 'aborted';
}

/** Turns any thrown value into a WartaError: the one place errors become HTTP. */
export function toWartaError(error: unknown): WartaError {
  if (error instanceof WartaError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 413) return new WartaError(413, 'request_too_large', 'the request body is too large');
    if (error.status === 400) return new WartaError(400, 'invalid_request', error.message || 'malformed request');
    if (error.status === 415) return new WartaError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  if (error instanceof SyntaxError) return new WartaError(400, 'invalid_request', 'the request body is not valid JSON');
  if (isClientAbort(error)) return new WartaError(499, CLIENT_CLOSED_REQUEST, 'the client closed the connection before the response');
  // Fail closed: without the database nobody is signed in.
  if (isDatabaseUnavailable(error)) return new WartaError(503, 'temporarily_unavailable', 'the service is temporarily unavailable; try again shortly', { headers: { 'Retry-After': '5' } });
  return new WartaError(500, 'server_error', 'an unexpected error occurred', { cause: error });
}

/** The 429s the throttles answer with (src/throttle/): every refusal reaches the client through here, so it is counted here once. */
const THROTTLE_REFUSALS: Partial<Record<string, ThrottleLimit>> = { too_many_attempts: 'failed_attempts', too_many_requests: 'request_rate' };

/**
 * Logs what became of a request: a failure (5xx) at error level, its identical
 * repeats summarised so an outage or a flood writes a few lines, not one per
 * request; a refusal, or a client that left, at info.
 */
export function logRequestError(deps: Pick<Deps, 'log' | 'errorSummary' | 'metrics'>, requestId: string | undefined, error: unknown, wartaError: WartaError, subject = 'request'): void {
  const { code } = wartaError;
  const throttle = THROTTLE_REFUSALS[code];
  if (throttle) deps.metrics.recordThrottleRefusal(throttle);
  if (code === CLIENT_CLOSED_REQUEST) deps.log.info({ requestId, code }, 'client closed the request before the response');
  else if (wartaError.status >= 500) deps.errorSummary.report('error', { code, message: error instanceof Error ? error.message : String(error) }, { requestId, err: error, code }, `${subject} failed`);
  else deps.log.info({ requestId, code, detail: wartaError.detail }, `${subject} refused`);
}

export function errorResponse(c: Context, deps: Pick<Deps, 'log' | 'errorSummary' | 'metrics'>, error: unknown): Response {
  const wartaError = toWartaError(error);
  logRequestError(deps, c.get('requestId') as string | undefined, error, wartaError);
  for (const [name, value] of Object.entries(wartaError.headers)) c.header(name, value);
  c.header('Cache-Control', 'no-store');
  // 499 is no registered status, so hono's type leaves it out; nobody reads this response (the client is gone), but the access log shows it.
  return c.json({ error: wartaError.code, error_description: wartaError.description }, wartaError.status as ContentfulStatusCode);
}
