import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/**
 * Over https the cookie is `__Host-warta_session` (Secure, host-only, path /).
 * Browsers refuse `__Host-` cookies without Secure, so a plain-http development
 * issuer uses the unprefixed name.
 */
export const sessionCookieName = (secure: boolean) => (secure ? '__Host-warta_session' : 'warta_session');

export function readSessionCookie(c: Context, secure: boolean): string | undefined {
  return getCookie(c, sessionCookieName(secure));
}

export function writeSessionCookie(c: Context, secure: boolean, token: string, maxAgeSeconds: number): void {
  setCookie(c, sessionCookieName(secure), token, { httpOnly: true, secure, sameSite: 'Lax', path: '/', maxAge: maxAgeSeconds });
}

export function clearSessionCookie(c: Context, secure: boolean): void {
  deleteCookie(c, sessionCookieName(secure), { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
}
