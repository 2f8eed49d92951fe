import { createHash, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';

/**
 * Browser sessions (the web console). The session token lives only in an HttpOnly cookie,
 * so page scripts never see it; a second, script-readable cookie carries a CSRF token
 * derived from the session token (double submit), which every unsafe cookie-authenticated
 * request must echo in the `X-CSRF-Token` header. A cross-site page can neither read that
 * cookie nor set that header, and SameSite=Strict keeps the session cookie off
 * cross-site requests in the first place.
 */
export const SESSION_COOKIE = 'kura_session';
export const CSRF_COOKIE = 'kura_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** One-way: knowing the CSRF token (readable by page scripts) reveals nothing of the session token. */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`kura-csrf:${sessionToken}`, 'utf8').digest('base64url');
}

export function csrfMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function sessionTokenFromCookies(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  return parseCookie(cookieHeader)[SESSION_COOKIE] || undefined;
}

/** The Set-Cookie values that open a browser session; `secure` when the request came over TLS. */
export function sessionCookies(sessionToken: string, maxAgeSeconds: number, secure: boolean): string[] {
  const common = { sameSite: 'strict' as const, secure, maxAge: maxAgeSeconds, path: '/' };
  return [
    stringifySetCookie(SESSION_COOKIE, sessionToken, { ...common, httpOnly: true }),
    stringifySetCookie(CSRF_COOKIE, csrfTokenFor(sessionToken), common),
  ];
}

/** The Set-Cookie values that remove both cookies (logout). */
export function clearedSessionCookies(secure: boolean): string[] {
  const common = { sameSite: 'strict' as const, secure, path: '/', expires: new Date(0) };
  return [stringifySetCookie(SESSION_COOKIE, '', { ...common, httpOnly: true }), stringifySetCookie(CSRF_COOKIE, '', common)];
}
