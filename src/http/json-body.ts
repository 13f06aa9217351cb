import type { Context } from 'hono';
import { WartaError } from '../errors.js';
import { isClientAbort } from './error-handler.js';
import { assertWellFormedJson } from './well-formed-input.js';

/** The request's JSON object body, or a 4xx saying what is wrong with it. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new WartaError(415, 'unsupported_media_type', 'send the body as application/json');
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (error) {
    if (isClientAbort(error)) throw error;
    throw new WartaError(400, 'invalid_request', 'the request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new WartaError(400, 'invalid_request', 'the request body must be a JSON object');
  assertWellFormedJson(body);
  return body as Record<string, unknown>;
}

export function optionalString(body: Record<string, unknown>, name: string, maxLength = 1024): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new WartaError(400, 'invalid_request', `${name} must be a string`);
  if (value.length > maxLength) throw new WartaError(400, 'invalid_request', `${name} is longer than ${maxLength} characters`);
  return value;
}

export function requiredString(body: Record<string, unknown>, name: string, maxLength = 1024): string {
  const value = optionalString(body, name, maxLength);
  if (value === undefined || value === '') throw new WartaError(400, 'invalid_request', `${name} is required`);
  return value;
}
