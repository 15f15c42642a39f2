/**
 * The SSRF-safe HTTP client every plugin uses (contract: ./types.ts).
 *
 * Per hop (the first URL and every redirect):
 *   1. only http(s), no userinfo;
 *   2. trusted origin (an operator-configured base URL)? then no host/address checks;
 *      otherwise the host must match `allowedHosts` and EVERY resolved A/AAAA answer must be public;
 *   3. connect to one validated address, pinned: Bun's fetch has no dial/lookup hook, so we rewrite the URL's
 *      host to the IP literal. Bun then never resolves anything itself, and a DNS answer that changes between
 *      our check and the connect (rebinding) cannot redirect the connection.
 *        - http:  `Host` is set to the original host (Bun sends our Host header verbatim).
 *        - https: `tls.serverName` carries the original name: Bun sends it as SNI and verifies the certificate
 *                 chain and the name against it. `rejectUnauthorized: true` is explicit so that
 *                 NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot turn verification off.
 *                 HTTP/1.1 is forced so the Host header (not an h2 :authority we do not control) names the site.
 *      `proxy: false`: an HTTP(S)_PROXY from the environment would resolve the name itself and undo the pinning.
 *
 * Residual risks (Bun 1.4.5):
 *   - There is no connect event, so the "connect" timeout bounds name resolution plus the wait for response
 *     headers of each hop (TCP + TLS + server think time). The body is bounded by the total timeout only.
 *   - Pinning relies on Bun honouring `Host` and `tls.serverName` (both covered by tests in test/fetch).
 *   - When an origin changes on redirect we drop Authorization, Cookie and Proxy-Authorization; any other
 *     secret a plugin puts in a custom header travels to the redirect target (plugins should not do that).
 */
import { lookup } from 'node:dns/promises'
import type { FetchedImage, FetchLimits, HttpClient, HttpResponse, RequestOptions } from './types.ts'
import { FetchError } from './types.ts'
import type { IpAddress } from './address.ts'
import { addressToUrlHost, checkAddress, parseIP } from './address.ts'
import { decodeSize, isNeedMoreBytes, probeImage, type ImageHeader } from '../lib/image-header.ts'
import { type ConcurrencyLimiter, LimiterFullError } from '../lib/limiter.ts'

export const DEFAULT_FETCH_LIMITS: Readonly<FetchLimits> = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxRedirects: 5,
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 15_000,
})

export const DEFAULT_USER_AGENT = 'headshot/0.1 (+https://github.com/headshot)'

export interface HttpClientOptions {
  limits?: Partial<FetchLimits>
  /** Shared cap on concurrent image downloads, in total and per host (every plugin's client uses one). */
  downloads?: ConcurrencyLimiter
  /**
   * Origins (scheme://host[:port]; a path is ignored) the operator configured explicitly, e.g. a plugin's base
   * URL. Requests to them skip the host allow-list and the address checks, even on private addresses.
   */
  trustedOrigins?: readonly string[]
  /** Host names (exact, or `*.suffix` for sub-domains only) other origins may use. Undefined: any host. */
  allowedHosts?: readonly string[]
  /** Name resolution (all A/AAAA answers). Default: the system resolver via node:dns `lookup({ all: true })`. */
  resolve?: (hostname: string) => Promise<string[]>
  userAgent?: string
  /**
   * PEM CA certificate(s) to verify upstream TLS against, instead of Bun's bundled roots (node:tls `ca`
   * semantics). For tests and private PKI only; verification itself can never be switched off.
   */
  ca?: string | readonly string[]
}

// ---------------------------------------------------------------------------------------------------------
// Pure helpers (exported for tests)

// Underscores are not valid in DNS host names but WHATWG URLs accept them (e.g. internal service names).
const HOST_PATTERN = /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/

/** A lower-case host name or `*.suffix`, as allow-lists are written (no IP literals, no ports). */
export function isHostPattern(text: string): boolean {
  return HOST_PATTERN.test(text)
}

/** Lower-case, no trailing dot, no IPv6 brackets: the form host names are compared in. */
export function normaliseHostname(hostname: string): string {
  let h = hostname.toLowerCase()
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  if (h.endsWith('.')) h = h.slice(0, -1)
  return h
}

/** Throws for a pattern that is neither a host name, an IP literal nor `*.suffix` (a configuration bug). */
export function normaliseHostPattern(pattern: string): string {
  const p = normaliseHostname(pattern.trim())
  if (HOST_PATTERN.test(p) || parseIP(p)) return p
  throw new TypeError(`invalid host pattern ${JSON.stringify(pattern)} (use "host.example" or "*.example")`)
}

/**
 * `*.example.com` matches any sub-domain of example.com but not example.com itself. Plain string
 * comparison, no regexes (thumbor once treated allow-list entries as regexes, so `.` matched anything).
 * IP literals only ever match exactly.
 */
