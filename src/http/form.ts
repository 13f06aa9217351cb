/**
 * Form bodies of the back-channel endpoints (token, introspection, revocation, PAR):
 * `application/x-www-form-urlencoded` only (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1,
 * RFC 9126 §2.1), no parameter twice (RFC 6749 §3.2: "Request and response parameters
 * MUST NOT be included more than once"), empty values treated as omitted (§3.1).
 */
import type { Context } from 'hono';
import { invalidRequest, WartaError } from '../errors.js';

/** Longest value accepted: a client assertion or an access token with room to spare. */
export const MAX_FORM_VALUE_LENGTH = 8192;

export class FormParams {
  constructor(
    /** Every parameter as sent, for handlers that pass the body on (PAR). */
    readonly raw: URLSearchParams,
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  require(name: string): string {
    const value = this.values.get(name);
    if (value === undefined) throw invalidRequest(`${name} is required`);
    return value;
  }
}

export async function readUrlEncodedBody(c: Context): Promise<URLSearchParams> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) throw new WartaError(400, 'invalid_request', 'send the parameters as application/x-www-form-urlencoded');
  return new URLSearchParams(await c.req.text());
}

export async function readForm(c: Context): Promise<FormParams> {
  return singleValued(await readUrlEncodedBody(c));
}

/** The parameters of a query string or form body, each at most once. */
export function singleValued(raw: URLSearchParams): FormParams {
  const values = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of raw) {
    if (seen.has(name)) throw invalidRequest(`parameter ${name.slice(0, 64)} must not be included more than once`);
    seen.add(name);
    if (value.length > MAX_FORM_VALUE_LENGTH) throw invalidRequest(`parameter values must be at most ${MAX_FORM_VALUE_LENGTH} characters`, `oversized parameter: ${name.slice(0, 64)}`);
    if (value !== '') values.set(name, value);
  }
  return new FormParams(raw, values);
}
