/**
 * A test HttpClient over plain `fetch`, with the same observable semantics as the real SSRF-safe
 * client (src/fetch/client.ts): manual redirects (at most `maxRedirects`, each hop re-checked),
 * buffered bodies with a byte cap, FetchError for transport failures and never for HTTP statuses,
 * and `getImage` requiring 2xx plus sniffed JPEG/PNG/GIF/WebP magic bytes and header dimensions.
 *
 * It does no DNS or address checks. When a scope is given, it does enforce the host allow-list
 * (trusted origins + allowed host patterns), so plugin tests notice a URL the real client would refuse.
 */
import { FetchError, type FetchedImage, type FetchLimits, type HttpClient, type HttpResponse, type RequestOptions } from '../../src/fetch/types.ts'
import type { SourceFormat } from '../../src/url/types.ts'

export interface TestHttpClientOptions {
  /** Origins always reachable (explicitly configured base URLs). */
  trustedOrigins?: readonly string[]
  /** Host patterns (exact or `*.suffix`) reachable besides the trusted origins. */
  allowedHosts?: readonly string[]
  limits?: Partial<FetchLimits>
}

const DEFAULT_LIMITS: FetchLimits = {
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxRedirects: 5,
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 15_000,
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

export function hostMatches(hostname: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1
  return hostname === pattern
}

/** Image format and header dimensions from magic bytes, or undefined when it is not a supported image. */
export function sniffImage(bytes: Uint8Array): { format: SourceFormat; width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ascii = (start: number, length: number) => String.fromCharCode(...bytes.subarray(start, start + length))

  // PNG: signature, then IHDR with big-endian width/height.
  if (bytes.length >= 24 && ascii(1, 3) === 'PNG' && bytes[0] === 0x89 && ascii(12, 4) === 'IHDR') {
    return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) }
  }
  // GIF: logical screen size, little-endian.
  if (bytes.length >= 10 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) {
    return { format: 'gif', width: view.getUint16(6, true), height: view.getUint16(8, true) }
  }
  // WebP: RIFF container, first chunk VP8 / VP8L / VP8X.
  if (bytes.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const chunk = ascii(12, 4)
    if (chunk === 'VP8 ') return { format: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff }
    if (chunk === 'VP8L' && bytes[20] === 0x2f) {
      const bits = view.getUint32(21, true)
      return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 }
    }
    if (chunk === 'VP8X') {
      const width = (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16)) + 1
      const height = (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16)) + 1
      return { format: 'webp', width, height }
    }
    return undefined
  }
  // JPEG: walk the segments to the first start-of-frame marker.
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    let offset = 2
    while (offset + 9 < bytes.length) {
      if (bytes[offset] !== 0xff) return undefined
      const marker = bytes[offset + 1]!
      if (marker === 0xff) {
        offset += 1 // fill byte
        continue
      }
      const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
      if (isStartOfFrame) return { format: 'jpg', height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) }
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        offset += 2
        continue
      }
      offset += 2 + view.getUint16(offset + 2)
    }
  }
  return undefined
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = response.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw new FetchError('too_large', `body exceeds ${maxBytes} bytes`)
    }
    chunks.push(value)
  }
  const body = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

export function testHttpClient(options: TestHttpClientOptions = {}): HttpClient {
  const limits = { ...DEFAULT_LIMITS, ...options.limits }
  const enforceScope = options.trustedOrigins !== undefined || options.allowedHosts !== undefined
  const trustedOrigins = new Set(options.trustedOrigins ?? [])
  const allowedHosts = options.allowedHosts ?? []

  function check(url: string): URL {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new FetchError('bad_url', `not a URL: ${url}`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new FetchError('bad_url', `not http(s): ${url}`)
    if (enforceScope && !trustedOrigins.has(parsed.origin) && !allowedHosts.some((pattern) => hostMatches(parsed.hostname, pattern))) {
      throw new FetchError('blocked', `host not allowed: ${parsed.hostname}`)
    }
    return parsed
  }

  async function request(url: string, requestOptions: RequestOptions = {}): Promise<HttpResponse> {
    const follow = requestOptions.followRedirects ?? true
    const signal = AbortSignal.timeout(requestOptions.timeoutMs ?? limits.totalTimeoutMs)
    let current = check(url)
    let method = requestOptions.method ?? 'GET'
    let body = requestOptions.body
    for (let hops = 0; ; hops++) {
      let response: Response
      try {
        response = await fetch(current, { method, headers: requestOptions.headers, body, redirect: 'manual', signal })
      } catch (error) {
        if (signal.aborted) throw new FetchError('timeout', `timed out fetching ${current}`)
        throw new FetchError('network', `${current}: ${error instanceof Error ? error.message : String(error)}`)
      }
      const location = response.headers.get('location')
      if (follow && REDIRECT_STATUSES.has(response.status) && location !== null) {
        await response.body?.cancel()
        if (hops >= limits.maxRedirects) throw new FetchError('too_many_redirects', `more than ${limits.maxRedirects} redirects`)
        current = check(new URL(location, current).href)
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET'
          body = undefined
        }
        continue
      }
      let bytes: Uint8Array
      try {
        bytes = await readCapped(response, limits.maxBytes)
      } catch (error) {
        if (error instanceof FetchError) throw error
        if (signal.aborted) throw new FetchError('timeout', `timed out reading ${current}`)
        throw new FetchError('network', `${current}: ${error instanceof Error ? error.message : String(error)}`)
      }
      const finalUrl = current.href
      return {
        status: response.status,
        headers: response.headers,
        url: finalUrl,
        body: bytes,
        text: () => new TextDecoder().decode(bytes),
        json: <T>() => JSON.parse(new TextDecoder().decode(bytes)) as T,
      }
    }
  }

  async function getImage(url: string, requestOptions: RequestOptions = {}): Promise<FetchedImage> {
    const response = await request(url, { ...requestOptions, method: 'GET' })
    if (response.status < 200 || response.status > 299) {
      throw new FetchError('http_status', `HTTP ${response.status} from ${response.url}`, response.status)
    }
    const sniffed = sniffImage(response.body)
    if (!sniffed) throw new FetchError('bad_image', `not a JPEG/PNG/GIF/WebP image: ${response.url}`)
    if (sniffed.width * sniffed.height > limits.maxPixels) {
      throw new FetchError('too_many_pixels', `${sniffed.width}x${sniffed.height} exceeds ${limits.maxPixels} pixels`)
    }
    return {
      bytes: response.body,
      ...sniffed,
      url: response.url,
      etag: response.headers.get('etag') ?? undefined,
      lastModified: response.headers.get('last-modified') ?? undefined,
    }
  }

  return { request, getImage }
}
