import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Image } from 'imagescript'
import {
  createHttpClient,
  DEFAULT_FETCH_LIMITS,
  hostMatches,
  methodAfterRedirect,
  normaliseHostPattern,
  parseTargetUrl,
  type HttpClientOptions,
} from '../../src/fetch/client.ts'
import { FetchError, type FetchErrorCode } from '../../src/fetch/types.ts'
import { gifFrameBomb, hugePngHeader } from '../support/fetch-fixtures.ts'
import { createConcurrencyLimiter } from '../../src/lib/limiter.ts'
import { chunkedBody, makeTestPki, stallingBody, startServer, type TestServer } from '../support/servers.ts'

/** Await a promise that must reject with a FetchError of `code`; returns it for further checks. */
async function rejectsWith(promise: Promise<unknown>, code: FetchErrorCode): Promise<FetchError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(FetchError)
    expect({ code: (error as FetchError).code, message: (error as FetchError).message }).toMatchObject({ code })
    return error as FetchError
  }
  throw new Error(`expected a FetchError(${code}), but the call succeeded`)
}

/** Small limits so failures show up in milliseconds. */
const FAST = { connectTimeoutMs: 1_000, totalTimeoutMs: 2_000 }

let png: Uint8Array
let upstream: TestServer // the "operator-configured" upstream
let other: TestServer // a second loopback service nobody configured

beforeAll(async () => {
  png = await new Image(12, 7).encode()
  other = await startServer(() => new Response('internal secret'))
  upstream = await startServer(async (req, url, body) => {
    const p = url.pathname
    if (p === '/ok') return new Response('hello', { headers: { 'x-test': 'yes' } })
    if (p === '/json') return Response.json({ id: 42, name: 'ada' })
    if (p === '/echo') {
      return Response.json({
        method: req.method,
        host: req.headers.get('host'),
        authorization: req.headers.get('authorization'),
        userAgent: req.headers.get('user-agent'),
        body,
      })
    }
    if (p === '/status/418') return new Response('teapot', { status: 418 })
    // /chain/3 → /chain/2 → /chain/1 → /chain/0 → /ok, with relative Locations
    const chain = /^\/chain\/(\d+)$/.exec(p)
    if (chain) {
      const n = Number(chain[1])
      return new Response(null, { status: 302, headers: { location: n === 0 ? '../ok' : `${n - 1}` } })
    }
    if (p === '/to')
      return new Response(null, {
        status: Number(url.searchParams.get('status') ?? 302),
        headers: { location: url.searchParams.get('url') ?? '' },
      })
    if (p === '/declared-big') return new Response(new Uint8Array(4097))
    if (p === '/chunked-big') return new Response(chunkedBody(64 * 1024, 1024))
    if (p === '/chunked-small') return new Response(chunkedBody(4096, 1024))
    if (p === '/stall-headers') return new Promise<Response>(() => {})
    if (p === '/stall-body') return new Response(stallingBody('partial'))
    if (p === '/slow-png') {
      inFlight++
      peakInFlight = Math.max(peakInFlight, inFlight)
      return Bun.sleep(30).then(() => {
        inFlight--
        return new Response(png, { headers: { 'content-type': 'image/png' } })
      })
    }
    if (p === '/png')
      return new Response(png, {
        headers: { 'content-type': 'image/png', etag: '"v1"', 'last-modified': 'Tue, 01 Jul 2025 00:00:00 GMT' },
      })
    if (p === '/html')
      return new Response('<!doctype html><title>Login</title>', { headers: { 'content-type': 'image/png' } })
    if (p === '/missing') return new Response('<html>404</html>', { status: 404 })
    if (p === '/bomb')
      return new Response(stallingBody(hugePngHeader(20_000, 20_000)), { headers: { 'content-type': 'image/png' } })
    if (p === '/truncated') return new Response(png.subarray(0, 20))
    if (p === '/gif-bomb')
      return new Response(stallingBody(gifFrameBomb(8000, 8000)), { headers: { 'content-type': 'image/gif' } })
    return new Response('no route', { status: 404 })
  })
})

afterAll(() => {
  upstream.stop()
  other.stop()
})

/** A client that trusts the upstream server (as an operator-configured base URL would be). */
let inFlight = 0
let peakInFlight = 0

const trustingClient = (extra: HttpClientOptions = {}) =>
  createHttpClient({ trustedOrigins: [upstream.origin], ...extra, limits: { ...FAST, ...extra.limits } })

