/**
 * The console's browser-facing security rules in one place: secret comparison, the session
 * cookie, the same-origin check on actions, and the headers every console response carries.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const SESSION_COOKIE = 'headshot_console'
export const CSRF_HEADER = 'x-csrf-token'

// Both sides are HMACed with a key that lives only in this process, so the comparison always runs
// over two 32-byte digests: neither its time nor its result depends on the lengths or a common prefix.
const comparisonKey = randomBytes(32)
const digest = (text: string) => createHmac('sha256', comparisonKey).update(text, 'utf8').digest()

/** Constant-time equality of two strings that never reveals their lengths. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

/** A fresh unguessable token (256 bits, base64url). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The request reached us over https, directly or through a proxy that says so. */
export function cameOverHttps(request: Request): boolean {
  const forwarded = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
  return forwarded === 'https' || new URL(request.url).protocol === 'https:'
}

/** Path=/console keeps the cookie away from delivery URLs; SameSite=Strict keeps it off cross-site requests. */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/console; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
}

export function expiredSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`
}

export function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const equals = part.indexOf('=')
    if (equals > 0 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim()
  }
  return undefined
}

/**
 * Why a state-changing request must be refused as cross-site, or undefined when it may proceed.
 * Browsers send `Sec-Fetch-Site` and `Origin` on every POST/DELETE; a request with neither did not
 * come from a page (curl, scripts) and still needs the session's CSRF token where one applies.
 */
export function crossSiteReason(request: Request): string | undefined {
  const site = request.headers.get('sec-fetch-site')
  if (site !== null && site !== 'same-origin' && site !== 'none') return `Cross-site request refused (${site})`
  const origin = request.headers.get('origin')
  if (origin === null) return undefined
  if (origin !== ownOrigin(request)) return 'Cross-origin request refused'
  return undefined
}

/** The origin the browser believes it is talking to (a proxy in front may terminate TLS or rename the host). */
function ownOrigin(request: Request): string {
  const url = new URL(request.url)
  const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim() || request.headers.get('host') || url.host
  return `${cameOverHttps(request) ? 'https' : url.protocol.slice(0, -1)}://${host}`
}

/**
 * Only our own files run, render or are fetched; no framing, no plugins, forms post only to us.
 * `img-src data:` is for the inline favicon that stops the browser asking the delivery route for one.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * Headers on every console response. The referrer policy is `same-origin`, not `no-referrer`:
 * under `no-referrer` a browser sends `Origin: null` with a form post, which the check above refuses.
 */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  }
}
