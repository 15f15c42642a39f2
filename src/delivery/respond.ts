/**
 * HTTP responses of the delivery route: image bytes with CDN-friendly headers, 304s, and errors
 * that carry Cloudinary's `X-Cld-Error` header (CORS-exposed so browser code can read it).
 */
import type { ImageFormat } from '../url/types.ts'

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
}

/** Versioned URLs never change meaning; unversioned ones follow Cloudinary's 30-day CDN default. */
export const CACHE_VERSIONED = 'public, max-age=31536000, immutable'
export const CACHE_UNVERSIONED = 'public, max-age=2592000'
/** Errors are cached briefly so a CDN absorbs floods but callers recover quickly (docs/cdn.md). */
export const CACHE_CLIENT_ERROR = 'public, max-age=60'
export const CACHE_PLACEHOLDER = 'private, max-age=60'

/**
 * Presigned URLs of redirected originals live 15 minutes, and the 302 naming one may be cached 5:
 * a cache serving it at the end of its life still hands out a URL with 10 minutes left to follow
 * it. Never `immutable`, whatever the URL's version: the Location expires.
 */
export const PRESIGN_EXPIRES_SECONDS = 900
export const CACHE_REDIRECT = 'public, max-age=300'

const COMMON = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'X-Cld-Error',
  'X-Content-Type-Options': 'nosniff',
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

export interface ImageResponse {
  bytes: Uint8Array
  /** The image format (for `fl_getinfo`, the format the image would have). */
  format: ImageFormat
  /** Overrides the format's Content-Type (`fl_getinfo` answers JSON). */
  contentType?: string
  /** sha256 hex of `bytes`: the strong ETag. */
  hash: string
  cacheControl: string
  varyAccept: boolean
  /** Set when a placeholder was substituted (200 + X-Cld-Error). */
  cldError?: string
  /** `fl_attachment[:name]`: download instead of display. */
  attachmentName?: string
  /** Names the picture for CDN purges (`Cache-Tag`, `Surrogate-Key`). */
  cacheTag?: string
}

/** An original answered by a redirect to where it is stored (a presigned S3 URL) instead of its bytes. */
export interface RedirectResponse {
  location: string
  cacheControl: string
  varyAccept: boolean
  cacheTag?: string
}

export function etagOf(hash: string): string {
  return `"${hash.slice(0, 32)}"`
}

/** True when any entity tag in an If-None-Match header matches (weak comparison, as RFC 9110 §13.1.2 asks). */
export function matchesIfNoneMatch(header: string | null, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  const bare = etag.replace(/^W\//, '')
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare)
}

export function imageResponse(request: Request, image: ImageResponse): Response {
  const etag = etagOf(image.hash)
  const headers: Record<string, string> = {
    ...COMMON,
    'Content-Type': image.contentType ?? CONTENT_TYPES[image.format],
    'Cache-Control': image.cacheControl,
    ETag: etag,
  }
  if (image.varyAccept) headers.Vary = 'Accept'
  if (image.cacheTag) {
    // Cloudflare and Akamai purge by Cache-Tag, Fastly by Surrogate-Key (which it strips before
    // the browser sees it); both carry the same single tag.
    headers['Cache-Tag'] = image.cacheTag
    headers['Surrogate-Key'] = image.cacheTag
  }
  if (image.cldError) headers['X-Cld-Error'] = image.cldError
  if (image.attachmentName !== undefined) {
    const name = `${image.attachmentName || 'image'}.${image.format}`
    headers['Content-Disposition'] = `attachment; filename="${name}"`
  }
  if (matchesIfNoneMatch(request.headers.get('if-none-match'), etag)) {
    delete headers['Content-Type']
    return new Response(null, { status: 304, headers })
  }
  headers['Content-Length'] = String(image.bytes.byteLength)
  return new Response(request.method === 'HEAD' ? null : image.bytes, { status: 200, headers })
}

export function redirectResponse(image: RedirectResponse): Response {
  const headers: Record<string, string> = {
    ...COMMON,
    Location: image.location,
    'Cache-Control': image.cacheControl,
  }
  if (image.varyAccept) headers.Vary = 'Accept'
  if (image.cacheTag) {
    // A purge of the picture must drop a cached redirect to its old original too.
    headers['Cache-Tag'] = image.cacheTag
    headers['Surrogate-Key'] = image.cacheTag
  }
  return new Response(null, { status: 302, headers })
}

export function errorResponse(
  request: Request,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): Response {
  // Header values must be one line of visible ASCII; ids may contain anything.
  const headerSafe = message.replace(/[^\x20-\x7e]/g, '?').slice(0, 512)
  const body = request.method === 'HEAD' ? null : `${headerSafe}\n`
  return new Response(body, {
    status,
    headers: {
      ...COMMON,
      'Content-Type': 'text/plain; charset=utf-8',
      // 429 (our queue is full) and 5xx are momentary: a CDN must not keep them for a minute.
      'Cache-Control': status < 500 && status !== 429 ? CACHE_CLIENT_ERROR : 'no-store',
      'X-Cld-Error': headerSafe,
      ...extra,
    },
  })
}