// -------------------------------------------------------------------------------------------------------

describe('pure helpers', () => {
  test('defaults', () => {
    expect(DEFAULT_FETCH_LIMITS).toEqual({
      maxBytes: 10 * 1024 * 1024,
      maxPixels: 40_000_000,
      maxRedirects: 5,
      connectTimeoutMs: 5_000,
      totalTimeoutMs: 15_000,
    })
  })

  test.each([
    ['pbs.twimg.com', 'pbs.twimg.com', true],
    ['PBS.twimg.com.', 'pbs.twimg.com', true],
    ['abs.twimg.com', 'pbs.twimg.com', false],
    ['scontent.xx.fbcdn.net', '*.fbcdn.net', true],
    ['a.b.fbcdn.net', '*.fbcdn.net', true],
    ['fbcdn.net', '*.fbcdn.net', false], // the wildcard is for sub-domains only
    ['evilfbcdn.net', '*.fbcdn.net', false],
    ['fbcdn.net.evil.com', '*.fbcdn.net', false],
    ['gravatarXcom', 'gravatar.com', false], // a dot is a dot, not a regex wildcard
    ['127.0.0.1', '*.0.0.1', false], // wildcards never match IP literals
    ['[::1]', '::1', true],
  ])('host %s vs pattern %s → %p', (host, pattern, expected) => {
    expect(hostMatches(host, pattern)).toBe(expected)
  })

  test.each([
    ['Graph.Facebook.com.', 'graph.facebook.com'],
    ['*.FBCDN.net', '*.fbcdn.net'],
    ['[::1]', '::1'],
    ['10.0.0.5', '10.0.0.5'],
    ['internal_svc.local', 'internal_svc.local'],
  ])('normalises the host pattern %p', (pattern, normalised) => {
    expect(normaliseHostPattern(pattern)).toBe(normalised)
  })

  test.each(['*', '', 'http://x.com', 'x.com/path', '*.*.com', 'a b.com'])('rejects the host pattern %p', (pattern) => {
    expect(() => normaliseHostPattern(pattern)).toThrow(TypeError)
  })

  test.each([
    ['file:///etc/passwd'],
    ['ftp://example.com/a.png'],
    ['javascript:alert(1)'],
    ['data:image/png;base64,AAAA'],
    ['http://user:pass@example.com/'],
    ['http://example.com@evil.example/'],
    ['not a url'],
    ['//example.com/relative-without-base'],
  ])('parseTargetUrl refuses %s', (url) => {
    expect(() => parseTargetUrl(url)).toThrow(FetchError)
    try {
      parseTargetUrl(url)
    } catch (e) {
      expect((e as FetchError).code).toBe('bad_url')
    }
  })

  test('parseTargetUrl resolves relative Locations and drops the fragment', () => {
    expect(parseTargetUrl('../b?c=1#frag', new URL('https://x.example/a/b/c')).href).toBe('https://x.example/a/b?c=1')
    expect(parseTargetUrl('//cdn.example/p.jpg', new URL('https://x.example/a')).href).toBe('https://cdn.example/p.jpg')
  })

  test.each([
    [301, 'POST', 'GET', false],
    [302, 'POST', 'GET', false],
    [303, 'POST', 'GET', false],
    [303, 'HEAD', 'HEAD', true],
    [302, 'GET', 'GET', true],
    [307, 'POST', 'POST', true],
    [308, 'POST', 'POST', true],
  ])('redirect %d after %s → %s (body kept: %p)', (status, method, next, keepBody) => {
    expect(methodAfterRedirect(status, method)).toEqual({ method: next, keepBody })
  })
})

