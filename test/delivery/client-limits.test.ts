/**
 * Per-client limits on new work, and the limits that need no image checked before the upstream.
 *
 * A client (its address, or what a trusted proxy says it is) may make HEADSHOT_CLIENT_BURST unsigned
 * requests that start work (an upstream fetch, a new derived image or placeholder variant) at once,
 * then HEADSHOT_CLIENT_RATE a minute. Whatever is stored is served to anyone without limit.
 * `app.handle` has no socket, so these tests name the peer through the `clientIp` option; the last
 * block goes through a real listening server.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { makePicture } from '../support/fakes/images.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let headshot: Headshot
let placeholders: string
let clock = Date.now()
let people = 0

/** A Gravatar user nobody has asked for yet. */
const newPerson = () => gravatar.addEmail(`person${people++}@example.com`).md5
const NOBODY = 'ffffffffffffffffffffffffffffffff'

/** A request from `peer` (the socket address), optionally with an X-Forwarded-For header. */
function from(peer: string, path: string, forwardedFor?: string): Promise<Response> {
  const headers: Record<string, string> = { 'x-test-peer': peer }
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor
  return headshot.get(path, { headers })
}

/** Spend what is left of a client's allowance on new pictures, up to its first 429. */
async function exhaust(peer: string, forwardedFor?: string): Promise<void> {
  for (let i = 0; i <= 3; i++) {
    const response = await from(peer, `/image/gravatar/c_fill,h_40,w_40/${newPerson()}.jpg`, forwardedFor)
    if (response.status === 429) return
    expect(response.status).toBe(200)
  }
  throw new Error(`${peer} was never limited`)
}

beforeAll(async () => {
  gravatar = startFakeGravatar()
  placeholders = mkdtempSync(join(tmpdir(), 'headshot-client-limits-'))
  writeFileSync(join(placeholders, 'anon.png'), await makePicture('anon', 64, 64, 'png'))
  headshot = await startHeadshot(
    {
      ...gravatar.env,
      HEADSHOT_CLIENT_RATE: '60', // one a second
      HEADSHOT_CLIENT_BURST: '3',
      HEADSHOT_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8',
      HEADSHOT_PLACEHOLDERS_DIR: placeholders,
    },
    {
      clientIp: (request) => request.headers.get('x-test-peer') ?? undefined,
      // Every request reaches the store: a warm hit here is a stored image, not a remembered response.
      hotCacheTtlMs: 0,
      now: () => clock,
    },
  )
})

afterAll(async () => {
  await headshot.close()
  gravatar.stop()
  rmSync(placeholders, { recursive: true, force: true })
})

describe('new work is limited per client', () => {
  test('the burst is spent one request at a time (fetch and derive together cost one), then 429', async () => {
    const peer = '198.51.100.1'
    for (let i = 0; i < 3; i++) {
      const response = await from(peer, `/image/gravatar/c_fill,h_40,w_40/${newPerson()}.jpg`)
      expect(response.status).toBe(200)
    }
    const limitedBefore = await headshot.metric('client_limited_total')
    const refused = newPerson()
    const calls = gravatar.requests.count()
    const response = await from(peer, `/image/gravatar/c_fill,h_40,w_40/${refused}.jpg`)
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBe('1')
    expect(response.headers.get('x-cld-error')).toBe('Too many new images requested by this client; retry in 1 s')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await headshot.metric('client_limited_total')).toBe(limitedBefore + 1)
    // Refused before the work started: no upstream call, no row.
    expect(gravatar.requests.count()).toBe(calls)
    expect(await headshot.app.manage.get('gravatar', refused)).toBeUndefined()

    // Another client is not affected; the first one gets a token back a second later.
    expect((await from('198.51.100.2', `/image/gravatar/c_fill,h_40,w_40/${refused}.jpg`)).status).toBe(200)
    clock += 1000
    expect((await from(peer, `/image/gravatar/c_fill,h_41,w_41/${refused}.jpg`)).status).toBe(200)
    expect((await from(peer, `/image/gravatar/c_fill,h_42,w_42/${refused}.jpg`)).status).toBe(429)
  })

  test('a warm hit is never limited: stored derived images and originals, however often', async () => {
    const peer = '198.51.100.3'
    const hash = newPerson()
    const derived = `/image/gravatar/c_fill,h_40,w_40/${hash}.jpg`
    expect((await from(peer, derived)).status).toBe(200)
    await exhaust(peer)
    for (let i = 0; i < 20; i++) expect((await from(peer, derived)).status).toBe(200)
    // The untransformed original in its own format is the stored original itself.
    expect((await from('198.51.100.4', `/image/gravatar/${hash}.jpg`)).status).toBe(200)
    for (let i = 0; i < 20; i++) expect((await from(peer, `/image/gravatar/${hash}.jpg`)).status).toBe(200)
    // A remembered "no picture" is an answer from the store too.
    expect((await from('198.51.100.4', `/image/gravatar/${NOBODY}.jpg`)).status).toBe(404)
    expect((await from(peer, `/image/gravatar/${NOBODY}.jpg`)).status).toBe(404)
    // But a new size of a stored picture is new work.
    expect((await from(peer, `/image/gravatar/c_fill,h_50,w_50/${hash}.jpg`)).status).toBe(429)
  })

  test('a new variant of a default image is new work; one already made is not', async () => {
    const peer = '198.51.100.5'
    const made = `/image/gravatar/c_fill,d_anon.png,h_30,w_30/${NOBODY}.png`
    expect((await from('198.51.100.6', made)).status).toBe(200)
    await exhaust(peer)
    expect((await from(peer, made)).status).toBe(200)
    expect((await from(peer, `/image/gravatar/c_fill,d_anon.png,h_31,w_31/${NOBODY}.png`)).status).toBe(429)
  })

  test('requests joining work already under way do not pay for it', async () => {
    const peer = '198.51.100.7'
    await exhaust(peer)
    clock += 1000 // exactly one token
    const path = `/image/gravatar/c_fill,h_40,w_40/${newPerson()}.jpg`
    const responses = await Promise.all([from(peer, path), from(peer, path), from(peer, path)])
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200])
  })

  test('signed URLs are not limited: the work they can cause is what the owner signed', async () => {
    const peer = '198.51.100.8'
    await exhaust(peer)
    for (let i = 0; i < 5; i++) {
      expect((await from(peer, headshot.sign(`/image/gravatar/c_fill,h_40,w_40/${newPerson()}.jpg`))).status).toBe(200)
    }
  })

  test('IPv6 clients are limited by their /64', async () => {
    await exhaust('2001:db8:1:2::1')
    expect((await from('2001:db8:1:2:ffff:ffff:ffff:ffff', `/image/gravatar/w_40/${newPerson()}.jpg`)).status).toBe(429)
    expect((await from('2001:db8:1:3::1', `/image/gravatar/w_40/${newPerson()}.jpg`)).status).toBe(200)
  })
})

