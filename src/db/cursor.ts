import { WartaError } from '../errors.js';

/**
 * Keyset page cursors: the sort key of a page's last row, opaque to the caller.
 * A page after it starts strictly past that key, so rows added or removed
 * meanwhile neither repeat nor skip a row.
 */
export const encodeCursor = (key: readonly string[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

/** The key a cursor carries, `length` strings long; anything else is refused `400 invalid_request`. */
export function decodeCursor(cursor: string, length: number): string[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === length && value.every((part) => typeof part === 'string' && part.length <= 500)) return value as string[];
  } catch {
    // refused below
  }
  throw new WartaError(400, 'invalid_request', 'cursor is not one this server gave out');
}

/** A page size from a query: 1 to `max`, `fallback` when absent. */
export function pageSize(limit: number | undefined, max: number, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new WartaError(400, 'invalid_request', `limit must be 1 to ${max}`);
  return limit;
}