describe('request() against a trusted origin', () => {
  test('returns status, headers, body and final URL', async () => {
    const res = await trustingClient().request(`${upstream.origin}/ok`)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-test')).toBe('yes')
    expect(res.text()).toBe('hello')
    expect(res.url).toBe(`${upstream.origin}/ok`)
  })

  test('json(), and HTTP error statuses are not errors', async () => {
    const client = trustingClient()
    expect((await client.request(`${upstream.origin}/json`)).json()).toEqual({ id: 42, name: 'ada' })
    const teapot = await client.request(`${upstream.origin}/status/418`)
    expect(teapot.status).toBe(418)
    expect(teapot.text()).toBe('teapot')
  })

  test('sends the default User-Agent unless the caller sets one; a caller cannot set Host', async () => {
    const client = trustingClient({ userAgent: 'headshot-test/1' })
    expect((await client.request(`${upstream.origin}/echo`)).json()).toMatchObject({
      userAgent: 'headshot-test/1',
      host: `127.0.0.1:${upstream.port}`,
    })
    const custom = await client.request(`${upstream.origin}/echo`, {
      headers: { 'User-Agent': 'custom', Host: 'evil.example' },
    })
    expect(custom.json()).toMatchObject({ userAgent: 'custom', host: `127.0.0.1:${upstream.port}` })
  })

  test('POST with a form body', async () => {
    const res = await trustingClient().request(`${upstream.origin}/echo`, {
      method: 'POST',
      body: new URLSearchParams({ a: '1', b: 'x y' }),
    })
    expect(res.json()).toMatchObject({ method: 'POST', body: 'a=1&b=x+y' })
  })

  test('a refused connection is a network error', async () => {
    const closed = await startServer(() => new Response('x'))
    closed.stop()
    await rejectsWith(
      createHttpClient({ trustedOrigins: [closed.origin], limits: FAST }).request(`${closed.origin}/`),
      'network',
    )
  })
})

describe('SSRF guard', () => {
  test('the same loopback server is refused when nobody trusted it', async () => {
    const before = upstream.seen.length
    const error = await rejectsWith(createHttpClient({ limits: FAST }).request(`${upstream.origin}/ok`), 'blocked')
    expect(error.message).toContain('loopback')
    expect(upstream.seen.length).toBe(before)
  })

  test('a non-trusted host name that resolves to 127.0.0.1 is refused before any connection', async () => {
    const before = upstream.seen.length
    const resolved: string[] = []
    const client = createHttpClient({ limits: FAST, resolve: async (h) => (resolved.push(h), ['127.0.0.1']) })
    const error = await rejectsWith(client.request(`http://images.example:${upstream.port}/ok`), 'blocked')
    expect(error.message).toContain('images.example resolves to 127.0.0.1')
    expect(resolved).toEqual(['images.example'])
    expect(upstream.seen.length).toBe(before)
  })

  test('one private answer among public ones taints the name', async () => {
    const client = createHttpClient({
      limits: FAST,
      resolve: async () => ['93.184.216.34', '2606:2800:220:1::1', '10.0.0.7'],
    })
    const error = await rejectsWith(client.getImage('http://images.example/a.png'), 'blocked')
    expect(error.message).toContain('10.0.0.7')
  })

  test.each([
    ['http://169.254.169.254/latest/meta-data/'],
    ['http://[::ffff:127.0.0.1]/'],
    ['http://[::ffff:a9fe:a9fe]/'],
    ['http://0x7f.1/'],
    ['http://2130706433/'],
    ['http://[::1]/'],
    ['http://[fd00::1]/'],
    ['http://100.64.0.1/'],
    ['http://0.0.0.0/'],
  ])('literal address %s is refused without resolving', async (url) => {
    let resolved = 0
    const client = createHttpClient({ limits: FAST, resolve: async () => (resolved++, ['93.184.216.34']) })
    await rejectsWith(client.request(url), 'blocked')
    expect(resolved).toBe(0)
  })

  test('answers that are not addresses are refused', async () => {
    const client = createHttpClient({ limits: FAST, resolve: async () => ['localhost'] })
    await rejectsWith(client.request('http://images.example/'), 'blocked')
  })

  test('allowedHosts: other hosts are refused before resolving; trusted origins need no entry', async () => {
    let resolved = 0
    const client = createHttpClient({
      limits: FAST,
      allowedHosts: ['pbs.twimg.com', '*.fbcdn.net'],
      trustedOrigins: [upstream.origin],
      resolve: async () => (resolved++, ['10.0.0.1']),
    })
    const error = await rejectsWith(client.request('https://evil.example/a.jpg'), 'blocked')
    expect(error.message).toContain('evil.example is not allowed')
    await rejectsWith(client.request('https://fbcdn.net/a.jpg'), 'blocked')
    expect(resolved).toBe(0)
    // Allowed by name, but the address check still applies.
    await rejectsWith(client.request('https://scontent.xx.fbcdn.net/a.jpg'), 'blocked')
    expect(resolved).toBe(1)
    expect((await client.request(`${upstream.origin}/ok`)).status).toBe(200)
  })

  test('the resolver failing is a network error; a resolver that hangs hits the connect timeout', async () => {
    const failing = createHttpClient({
      limits: FAST,
      resolve: async () => {
        throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })
      },
    })
    await rejectsWith(failing.request('http://nowhere.example/'), 'network')
    const empty = createHttpClient({ limits: FAST, resolve: async () => [] })
    await rejectsWith(empty.request('http://nowhere.example/'), 'network')
    const hanging = createHttpClient({
      limits: { connectTimeoutMs: 100 },
      resolve: () => new Promise<string[]>(() => {}),
    })
    const started = performance.now()
    await rejectsWith(hanging.request('http://slow-dns.example/'), 'timeout')
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  test.each([
    ['not http(s)', 'ftp://example.com/x'],
    ['credentials in the URL', `http://user:pw@127.0.0.1:1/`],
    ['the allow-listed host as userinfo', 'http://pbs.twimg.com@evil.example/'],
    ['unparsable', 'http://[::1/'],
  ])('bad URL: %s', async (_name, url) => {
    await rejectsWith(trustingClient().request(url), 'bad_url')
  })
})