export function hostMatches(hostname: string, pattern: string): boolean {
  const host = normaliseHostname(hostname)
  const p = normaliseHostname(pattern)
  if (p.startsWith('*.')) {
    const suffix = p.slice(1) // ".example.com"
    return parseIP(host) === undefined && host.length > suffix.length && host.endsWith(suffix)
  }
  return host === p
}

/** Throws for anything but an absolute http(s) URL. */
export function normaliseOrigin(text: string): string {
  const url = new URL(text)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`not an http(s) origin: ${text}`)
  return url.origin
}

/** Parse a URL we are about to request: http(s) only, no credentials in it. */
export function parseTargetUrl(text: string, base?: URL): URL {
  let url: URL
  try {
    url = new URL(text, base)
  } catch {
    throw new FetchError('bad_url', `unparsable URL ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError('bad_url', `only http and https URLs may be fetched, not ${url.protocol}`)
  }
  // `http://allowed.example@evil.example/` style confusion, and we never want to send credentials this way.
  if (url.username !== '' || url.password !== '') throw new FetchError('bad_url', 'URLs with credentials are refused')
  url.hash = ''
  return url
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** What the next hop sends, per the Fetch standard: 303 (and 301/302 after a POST) become a body-less GET. */
export function methodAfterRedirect(status: number, method: string): { method: string; keepBody: boolean } {
  if (
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((status === 301 || status === 302) && method === 'POST')
  ) {
    return { method: 'GET', keepBody: false }
  }
  return { method, keepBody: true }
}

/** IPv4 first: containers often have no IPv6 route, and a refused connect moves on to the next address. */
function preferIPv4(addresses: IpAddress[]): IpAddress[] {
  return [...addresses.filter((a) => a.family === 4), ...addresses.filter((a) => a.family === 6)]
}

/** Connect-stage errors: nothing was sent, so trying the next validated address is safe even for POST. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'ConnectionRefused'])

// ---------------------------------------------------------------------------------------------------------
// Deadlines

/** The total deadline of one call, and a per-hop "connect" deadline that ends when headers arrive. */
class Deadline {
  private readonly controller = new AbortController()
  private readonly timer: ReturnType<typeof setTimeout>

  constructor(ms: number) {
    this.timer = setTimeout(
      () => this.controller.abort(new FetchError('timeout', `no complete response within ${ms} ms`)),
      ms,
    )
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** A signal for one hop that also fires `connectMs` after it starts, until `connected()` is called. */
  hop(connectMs: number): { signal: AbortSignal; connected(): void } {
    const hop = new AbortController()
    const timer = setTimeout(
      () => hop.abort(new FetchError('timeout', `no response headers within ${connectMs} ms (connect timeout)`)),
      connectMs,
    )
    return { signal: AbortSignal.any([this.controller.signal, hop.signal]), connected: () => clearTimeout(timer) }
  }

  dispose(): void {
    clearTimeout(this.timer)
  }
}

/** Settle with the abort reason as soon as the signal fires (for awaits that take no signal, like DNS). */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function toFetchError(error: unknown, signal: AbortSignal): FetchError {
  if (error instanceof FetchError) return error
  if (signal.aborted) {
    return signal.reason instanceof FetchError ? signal.reason : new FetchError('timeout', 'request aborted')
  }
  const e = error as { name?: string; code?: string; message?: string } | undefined
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new FetchError('timeout', e.message ?? 'timed out')
  const code = e?.code ? `${e.code}: ` : ''
  return new FetchError('network', `${code}${e?.message ?? String(error)}`)
}

// ---------------------------------------------------------------------------------------------------------
// Body reading

/** A growable byte buffer, so the sniffer can look at the prefix after every chunk without re-concatenating. */
class ByteSink {
  private buffer: Uint8Array
  length = 0

  constructor(initial: number) {
    this.buffer = new Uint8Array(Math.max(1024, initial))
  }

  append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.buffer.length) {
      const next = new Uint8Array(Math.max(this.buffer.length * 2, this.length + chunk.length))
      next.set(this.buffer.subarray(0, this.length))
      this.buffer = next
    }
    this.buffer.set(chunk, this.length)
    this.length += chunk.length
  }

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length)
  }

  /** A compact copy, so callers do not keep up to 2× the body alive. */
  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}

/**
 * Read the body under the byte cap: refuse at once on a declared Content-Length above it, and stop the stream
 * as soon as the running total passes it (chunked bodies, lying Content-Length, decompressed gzip).
 * `inspect` sees the prefix after each chunk and may throw to stop early.
 */