describe('who the client is', () => {
  test('X-Forwarded-For from a peer that is not a trusted proxy is ignored: rotating it escapes nothing', async () => {
    const peer = '203.0.113.50'
    await exhaust(peer, '192.0.2.1')
    for (let i = 2; i < 12; i++) {
      const response = await from(peer, `/image/gravatar/w_40/${newPerson()}.jpg`, `192.0.2.${i}`)
      expect(response.status).toBe(429)
    }
  })

  test('X-Forwarded-For from a trusted proxy names the client; what the client wrote to its left does not', async () => {
    const proxy = '10.1.2.3'
    await exhaust(proxy, '203.0.113.60')
    // The same client through another of our proxies, or with a forged entry in front: still limited.
    expect((await from('fd00::5', `/image/gravatar/w_40/${newPerson()}.jpg`, '203.0.113.60')).status).toBe(429)
    const forged = `/image/gravatar/w_40/${newPerson()}.jpg`
    expect((await from(proxy, forged, '203.0.113.99, 203.0.113.60')).status).toBe(429)
    // Other clients behind the same proxy have buckets of their own.
    expect((await from(proxy, `/image/gravatar/w_40/${newPerson()}.jpg`, '203.0.113.61')).status).toBe(200)
    expect((await from(proxy, `/image/gravatar/w_40/${newPerson()}.jpg`, '203.0.113.99')).status).toBe(200)
  })
})

describe('through a listening server', () => {
  let served: Headshot
  let base: string

  beforeAll(async () => {
    served = await startHeadshot({
      ...gravatar.env,
      HEADSHOT_CLIENT_RATE: '1',
      HEADSHOT_CLIENT_BURST: '2',
      HEADSHOT_TRUSTED_PROXIES: '127.0.0.1',
    })
    served.app.app.listen({ port: 0, hostname: '127.0.0.1' })
    base = `http://127.0.0.1:${served.app.app.server!.port}`
  })

  afterAll(async () => {
    await served.app.app.stop()
    await served.close()
  })

  test('the socket peer is the client, and a trusted peer is asked who it forwards for', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers })
    // From 127.0.0.1 itself (no X-Forwarded-For): its own bucket of 2.
    expect((await get(`/image/gravatar/w_40/${newPerson()}.jpg`)).status).toBe(200)
    expect((await get(`/image/gravatar/w_40/${newPerson()}.jpg`)).status).toBe(200)
    const limited = await get(`/image/gravatar/w_40/${newPerson()}.jpg`)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(50)
    // 127.0.0.1 is trusted here, so a client it forwards for has a bucket of its own.
    const forwarded = { 'x-forwarded-for': '198.51.100.77' }
    expect((await get(`/image/gravatar/w_40/${newPerson()}.jpg`, forwarded)).status).toBe(200)
    expect((await get(`/image/gravatar/w_40/${newPerson()}.jpg`, forwarded)).status).toBe(200)
    expect((await get(`/image/gravatar/w_40/${newPerson()}.jpg`, forwarded)).status).toBe(429)
  })
})