describe('pinning: one resolution per hop, and the connection goes to the validated address', () => {
  let second: TestServer | undefined

  beforeAll(async () => {
    // The same port on another loopback address: where a second resolution would send us.
    try {
      second = await startServer(() => new Response('second'), { hostname: '127.0.0.2', port: upstream.port })
    } catch {
      second = undefined // some systems only route 127.0.0.1
    }
  })
  afterAll(() => second?.stop())

  test('http: the name is resolved once, by us; Bun connects to the IP and sends the original Host', async () => {
    const answers = [['127.0.0.1'], ['127.0.0.2']]
    const resolved: string[] = []
    const origin = `http://pinned.test:${upstream.port}` // not resolvable by the system: only our resolver knows it
    const client = createHttpClient({
      limits: FAST,
      trustedOrigins: [origin],
      resolve: async (h) => (resolved.push(h), answers[resolved.length - 1] ?? []),
    })
    const before = upstream.seen.length
    const res = await client.request(`${origin}/echo`)
    expect(res.json()).toMatchObject({ host: `pinned.test:${upstream.port}` })
    expect(res.url).toBe(`${origin}/echo`)
    expect(resolved).toEqual(['pinned.test'])
    expect(upstream.seen.length).toBe(before + 1)
    expect(second?.seen.length ?? 0).toBe(0)
  })

  test('each redirect hop is resolved exactly once', async () => {
    let calls = 0
    const origin = `http://pinned.test:${upstream.port}`
    const client = createHttpClient({
      limits: FAST,
      trustedOrigins: [origin],
      resolve: async () => (calls++, ['127.0.0.1']),
    })
    const res = await client.request(`${origin}/chain/2`) // /chain/2 → /chain/1 → /chain/0 → /ok
    expect(res.text()).toBe('hello')
    expect(calls).toBe(4)
  })

  test('an HTTP(S)_PROXY in the environment is ignored: a proxy would resolve the name itself', async () => {
    const proxy = await startServer(() => new Response('via proxy'))
    const names = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy'] as const
    const saved = names.map((n) => process.env[n])
    try {
      for (const n of names) process.env[n] = proxy.origin
      const origin = `http://pinned.test:${upstream.port}`
      const client = createHttpClient({ limits: FAST, trustedOrigins: [origin], resolve: async () => ['127.0.0.1'] })
      expect((await client.request(`${origin}/ok`)).text()).toBe('hello')
      expect(proxy.seen).toEqual([])
    } finally {
      names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])))
      proxy.stop()
    }
  })

  test('a failed connection to one validated address moves on to the next one', async () => {
    const origin = `http://pinned.test:${upstream.port}`
    const client = createHttpClient({
      limits: FAST,
      trustedOrigins: [origin],
      resolve: async () => ['127.0.0.3', '127.0.0.1'],
    })
    // 127.0.0.3 has nothing listening on that port (ECONNREFUSED), 127.0.0.1 has the upstream.
    const answer = await client.request(`${origin}/ok`)
    expect(answer.text()).toBe('hello')
  })
})

