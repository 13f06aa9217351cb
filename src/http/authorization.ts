/**
 * Credentials a request carries in its headers, read and nothing more: whether they
 * are any good is for the endpoint that receives them to decide.
 */
import type { Context } from 'hono';
import { WartaError } from '../errors.js';
import { readForm } from './form.js';
import { isWellFormedText } from './well-formed-input.js';

/** Client credentials of an `Authorization: Basic` header, or `malformed` when it is one but cannot be read. */
export type BasicCredentials = { clientId: string; secret: string } | 'malformed';

/** RFC 6749 §2.3.1: both parts of Basic client credentials are form-urlencoded before Base64. */
const formDecode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));

export function readBasicCredentials(c: Context): BasicCredentials | undefined {
  const authorization = c.req.header('authorization');
  if (authorization === undefined || !/^basic /i.test(authorization)) return undefined;
  const encoded = authorization.slice(6).trim();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (!/^[A-Za-z0-9+/]+=*$/.test(encoded) || colon < 1) return 'malformed';
  try {
    const credentials = { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
    return isWellFormedText(credentials.clientId) && isWellFormedText(credentials.secret) ? credentials : 'malformed';
  } catch {
    return 'malformed';
  }
}

/** An access token in the Authorization header (RFC 6750 §2.1; RFC 9449 §7.1 for the DPoP scheme). */
export interface PresentedAccessToken {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/** The request's access token, or undefined when the header is missing or not a token. */
export function readAccessToken(c: Context): PresentedAccessToken | undefined {
  const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(c.req.header('authorization') ?? '');
  if (!match) return undefined;
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}

/**
 * The access token of a request to a resource that also takes it in a form-encoded POST
 * body (RFC 6750 §2.2, e.g. UserInfo, OIDC Core §5.3.1). A body token is a bearer token:
 * a DPoP-bound one must come in the Authorization header (RFC 9449 §7.1), which the
 * token check then says. §2: "MUST NOT use more than one method" (400 invalid_request).
 */
export async function readAccessTokenOrFormToken(c: Context): Promise<PresentedAccessToken | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (c.req.method !== 'POST' || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return readAccessToken(c);
  const bodyToken = (await readForm(c)).get('access_token');
  if (bodyToken === undefined) return readAccessToken(c);
  if (c.req.header('authorization') !== undefined)
    throw new WartaError(400, 'invalid_request', 'send the access token in the Authorization header or the body, not both', { headers: { 'WWW-Authenticate': 'Bearer realm="warta", error="invalid_request"' } });
  return B64_TOKEN.test(bodyToken) ? { scheme: 'Bearer', token: bodyToken } : undefined;
}

const B64_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The request's DPoP proof (RFC 9449 §4.1), if any, with the method it must be bound to. */
export function readDpopProof(c: Context): { proof: string | undefined; method: string } {
  return { proof: c.req.header('dpop'), method: c.req.method };
}
