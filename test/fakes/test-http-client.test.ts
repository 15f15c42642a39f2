/**
 * The test HttpClient (test/helpers/http.ts) stands in for the real SSRF-safe client in plugin
 * tests, so it must keep the same contract: redirects, byte caps, FetchError codes, image sniffing.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { FetchError } from '../../src/fetch/types.ts'
import { hostMatches, sniffImage, testHttpClient } from '../helpers/http.ts'
import { colourOf, hasColourOf, isPictureOf, makePicture } from './images.ts'

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const url = new URL(request.url)
    const hops = Number(url.searchParams.get('hops') ?? 0)
    switch (url.pathname) {
      case '/redirect':
        return hops > 0
          ? new Response(null, { status: 302, headers: { location: `/redirect?hops=${hops - 1}` } })
          : Response.json({ method: request.method })
      case '/see-other':
        return new Response(null, { status: 303, headers: { location: '/redirect' } })
      case '/picture':
        return new Response(await makePicture('client', 30, 20, 'png'), { headers: { etag: '"v1"', 'last-modified': 'Tue, 01 Sep 2026 00:00:00 GMT' } })
      case '/text':
        return new Response('hello')
      case '/big':
        return new Response(new Uint8Array(4096))
      case '/missing':
        return new Response('gone', { status: 404 })
      case '/elsewhere':
        return new Response(null, { status: 302, headers: { location: 'http://localhost:1/x' } })
      default:
        return new Response('?', { status: 500 })
    }
  },
})
const origin = `http://127.0.0.1:${server.port}`
afterAll(() => void server.stop(true))

async function fetchError(promise: Promise<unknown>): Promise<FetchError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof FetchError) return error
    throw error
  }
  throw new Error('expected a FetchError')
}

describe('testHttpClient.request', () => {
  const http = testHttpClient()

  test('follows up to 5 redirects, reporting the final URL', async () => {
    const response = await http.request(`${origin}/redirect?hops=5`)
    expect([response.status, response.url, response.json()]).toEqual([200, `${origin}/redirect?hops=0`, { method: 'GET' }])
  })

  test('a sixth redirect is too_many_redirects', async () => {
    expect((await fetchError(http.request(`${origin}/redirect?hops=6`))).code).toBe('too_many_redirects')
  })

  test('followRedirects:false hands back the 3xx itself', async () => {
    const response = await http.request(`${origin}/redirect?hops=1`, { followRedirects: false })
    expect([response.status, response.headers.get('location')]).toEqual([302, '/redirect?hops=0'])
  })

  test('303 turns a POST into a GET', async () => {
    expect((await http.request(`${origin}/see-other`, { method: 'POST', body: 'x=1' })).json()).toEqual({ method: 'GET' })
  })

  test('HTTP error statuses are responses, not errors', async () => {
    const response = await http.request(`${origin}/missing`)
    expect([response.status, response.text()]).toEqual([404, 'gone'])
  })

  test('failures are FetchErrors: bad_url, network, too_large', async () => {
    expect((await fetchError(http.request('ftp://example.com/'))).code).toBe('bad_url')
    expect((await fetchError(http.request('http://127.0.0.1:1/'))).code).toBe('network')
    expect((await fetchError(testHttpClient({ limits: { maxBytes: 1000 } }).request(`${origin}/big`))).code).toBe('too_large')
  })

  test('with a scope, only trusted origins and allowed hosts are reachable, on every hop', async () => {
    const scoped = testHttpClient({ trustedOrigins: [origin], allowedHosts: ['*.example.com'] })
    expect((await scoped.request(`${origin}/text`)).text()).toBe('hello')
    expect((await fetchError(scoped.request(`http://127.0.0.1:1/`))).code).toBe('blocked')
    expect((await fetchError(scoped.request(`${origin}/elsewhere`))).code).toBe('blocked')
  })

  test('host patterns: exact names, and *.suffix for subdomains only', () => {
    expect([hostMatches('gravatar.com', 'gravatar.com'), hostMatches('0.gravatar.com', 'gravatar.com')]).toEqual([true, false])
    expect([hostMatches('0.gravatar.com', '*.gravatar.com'), hostMatches('gravatar.com', '*.gravatar.com'), hostMatches('evilgravatar.com', '*.gravatar.com')]).toEqual([true, false, false])
  })
})

describe('testHttpClient.getImage', () => {
  const http = testHttpClient()

  test('returns sniffed format, header dimensions and validators', async () => {
    const image = await http.getImage(`${origin}/picture`)
    expect(image).toMatchObject({ format: 'png', width: 30, height: 20, url: `${origin}/picture`, etag: '"v1"', lastModified: 'Tue, 01 Sep 2026 00:00:00 GMT' })
    expect(await isPictureOf(image.bytes, 'client')).toBe(true)
  })

  test('a non-2xx is http_status carrying the status', async () => {
    expect(await fetchError(http.getImage(`${origin}/missing`))).toMatchObject({ code: 'http_status', status: 404 })
  })

  test('a body that is not an image is bad_image; too many pixels is too_many_pixels', async () => {
    expect((await fetchError(http.getImage(`${origin}/text`))).code).toBe('bad_image')
    expect((await fetchError(testHttpClient({ limits: { maxPixels: 599 } }).getImage(`${origin}/picture`))).code).toBe('too_many_pixels')
  })
})

describe('sniffImage and the fakes’ pictures', () => {
  test.each(['jpg', 'png', 'gif', 'webp'] as const)('%s: format and size come from the header', async (format) => {
    expect(sniffImage(await makePicture('sniff', 37, 21, format))).toEqual({ format, width: 37, height: 21 })
  })

  test('extended WebP (VP8X) headers are read too', () => {
    const header = new Uint8Array(30)
    header.set(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8X'), 0)
    header.set([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x01, 0x00, 0x0f, 0x00, 0x00], 16) // 512 × 16
    expect(sniffImage(header)).toEqual({ format: 'webp', width: 512, height: 16 })
  })

  test('anything else is not an image', async () => {
    const jpeg = await makePicture('sniff', 37, 21, 'jpg')
    for (const bytes of [new Uint8Array(0), new TextEncoder().encode('<html>'), jpeg.subarray(0, 3)]) expect(sniffImage(bytes)).toBeUndefined()
  })

  test('pictures are deterministic, cached, and tell seeds apart', async () => {
    expect(await makePicture('alice', 16, 16)).toBe(await makePicture('alice', 16, 16))
    expect(colourOf('alice')).not.toEqual(colourOf('bob'))
    const alice = await makePicture('alice', 64, 64)
    expect(await isPictureOf(alice, 'alice')).toBe(true)
    expect(await isPictureOf(alice, 'bob')).toBe(false)
    expect(await hasColourOf(alice, 'alice')).toBe(true)
    expect(await hasColourOf(alice, 'bob')).toBe(false)
  })
})