describe('redirects', () => {
  test('a relative redirect chain within the limit is followed; the final URL is reported', async () => {
    const res = await trustingClient().request(`${upstream.origin}/chain/3`) // 4 redirects ≤ 5
    expect(res.status).toBe(200)
    expect(res.text()).toBe('hello')
    expect(res.url).toBe(`${upstream.origin}/ok`)
  })

  test('one redirect too many is refused', async () => {
    const client = trustingClient({ limits: { maxRedirects: 3 } })
    await rejectsWith(client.request(`${upstream.origin}/chain/3`), 'too_many_redirects')
    expect((await client.request(`${upstream.origin}/chain/2`)).status).toBe(200)
  })

  test('followRedirects: false returns the redirect itself', async () => {
    const res = await trustingClient().request(`${upstream.origin}/chain/1`, { followRedirects: false })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('0')
  })

  const bounce = (to: string, status = 302): string =>
    `${upstream.origin}/to?status=${status}&url=${encodeURIComponent(to)}`

  test.each([
    ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/', 'blocked'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/', 'blocked'],
    ['a file URL', 'file:///etc/passwd', 'bad_url'],
    ['a URL with credentials', 'http://a:b@example.com/', 'bad_url'],
  ] as const)('from a trusted origin to %s is refused', async (_name, to, code) => {
    await rejectsWith(trustingClient().request(bounce(to)), code)
  })

  test('from a trusted origin to an untrusted loopback port is refused, and that service sees nothing', async () => {
    const before = other.seen.length
    await rejectsWith(trustingClient().request(bounce(`${other.origin}/`)), 'blocked')
    expect(other.seen.length).toBe(before)
  })

  test('from a trusted origin to itself (absolute Location) is followed', async () => {
    expect((await trustingClient().request(bounce(`${upstream.origin}/ok`))).text()).toBe('hello')
  })

  test('303 turns a POST into a GET without a body; 307 keeps both', async () => {
    const client = trustingClient()
    const see = await client.request(bounce('/echo', 303), { method: 'POST', body: 'x=1' })
    expect(see.json()).toMatchObject({ method: 'GET', body: '' })
    const keep = await client.request(bounce('/echo', 307), { method: 'POST', body: 'x=1' })
    expect(keep.json()).toMatchObject({ method: 'POST', body: 'x=1' })
  })

  test('Authorization survives a same-origin redirect but not a cross-origin one', async () => {
    const third = await startServer((req) => Response.json({ authorization: req.headers.get('authorization') }))
    try {
      const client = trustingClient({ trustedOrigins: [upstream.origin, third.origin] })
      const headers = { Authorization: 'Bearer secret' }
      expect((await client.request(bounce('/echo'), { headers })).json()).toMatchObject({
        authorization: 'Bearer secret',
      })
      expect((await client.request(bounce(`${third.origin}/`), { headers })).json()).toEqual({ authorization: null })
    } finally {
      third.stop()
    }
  })
})

