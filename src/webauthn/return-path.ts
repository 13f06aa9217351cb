/**
 * Where to go after signing in: a path on Warta itself, never another site
 * (an open redirect would turn a genuine Warta link into a phishing hop).
 * `//host` and `/\host` are protocol-relative in browsers, so they are refused too.
 */
export function safeReturnPath(raw: string | undefined, fallback = '/account'): string {
  if (!raw || raw.length > 2048 || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\') || /[\u0000-\u001f\u007f\\]/.test(raw)) return fallback;
  return raw;
}