async function readBody(
  response: Response,
  method: string,
  maxBytes: number,
  inspect?: (prefix: Uint8Array) => void,
): Promise<Uint8Array> {
  // A HEAD response declares the length of a body it does not send.
  const declared = method === 'HEAD' ? NaN : Number(response.headers.get('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {})
    throw new FetchError('too_large', `body of ${declared} bytes exceeds the ${maxBytes}-byte limit`)
  }
  const sink = new ByteSink(Number.isFinite(declared) ? Math.min(declared, maxBytes) : 64 * 1024)
  if (!response.body) {
    inspect?.(sink.view())
    return sink.bytes()
  }
  const reader = response.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (sink.length + value.length > maxBytes) {
        throw new FetchError('too_large', `body exceeds the ${maxBytes}-byte limit`)
      }
      sink.append(value)
      inspect?.(sink.view())
    }
  } catch (error) {
    await reader.cancel().catch(() => {})
    throw error
  } finally {
    reader.releaseLock()
  }
  return sink.bytes()
}

// ---------------------------------------------------------------------------------------------------------
// The client

interface Hop {
  url: URL
  method: string
  headers: Headers
  body: string | URLSearchParams | undefined
}

export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const limits: FetchLimits = { ...DEFAULT_FETCH_LIMITS, ...options.limits }
  const trusted = new Set((options.trustedOrigins ?? []).map(normaliseOrigin))
  const allowedHosts = options.allowedHosts?.map(normaliseHostPattern)
  const resolveName = options.resolve ?? systemResolve
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT
  const ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? options.ca : [...options.ca]

  /** Step 2 of the header comment: the addresses this hop may connect to, or a FetchError. */
  async function addressesFor(url: URL, signal: AbortSignal): Promise<IpAddress[]> {
    const isTrusted = trusted.has(url.origin)
    const hostname = normaliseHostname(url.hostname)
    if (!isTrusted && allowedHosts && !allowedHosts.some((p) => hostMatches(hostname, p))) {
      throw new FetchError('blocked', `host ${hostname} is not allowed`)
    }
    const literal = parseIP(hostname)
    let answers: string[]
    if (literal) {
      answers = [hostname]
    } else {
      try {
        answers = await raceSignal(resolveName(hostname), signal)
      } catch (error) {
        throw toFetchError(error, signal)
      }
    }
    if (answers.length === 0) throw new FetchError('network', `${hostname} has no addresses`)
    const addresses: IpAddress[] = []
    for (const answer of answers) {
      const verdict = checkAddress(answer)
      if (verdict.public) {
        addresses.push(verdict.address)
        continue
      }
      const parsed = parseIP(answer)
      // A trusted origin may live anywhere, but the answer still has to be an address we can pin to.
      if (isTrusted && parsed) addresses.push(parsed)
      // One bad answer taints the name: the OS could otherwise pick it on a later connect (unavatar#642).
      else throw new FetchError('blocked', `${hostname} resolves to ${answer}: ${verdict.reason}`)
    }
    return preferIPv4(addresses)
  }

  /** Send one hop to a pinned address; resolves when the response headers are in. */
  async function send(hop: Hop, address: IpAddress, signal: AbortSignal): Promise<Response> {
    const pinned = new URL(hop.url.href)
    pinned.hostname = addressToUrlHost(address)
    const headers = new Headers(hop.headers)
    headers.set('host', hop.url.host)
    const isHttps = hop.url.protocol === 'https:'
    const hostname = normaliseHostname(hop.url.hostname)
    const init: BunFetchRequestInit = {
      method: hop.method,
      headers,
      body: hop.body,
      redirect: 'manual',
      signal,
      proxy: false,
    }
    if (isHttps) {
      init.protocol = 'http1.1'
      // SNI must be a name, never an IP literal; for a literal host the default (verify against the IP) is right.
      init.tls = {
        rejectUnauthorized: true,
        ...(parseIP(hostname) ? {} : { serverName: hostname }),
        ...(ca ? { ca } : {}),
      }
    }
    return fetch(pinned.href, init)
  }

  /** Every hop: check, pin, send, and follow redirects by hand. Resolves with the final response's headers in. */
  async function run(
    url: string,
    options: RequestOptions,
    deadline: Deadline,
  ): Promise<{ response: Response; url: URL }> {
    const headers = new Headers(options.headers)
    headers.delete('host')
    if (!headers.has('user-agent')) headers.set('user-agent', userAgent)
    let hop: Hop = { url: parseTargetUrl(url), method: options.method ?? 'GET', headers, body: options.body }
    const follow = options.followRedirects ?? true

    for (let redirects = 0; ; redirects++) {
      const stage = deadline.hop(limits.connectTimeoutMs)
      let response: Response | undefined
      let lastError: unknown
      try {
        const addresses = await addressesFor(hop.url, stage.signal)
        for (const address of addresses) {
          try {
            response = await send(hop, address, stage.signal)
            break
          } catch (error) {
            lastError = error
            const code = (error as { code?: string } | undefined)?.code
            if (stage.signal.aborted || !code || !CONNECT_ERRORS.has(code)) break
          }
        }
      } catch (error) {
        stage.connected()
        throw toFetchError(error, stage.signal)
      }
      stage.connected()
      if (!response) throw toFetchError(lastError, stage.signal)

      const location = response.headers.get('location')
      if (!follow || !REDIRECT_STATUSES.has(response.status) || location === null) return { response, url: hop.url }

      await response.body?.cancel().catch(() => {})
      if (redirects >= limits.maxRedirects) {
        throw new FetchError(
          'too_many_redirects',
          `more than ${limits.maxRedirects} redirects (last from ${hop.url.href})`,
        )
      }
      const next = parseTargetUrl(location, hop.url)
      const { method, keepBody } = methodAfterRedirect(response.status, hop.method)
      const nextHeaders = new Headers(hop.headers)
      if (!keepBody) {
        nextHeaders.delete('content-type')
        nextHeaders.delete('content-length')
      }
      if (next.origin !== hop.url.origin) {
        // Credentials meant for the API must not follow a redirect to a CDN (or an attacker's host).
        for (const name of ['authorization', 'cookie', 'proxy-authorization']) nextHeaders.delete(name)
      }
      hop = { url: next, method, headers: nextHeaders, body: keepBody ? hop.body : undefined }
    }
  }

  async function request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const deadline = new Deadline(options.timeoutMs ?? limits.totalTimeoutMs)
    try {
      const { response, url: finalUrl } = await run(url, options, deadline)
      const body = await readBody(response, options.method ?? 'GET', limits.maxBytes)
      return makeResponse(response, finalUrl.href, body)
    } catch (error) {
      throw toFetchError(error, deadline.signal)
    } finally {
      deadline.dispose()
    }
  }

  async function getImage(url: string, requestOptions: RequestOptions = {}): Promise<FetchedImage> {
    if (!options.downloads) return download(url, requestOptions)
    let host: string
    try {
      host = new URL(url).hostname
    } catch {
      return download(url, requestOptions) // refused there, with the client's own error
    }
    try {
      return await options.downloads.run(host, () => download(url, requestOptions))
    } catch (error) {
      if (error instanceof LimiterFullError) throw new FetchError('network', 'too many downloads in progress')
      throw error
    }
  }

  async function download(url: string, options: RequestOptions): Promise<FetchedImage> {
    const deadline = new Deadline(options.timeoutMs ?? limits.totalTimeoutMs)
    try {
      const { response, url: finalUrl } = await run(url, { ...options, method: 'GET', body: undefined }, deadline)
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => {})
        throw new FetchError('http_status', `${finalUrl.href} answered ${response.status}`, response.status)
      }
      // Judge the header as soon as it has streamed in: a pixel bomb or an HTML page stops the download.
      let header: ImageHeader | undefined
      const inspect = (prefix: Uint8Array): void => {
        if (header) return
        const probe = probeImage(prefix)
        if (probe.ok) {
          header = checkPixels(probe.value, limits.maxPixels)
        } else if (!isNeedMoreBytes(probe.error)) {
          throw new FetchError('bad_image', `${finalUrl.href}: ${probe.error}`)
        }
      }
      const bytes = await readBody(response, 'GET', limits.maxBytes, inspect)
      if (!header)
        throw new FetchError(
          'bad_image',
          `${finalUrl.href}: body ended inside the image header (${bytes.length} bytes)`,
        )
      const image: FetchedImage = {
        bytes,
        format: header.format,
        width: header.width,
        height: header.height,
        url: finalUrl.href,
      }
      const etag = response.headers.get('etag')
      const lastModified = response.headers.get('last-modified')
      if (etag !== null) image.etag = etag
      if (lastModified !== null) image.lastModified = lastModified
      return image
    } catch (error) {
      throw toFetchError(error, deadline.signal)
    } finally {
      deadline.dispose()
    }
  }

  return { request, getImage }
}

/** Counts what decoding would work through (a GIF frame beyond its screen included), not just the image's size. */
function checkPixels(header: ImageHeader, maxPixels: number): ImageHeader {
  const { width, height } = decodeSize(header)
  if (width * height > maxPixels) {
    throw new FetchError('too_many_pixels', `${header.format} of ${width}x${height} exceeds ${maxPixels} pixels`)
  }
  return header
}

function makeResponse(response: Response, url: string, body: Uint8Array): HttpResponse {
  return {
    status: response.status,
    headers: response.headers,
    url,
    body,
    text: () => new TextDecoder().decode(body),
    json: <T = unknown>(): T => JSON.parse(new TextDecoder().decode(body)) as T,
  }
}

async function systemResolve(hostname: string): Promise<string[]> {
  const answers = await lookup(hostname, { all: true, verbatim: true })
  return answers.map((a) => a.address)
}
