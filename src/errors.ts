/**
 * The one error type of Warta. Domain code throws it; `http/error-handler.ts`
 * maps it to a response. `code` is stable (clients and tests match on it) and is
 * an OAuth error code wherever a spec names one; `description` is safe to show
 * to the client; `detail` is for the logs only and must never contain secrets.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 410 | 412 | 413 | 415 | 422 | 429 | 499 | 500 | 501 | 503;

export class WartaError extends Error {
  readonly status: ErrorStatus;
  readonly code: string;
  readonly description: string;
  readonly detail: string | undefined;
  /** Extra response headers, e.g. WWW-Authenticate or Retry-After. */
  readonly headers: Record<string, string>;

  constructor(
    status: ErrorStatus,
    code: string,
    description: string,
    options: { detail?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(`${code}: ${description}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WartaError';
    this.status = status;
    this.code = code;
    this.description = description;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

export const invalidRequest = (description: string, detail?: string) =>
  new WartaError(400, 'invalid_request', description, detail === undefined ? {} : { detail });

export const notFound = (code: string, description: string) => new WartaError(404, code, description);

export const conflict = (code: string, description: string) => new WartaError(409, code, description);

export const isWartaError = (e: unknown): e is WartaError => e instanceof WartaError;

/** Client mistakes and refusals; 429 is excluded (counting a throttled request would extend its own block). */
export const isRefusal = (error: unknown): error is WartaError => error instanceof WartaError && error.status < 500 && error.status !== 429;

/** Runs `run`; a refusal it throws is handed to `record` (to audit or count it) before it is rethrown unchanged. */
export async function recordingRefusal<T>(run: () => Promise<T>, record: (refusal: WartaError) => Promise<unknown>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isRefusal(error)) await record(error);
    throw error;
  }
}
