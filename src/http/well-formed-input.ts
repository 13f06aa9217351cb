/**
 * Every string from outside is checked where it enters, before any handler or
 * the database sees it: the path, the query string, the body, and (in the JSON
 * and Basic readers) the strings inside them. PostgreSQL refuses a NUL byte in
 * `text` with an error, so without this an unauthenticated `client_id=a%00b`
 * was a 500; control characters and broken encodings have no place in an
 * identifier, a name or a code either, and one that reaches a log line or a
 * page can forge it. Refused: NUL and the other C0 controls except tab, line
 * feed and carriage return, DEL, invalid UTF-8 (raw or percent-encoded), and
 * lone UTF-16 surrogates (JSON `\ud800`). Always `400 invalid_request`, which is
 * what every endpoint, OAuth ones included (RFC 6749 §5.2), documents for a
 * malformed request.
 */
import type { MiddlewareHandler } from 'hono';
import { WartaError } from '../errors.js';

const FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Bodies Warta reads as text; anything else is a handler's to refuse. */
const TEXT_BODY = /^(application\/(json|x-www-form-urlencoded)|text\/)/i;
/** Deeper than any request Warta defines (a JWKS is 4 levels); the walk stays bounded whatever arrives. */
export const MAX_JSON_DEPTH = 32;

export const malformedInput = (where: string) =>
  new WartaError(400, 'invalid_request', `the ${where} contains a NUL byte, a control character or invalid UTF-8`);

export const isWellFormedText = (value: string): boolean => !FORBIDDEN_CHARACTER.test(value);

export function assertWellFormedText(value: string, where: string): string {
  if (!isWellFormedText(value)) throw malformedInput(where);
  return value;
}

/** One percent-encoded component (`+` is a space, as in forms and query strings). */
function assertWellFormedComponent(raw: string, where: string): void {
  let decoded = raw;
  if (raw.includes('%'))
    try {
      decoded = decodeURIComponent(raw.replace(/\+/g, ' '));
    } catch {
      throw malformedInput(where);
    }
  assertWellFormedText(decoded, where);
}

/** Every name and value of a query string or form body. */
function assertWellFormedParameters(encoded: string, where: string): void {
  for (const pair of encoded.split('&')) for (const part of pair.split('=')) assertWellFormedComponent(part, where);
}

/**
 * Strings inside a parsed JSON body, keys included, walked without recursion so
 * a deeply nested body cannot exhaust the stack.
 */
export function assertWellFormedJson(value: unknown): void {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length) {
    const { value: next, depth } = pending.pop()!;
    if (typeof next === 'string') assertWellFormedText(next, 'request body');
    else if (next !== null && typeof next === 'object') {
      if (depth >= MAX_JSON_DEPTH) throw new WartaError(400, 'invalid_request', `the request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
      for (const [key, member] of Object.entries(next)) {
        if (!Array.isArray(next)) assertWellFormedText(key, 'request body');
        pending.push({ value: member, depth: depth + 1 });
      }
    }
  }
}

/**
 * Escaped characters (`\u0000`, `\ud800`) inside JSON, whichever reader the route
 * uses. Raw control characters already make it invalid JSON, which the route's
 * reader refuses as such; so does this, for text that does not parse.
 */
function assertWellFormedJsonText(text: string): void {
  if (!text.includes('\\')) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return;
  }
  assertWellFormedJson(parsed);
}

/**
 * `pathname` and `search` of a request's URL as `new URL(url)` gives them, read by
 * position. The URL a request arrives with is already serialised by a WHATWG URL
 * parser (the server adapter re-serialises any target that is not plain, and a
 * Request does so itself), so parsing it again on every request bought nothing.
 */
export function pathAndQuery(url: string): { pathname: string; search: string } {
  const authority = url.indexOf('//');
  const pathStart = url.indexOf('/', authority === -1 ? 0 : authority + 2);
  if (pathStart === -1) return { pathname: '/', search: '' };
  let hash = url.indexOf('#', pathStart);
  if (hash === -1) hash = url.length;
  const query = url.indexOf('?', pathStart);
  if (query === -1 || query > hash) return { pathname: url.slice(pathStart, hash), search: '' };
  // An empty query (`/path?`) has no search, as in the URL API.
  return { pathname: url.slice(pathStart, query), search: hash - query > 1 ? url.slice(query, hash) : '' };
}

/**
 * The path, the query string and a text body, checked for every route (so a new
 * route is covered without anyone remembering). Runs after the body limit: the
 * body it reads is bounded, and hono keeps it for the handler.
 */
export function wellFormedInput(): MiddlewareHandler {
  return async function wellFormedInput(c, next) {
    const { pathname, search } = pathAndQuery(c.req.url);
    for (const segment of pathname.split('/')) assertWellFormedComponent(segment, 'path');
    if (search.length > 1) assertWellFormedParameters(search.slice(1), 'query string');
    const type = c.req.header('content-type') ?? '';
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && TEXT_BODY.test(type)) {
      const bytes = await c.req.arrayBuffer();
      let text: string;
      try {
        text = STRICT_UTF8.decode(bytes);
      } catch {
        throw malformedInput('request body');
      }
      // The handler's c.req.text() gets this strictly decoded text; without it hono would rebuild it from the
      // bytes through a whole WHATWG Response (a web stream and its buffers), on every form request.
      // (The cache holds promises, though hono's type says values. A leading BOM goes, as c.req.text() drops it.)
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      if (/^application\/x-www-form-urlencoded/i.test(type)) assertWellFormedParameters(text, 'request body');
      else if (/^application\/json/i.test(type)) assertWellFormedJsonText(text);
    }
    await next();
  };
}
