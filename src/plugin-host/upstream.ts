/**
 * Small helpers for plugins that talk to an upstream API: turning transport failures into
 * UpstreamError, reading JSON defensively, parsing retry hints, HMAC for signed parameters.
 * Plugins import these instead of `src/fetch/*` or `node:crypto`, so the plugin surface stays
 * `src/plugin-host/*` + TypeBox.
 */
import { createHmac, getRandomValues } from 'node:crypto'
import { FetchError } from '../fetch/types.ts'
import type { HttpClient, HttpResponse, RequestOptions } from '../fetch/types.ts'
import { UpstreamError } from './types.ts'

export { FetchError } from '../fetch/types.ts'
export type { FetchErrorCode, HttpResponse } from '../fetch/types.ts'

/**
 * Wrap whatever `ctx.http` threw into an UpstreamError. An UpstreamError passes through untouched;
 * a timeout stays a timeout (the caller may retry sooner); everything else (network, SSRF block,
 * oversized body, unexpected redirect) means the upstream is unavailable to us right now.
 */
export function toUpstreamError(error: unknown, network: string): UpstreamError {
  if (error instanceof UpstreamError) return error
  if (error instanceof FetchError) {
    if (error.code === 'timeout') return new UpstreamError('timeout', `${network}: ${error.message}`)
    return new UpstreamError('unavailable', `${network}: ${error.message}`)
  }
  const message = error instanceof Error ? error.message : String(error)
  return new UpstreamError('unavailable', `${network}: ${message}`)
}

/**
 * One call to a network's API: JSON asked for, and a transport failure (network, timeout, SSRF
 * refusal, oversize body) turned into an UpstreamError named after the network.
 */
export async function apiRequest(
  http: HttpClient,
  network: string,
  url: string,
  options: RequestOptions = {},
): Promise<HttpResponse> {
  try {
    return await http.request(url, { ...options, headers: { accept: 'application/json', ...options.headers } })
  } catch (error) {
    throw toUpstreamError(error, network)
  }
}

/** The body as JSON, or undefined when it is not JSON at all (an HTML error page, a truncated body). */
export function jsonBody(response: HttpResponse): unknown {
  try {
    return response.json()
  } catch {
    return undefined
  }
}

/** A plain object (not null, not an array), so fields can be read without casts. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `Retry-After` as an absolute time (ms since epoch): either delay-seconds or an HTTP-date.
 * Undefined when absent or unparsable, so callers fall back to their own back-off.
 */
export function retryAfterToEpochMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined
  const text = header.trim()
  if (/^[0-9]+$/.test(text)) return nowMs + Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : date
}

/** Lower-case hex HMAC, e.g. Facebook's `appsecret_proof` = HMAC-SHA256(app_secret, access_token). */
export function hmacHex(algorithm: 'sha1' | 'sha256', key: string, message: string): string {
  return createHmac(algorithm, key).update(message).digest('hex')
}

/** Base64 HMAC, as OAuth 1.0a signatures are written. */
export function hmacBase64(algorithm: 'sha1' | 'sha256', key: string, message: string): string {
  return createHmac(algorithm, key).update(message).digest('base64')
}

/** Cryptographically random bytes (nonces). */
export function randomBytes(length: number): Uint8Array {
  return getRandomValues(new Uint8Array(length))
}