describe('limits', () => {
  const small = (extra: HttpClientOptions['limits'] = {}) => trustingClient({ limits: { maxBytes: 4096, ...extra } })

  test('a Content-Length above the cap is refused before reading', async () => {
    const error = await rejectsWith(small().request(`${upstream.origin}/declared-big`), 'too_large')
    expect(error.message).toContain('4097')
  })

  test('a chunked body is cut off as soon as it passes the cap', async () => {
    await rejectsWith(small().request(`${upstream.origin}/chunked-big`), 'too_large')
    expect((await small().request(`${upstream.origin}/chunked-small`)).body.length).toBe(4096)
  })

  test('HEAD is not refused for the length of a body it does not get', async () => {
    const res = await small().request(`${upstream.origin}/declared-big`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.body.length).toBe(0)
  })

  test('a server that never sends headers hits the connect timeout', async () => {
    const started = performance.now()
    const error = await rejectsWith(
      small({ connectTimeoutMs: 150 }).request(`${upstream.origin}/stall-headers`),
      'timeout',
    )
    expect(error.message).toContain('connect timeout')
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  test('a body that stalls hits the total timeout', async () => {
    const started = performance.now()
    await rejectsWith(small({ totalTimeoutMs: 200 }).request(`${upstream.origin}/stall-body`), 'timeout')
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  test('timeoutMs overrides the total timeout per call', async () => {
    const started = performance.now()
    await rejectsWith(
      small({ totalTimeoutMs: 60_000 }).request(`${upstream.origin}/stall-body`, { timeoutMs: 150 }),
      'timeout',
    )
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})

describe('getImage()', () => {
  test('returns the bytes, sniffed format, header size and validators', async () => {
    const image = await trustingClient().getImage(`${upstream.origin}/png`)
    expect(image).toEqual({
      bytes: png,
      format: 'png',
      width: 12,
      height: 7,
      url: `${upstream.origin}/png`,
      etag: '"v1"',
      lastModified: 'Tue, 01 Jul 2025 00:00:00 GMT',
    })
  })

  test('follows redirects to the image and reports the final URL', async () => {
    const image = await trustingClient().getImage(`${upstream.origin}/to?url=%2Fpng`)
    expect(image.url).toBe(`${upstream.origin}/png`)
  })

  test('a non-2xx status is an http_status error carrying the status', async () => {
    const error = await rejectsWith(trustingClient().getImage(`${upstream.origin}/missing`), 'http_status')
    expect(error.status).toBe(404)
  })

  test('an HTML body is not an image, whatever its Content-Type says', async () => {
    await rejectsWith(trustingClient().getImage(`${upstream.origin}/html`), 'bad_image')
  })

  test('a body that ends inside the header is a bad image', async () => {
    await rejectsWith(trustingClient().getImage(`${upstream.origin}/truncated`), 'bad_image')
  })

  test('a 20000×20000 PNG header is refused as soon as it arrives, without waiting for the rest', async () => {
    // The server sends the header and then stalls: only an early check can answer before the timeout.
    const started = performance.now()
    const error = await rejectsWith(
      trustingClient({ limits: { totalTimeoutMs: 1_500 } }).getImage(`${upstream.origin}/bomb`),
      'too_many_pixels',
    )
    expect(error.message).toContain('20000x20000')
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  test('a GIF frame bomb (1×1 screen, 8000×8000 first frame) is refused from its header', async () => {
    const error = await rejectsWith(
      trustingClient({ limits: { totalTimeoutMs: 1_500 } }).getImage(`${upstream.origin}/gif-bomb`),
      'too_many_pixels',
    )
    expect(error.message).toContain('8000x8000')
  })

  test('a shared download cap: never more downloads at once than it allows, and every one completes', async () => {
    const downloads = createConcurrencyLimiter({ total: 2, perKey: 2 })
    const a = trustingClient({ downloads })
    const b = trustingClient({ downloads })
    peakInFlight = 0
    const images = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).getImage(`${upstream.origin}/slow-png`)),
    )
    expect(images.every((image) => image.format === 'png')).toBe(true)
    expect(peakInFlight).toBe(2)
  })

  test('the pixel limit is configurable', async () => {
    await rejectsWith(
      trustingClient({ limits: { maxPixels: 12 * 7 - 1 } }).getImage(`${upstream.origin}/png`),
      'too_many_pixels',
    )
    expect((await trustingClient({ limits: { maxPixels: 12 * 7 } }).getImage(`${upstream.origin}/png`)).width).toBe(12)
  })
})

// -------------------------------------------------------------------------------------------------------
// https pinning: connect to 127.0.0.1 while SNI and certificate verification use the original name.

const pki = makeTestPki()

describe.skipIf(!pki)('https pinning', () => {
  let tlsServer: TestServer
  let origin: string

  beforeAll(async () => {
    if (!pki) return
    // The default certificate is for decoy.test; pinned.test's is only served when SNI asks for it.
    tlsServer = await startServer((req) => Response.json({ host: req.headers.get('host') }), {
      tls: [
        { cert: pki.decoy.cert, key: pki.decoy.key },
        { serverName: 'pinned.test', cert: pki.pinned.cert, key: pki.pinned.key },
      ],
    })
    origin = `https://pinned.test:${tlsServer.port}`
  })
  afterAll(() => tlsServer?.stop())

  const client = (extra: HttpClientOptions = {}) =>
    createHttpClient({
      limits: FAST,
      trustedOrigins: [origin],
      resolve: async () => ['127.0.0.1'],
      ca: pki?.ca,
      ...extra,
    })

  test('connects to the pinned IP with SNI and Host for the original name, and verifies its certificate', async () => {
    const res = await client().request(`${origin}/`)
    expect(res.json()).toEqual({ host: `pinned.test:${tlsServer.port}` })
    expect(res.url).toBe(`${origin}/`)
  })

  test('a certificate for another name is refused', async () => {
    const wrongName = `https://other.test:${tlsServer.port}`
    const error = await rejectsWith(client({ trustedOrigins: [wrongName] }).request(`${wrongName}/`), 'network')
    expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID')
  })

  test('an unknown CA is refused, even with NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment', async () => {
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED
    try {
      await rejectsWith(client({ ca: undefined }).request(`${origin}/`), 'network')
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
      await rejectsWith(client({ ca: undefined }).request(`${origin}/`), 'network')
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved
    }
  })
})
