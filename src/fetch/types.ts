/**
 * The HTTP client every plugin uses. Implemented by src/fetch/client.ts (SSRF-safe).
 * Plugins never call global fetch: they get this through their context.
 */
import { HttpError, type MapsToHttpError } from '../lib/http-error.ts'
import { redactForClient } from '../lib/redact.ts'
import type { ImageFormat } from '../url/types.ts'

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'HEAD'
  headers?: Record<string, string>
  body?: string | URLSearchParams
  /** Follow redirects (each hop re-checked). Default true, at most `limits.maxRedirects`. */
  followRedirects?: boolean
  /** Override the total timeout for this call (ms). */
  timeoutMs?: number
}

/** A buffered response (body capped by `limits.maxBytes`). */
export interface HttpResponse {
  status: number
  headers: Headers
  /** Final URL after redirects. */
  url: string
  body: Uint8Array
  text(): string
  json<T = unknown>(): T
}

/** A downloaded, sniffed image whose header dimensions passed the pixel limit. Nothing is decoded yet. */
export interface FetchedImage {
  bytes: Uint8Array
  format: ImageFormat
  width: number
  height: number
  url: string
  etag?: string
  lastModified?: string
}

export interface HttpClient {
  /** Any request (API calls). Throws FetchError on network/limit/SSRF failures, never for HTTP statuses. */
  request(url: string, options?: RequestOptions): Promise<HttpResponse>
  /** GET an image: status must be 2xx, bytes sniffed (JPEG/PNG/GIF/WebP only), pixel limit checked from the header. */
  getImage(url: string, options?: RequestOptions): Promise<FetchedImage>
}

export type FetchErrorCode =
  | 'blocked' // SSRF guard refused the address or host
  | 'bad_url' // not http(s), unparsable
  | 'timeout' // connect or total timeout
  | 'too_large' // byte cap exceeded
  | 'too_many_pixels'
  | 'bad_image' // not a JPEG/PNG/GIF/WebP, or truncated header
  | 'too_many_redirects'
  | 'http_status' // getImage got a non-2xx (status in .status)
  | 'network' // DNS failure, connection refused, reset

export class FetchError extends Error implements MapsToHttpError {
  constructor(
    readonly code: FetchErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = 'FetchError'
  }

  /** What a client of ours sees when a download failed: the upstream's trouble, not theirs. */
  toHttpError(): HttpError {
    const detail = redactForClient(this.message)
    return this.code === 'timeout'
      ? new HttpError(504, `Upstream timeout: ${detail}`)
      : new HttpError(502, `Upstream error: ${detail}`)
  }
}

export interface FetchLimits {
  maxBytes: number // default 10 MB
  maxPixels: number // default 40 MP
  maxRedirects: number // default 5
  connectTimeoutMs: number // default 5 s
  totalTimeoutMs: number // default 15 s
}
