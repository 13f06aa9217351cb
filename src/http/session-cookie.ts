import type { Config } from '../config.js';
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

/** Hands the browser a session token; routes call it once the sign-in's transaction committed. */
export function writeSessionCookie(c: Context, config: Pick<Config, 'secureCookies' | 'sessions'>, token: string): void {
  setCookie(c, sessionCookieName(config.secureCookies), token, { httpOnly: true, secure: config.secureCookies, sameSite: 'Lax', path: '/', maxAge: config.sessions.absoluteSeconds });
}

export function clearSessionCookie(c: Context, secure: boolean): void {
  deleteCookie(c, sessionCookieName(secure), { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
}
