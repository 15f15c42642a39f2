/**
 * Who may call the API. The Admin API takes HTTP Basic `api_key:api_secret`; the Upload API
 * (`explicit`) takes a request signature over its parameters plus `api_key` and a fresh
 * `timestamp`. Every comparison is constant-time, and none reveals the length of the secret or
 * echoes a submitted key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { HttpError } from '../lib/http-error.ts'
import { apiStringToSign, UNSIGNED_API_FIELDS, verifyApiSignature, type ApiParams } from '../url/api-signature.ts'
import { text, type ParamValue } from './http.ts'

// Comparing HMACs of both sides under a per-process key: equal-length digests whatever the
// inputs, so neither the time nor an early exit says anything about the secret's length.
const compareKey = randomBytes(32)
const digest = (value: string) => createHmac('sha256', compareKey).update(value, 'utf8').digest()

export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b))
}

export interface Credentials {
  apiKey: string
  apiSecret: string
}

/** Throws 401 unless the request carries our Basic credentials. */
export function requireBasicAuth(request: Request, credentials: Credentials): void {
  const header = request.headers.get('authorization') ?? ''
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim())
  if (!match) throw new HttpError(401, 'Must supply api_key')
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const key = colon < 0 ? decoded : decoded.slice(0, colon)
  const secret = colon < 0 ? '' : decoded.slice(colon + 1)
  const keyOk = constantTimeEqual(key, credentials.apiKey)
  const secretOk = constantTimeEqual(secret, credentials.apiSecret)
  if (!keyOk) throw new HttpError(401, 'Invalid api_key')
  if (!secretOk) throw new HttpError(401, 'api_secret mismatch')
}

/** How far a signed request's `timestamp` may be from our clock (Cloudinary: one hour). */
export const SIGNATURE_WINDOW_SECONDS = 3600

/** The fields as the signature sees them: arrays joined later, nested values as text. */
function signable(params: Record<string, ParamValue>): ApiParams {
  const out: Record<string, string | number | boolean | null | undefined | string[]> = {}
  for (const [key, value] of Object.entries(params)) out[key] = Array.isArray(value) ? value.map(String) : value
  return out
}

/**
 * Throws unless `params` (every received field) carry our `api_key`, a `timestamp` within the
 * window and a `signature` over the rest (SHA-1 or SHA-256, v1 or v2 `&` escaping).
 */
export function requireSignedParams(params: Record<string, ParamValue>, credentials: Credentials, nowMs: number): void {
  const apiKey = text(params.api_key)
  if (apiKey === undefined) throw new HttpError(401, 'Must supply api_key')
  if (!constantTimeEqual(apiKey, credentials.apiKey)) throw new HttpError(401, 'Invalid api_key')
  const timestamp = text(params.timestamp)
  if (timestamp === undefined) throw new HttpError(400, 'Missing required parameter - timestamp')
  if (!/^\d{1,12}$/.test(timestamp)) throw new HttpError(400, 'Invalid value for timestamp: must be unix seconds')
  const signature = text(params.signature)
  if (signature === undefined) throw new HttpError(400, 'Missing required parameter - signature')
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) {
    const reported = new Date(Number(timestamp) * 1000).toISOString()
    throw new HttpError(
      401,
      `Stale request - reported time is ${reported} which is more than 1 hour away from the server time`,
    )
  }
  const signed = signable(params)
  if (!verifyApiSignature(signed, signature, credentials.apiSecret)) {
    // Like Cloudinary, show the string the caller should have signed: the caller's own fields,
    // which is what makes SDK mismatches debuggable. It never contains the secret.
    const toSign = apiStringToSign(
      Object.fromEntries(Object.entries(signed).filter(([k]) => !UNSIGNED_API_FIELDS.has(k))),
    )
    const shown = signature.replace(/[^0-9a-fA-F]/g, '').slice(0, 64)
    throw new HttpError(401, `Invalid Signature ${shown}. String to sign - '${toSign}'.`)
  }
}
