/**
 * Mastodon end to end: `/image/mastodon/…/user@server.ext` through the whole server, against the
 * fake on loopback. The fake is reached as the operator's "local server" (an explicitly configured,
 * trusted base URL); every other server goes through the SSRF guard, with DNS answers injected.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { probeImage } from '../../src/lib/image-header.ts'
import { startFakeMastodon, type FakeMastodon } from '../../plugins/mastodon/fake.ts'
import { hasColourOf } from '../support/fakes/images.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

const SERVER = 'mastodon.example'

let fake: FakeMastodon
let headshot: Headshot
const lookedUp: string[] = []

beforeAll(async () => {
  fake = startFakeMastodon()
  fake.addAccount('Gargron', { seed: 'gargron', side: 400 })
  fake.addAccount('nopic', 'missing')
  headshot = await startHeadshot(
    {
      HEADSHOT_MASTODON_LOCAL_SERVER: SERVER,
      HEADSHOT_MASTODON_LOCAL_SERVER_URL: fake.url,
      HEADSHOT_MASTODON_DENIED_SERVERS: '*.denied.example',
    },
    {
      // Only names the tests chose resolve; the guard judges the answers.
      resolve: async (hostname) => {
        lookedUp.push(hostname)
        if (hostname === 'private.example') return ['10.0.0.7']
        if (hostname === 'metadata.example') return ['169.254.169.254']
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
      },
    },
  )
})

afterAll(async () => {
  await headshot.close()
  fake.stop()
})

beforeEach(() => {
  fake.requests.reset()
  lookedUp.length = 0
})

describe('mastodon delivery', () => {
  test('a signed URL returns the transformed avatar: one lookup, one download', async () => {
    const response = await headshot.get(headshot.sign(`/image/mastodon/c_fill,h_64,w_64/Gargron@${SERVER}.png`))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/png')
    const bytes = new Uint8Array(await response.arrayBuffer())
    const probe = probeImage(bytes)
    expect(probe.ok && [probe.value.format, probe.value.width, probe.value.height]).toEqual(['png', 64, 64])
    expect(await hasColourOf(bytes, 'gargron')).toBe(true)
    expect([fake.requests.count('lookup'), fake.requests.count('media')]).toEqual([1, 1])
  })

  test('the server part is case-insensitive: same picture, no new lookup', async () => {
    const response = await headshot.get(headshot.sign(`/image/mastodon/c_fill,h_64,w_64/Gargron@MASTODON.Example.png`))
    expect(response.status).toBe(200)
    expect(fake.requests.count('lookup')).toBe(0)
  })

  test('restricted by default: an unsigned URL is 401 and asks nobody', async () => {
    expect((await headshot.get(`/image/mastodon/Gargron@${SERVER}.jpg`)).status).toBe(401)
    expect(fake.requests.count()).toBe(0)
  })

  test('no picture (missing.png) and an unknown account are 404', async () => {
    for (const user of ['nopic', 'nobody']) {
      const response = await headshot.get(headshot.sign(`/image/mastodon/${user}@${SERVER}.jpg`))
      expect(response.status).toBe(404)
    }
    expect(fake.requests.count('missing')).toBe(0)
  })

  test('a bad id is 400', async () => {
    for (const id of ['Gargron', 'Gargron@127.0.0.1', 'Gargron@localhost', 'gar.gron@mastodon.social']) {
      const response = await headshot.get(headshot.sign(`/image/mastodon/${id}.jpg`))
      expect(response.status).toBe(400)
    }
    expect(lookedUp).toEqual([])
  })

  test('a denied server is 404 without a DNS lookup or a request', async () => {
    const response = await headshot.get(headshot.sign('/image/mastodon/Gargron@mastodon.denied.example.jpg'))
    expect(response.status).toBe(404)
    expect(lookedUp).toEqual([])
  })

  test('a server on a private address is refused by the SSRF guard: 502', async () => {
    for (const server of ['private.example', 'metadata.example']) {
      const response = await headshot.get(headshot.sign(`/image/mastodon/Gargron@${server}.jpg`))
      expect(response.status).toBe(502)
    }
    expect(lookedUp).toEqual(['private.example', 'metadata.example'])
  })

  test('a rate-limited server is 503 with Retry-After from X-RateLimit-Reset, and is not asked again', async () => {
    fake.modes.rateLimitedForSeconds = 120
    try {
      const response = await headshot.get(headshot.sign(`/image/mastodon/someone@${SERVER}.jpg`))
      expect(response.status).toBe(503)
      const retryAfter = Number(response.headers.get('retry-after'))
      expect(retryAfter).toBeGreaterThan(100)
      expect(retryAfter).toBeLessThanOrEqual(120)
      const again = await headshot.get(headshot.sign(`/image/mastodon/other@${SERVER}.jpg`))
      expect(again.status).toBe(503)
      expect(fake.requests.count('lookup')).toBe(1)
    } finally {
      fake.modes.rateLimitedForSeconds = undefined
    }
  })
})
