/**
 * Bluesky end to end: unsigned delivery URLs (a public network) by handle or DID against the fake
 * AppView and CDN; a re-check that finds the same CID skips the download.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { probeImage } from '../../src/lib/image-header.ts'
import { startFakeBluesky, type FakeBluesky } from '../../plugins/bluesky/fake.ts'
import { hasColourOf } from '../support/fakes/images.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

const ALICE = 'did:plc:z72i7hdynmk6r22z27h6tvur'
const CAROL = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'

let bluesky: FakeBluesky
let headshot: Headshot
let clock = Date.now()

async function picture(response: Response) {
  const bytes = new Uint8Array(await response.arrayBuffer())
  const probe = probeImage(bytes)
  if (!probe.ok) throw new Error(probe.error)
  return { bytes, format: probe.value.format, width: probe.value.width, height: probe.value.height }
}

beforeAll(async () => {
  bluesky = startFakeBluesky()
  bluesky.addProfile({ did: ALICE, handle: 'alice.bsky.social', avatar: { seed: 'alice', side: 1000 } })
  bluesky.addProfile({
    did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaab',
    handle: 'bob.example.com',
    avatar: { seed: 'bob', side: 400 },
  })
  bluesky.addProfile({ did: CAROL, handle: 'carol.bsky.social' })
  headshot = await startHeadshot({ ...bluesky.env, HEADSHOT_SWEEP_RATE: '600' }, { now: () => clock })
})

afterAll(async () => {
  await headshot.close()
  bluesky.stop()
})

describe('bluesky delivery', () => {
  test("a transformed URL by handle returns that person's picture at the asked size (unsigned: not restricted)", async () => {
    const response = await headshot.get('/image/bluesky/c_fill,h_120,w_80/alice.bsky.social.jpg')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/jpeg')
    const image = await picture(response)
    expect([image.format, image.width, image.height]).toEqual(['jpg', 80, 120])
    expect(await hasColourOf(image.bytes, 'alice')).toBe(true)
  })

  test('the last dot-segment of a handle is not a format: no extension keeps the whole handle', async () => {
    const response = await headshot.get('/image/bluesky/w_50/bob.example.com')
    expect(response.status).toBe(200)
    const image = await picture(response)
    expect([image.width, image.height]).toEqual([50, 50])
    expect(await hasColourOf(image.bytes, 'bob')).toBe(true)
  })

  test('by DID (the colons stay in the id), to PNG', async () => {
    const response = await headshot.get(`/image/bluesky/c_scale,w_64/${ALICE}.png`)
    expect(response.status).toBe(200)
    const image = await picture(response)
    expect([image.format, image.width, image.height]).toEqual(['png', 64, 64])
    expect(await hasColourOf(image.bytes, 'alice')).toBe(true)
  })

  test('a missing actor → 404, remembered (asked once)', async () => {
    const path = '/image/bluesky/w_40/nobody.bsky.social.jpg'
    const before = bluesky.requests.count('getProfile')
    const response = await headshot.get(path)
    expect(response.status).toBe(404)
    expect(response.headers.get('x-cld-error')).toBe('Resource not found - nobody.bsky.social')
    expect((await headshot.get(path)).status).toBe(404)
    expect(bluesky.requests.count('getProfile')).toBe(before + 1)
  })

  test('an account without an avatar → 404', async () => {
    expect((await headshot.get('/image/bluesky/carol.bsky.social.jpg')).status).toBe(404)
  })

  test('a malformed id → 400 without asking Bluesky', async () => {
    const before = bluesky.requests.count()
    const response = await headshot.get('/image/bluesky/not_a_handle.jpg')
    expect(response.status).toBe(400)
    expect(bluesky.requests.count()).toBe(before)
  })

  test('a rate-limited AppView with nothing stored → 503 with Retry-After', async () => {
    bluesky.modes.rateLimited = true
    bluesky.modes.rateLimitReset = Math.floor(Date.now() / 1000) + 120
    try {
      const response = await headshot.get('/image/bluesky/someone-new.bsky.social.jpg')
      expect(response.status).toBe(503)
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
    } finally {
      bluesky.modes.rateLimited = false
    }
  })

  test('a re-check with the same CID costs one getProfile per picture and no download; a new CID is fetched', async () => {
    const profiles = bluesky.requests.count('getProfile')
    const downloads = bluesky.requests.count('cdn')
    clock += 8 * 86_400_000
    await headshot.app.sweeper.tick()
    // alice.bsky.social, bob.example.com and alice's DID are stored pictures: one call each.
    const asked = bluesky.requests
      .to('getProfile')
      .slice(profiles)
      .map((request) => request.query.get('actor'))
    expect(asked.sort()).toEqual(['alice.bsky.social', 'bob.example.com', ALICE])
    expect(bluesky.requests.count('cdn')).toBe(downloads)

    bluesky.setAvatar(ALICE, { seed: 'alice-new', side: 500 })
    clock += 8 * 86_400_000
    await headshot.app.sweeper.tick()
    // Stored twice, by handle and by DID: both ids see the new CID and fetch it.
    expect(bluesky.requests.count('cdn')).toBe(downloads + 2)
    const response = await headshot.get(`/image/bluesky/c_scale,w_64/${ALICE}.png`)
    expect(await hasColourOf((await picture(response)).bytes, 'alice-new')).toBe(true)
  })
})
