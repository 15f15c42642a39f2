import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import bluesky from './index.ts'
import { err, ok } from '../../src/plugin-host/types.ts'
import { startFakeBluesky, type FakeBluesky } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { download, loadPlugin, upstreamError } from '../../test/support/plugins.ts'

const NOW = Date.UTC(2026, 8, 1)
const ALICE = 'did:plc:z72i7hdynmk6r22z27h6tvur'
const BOB = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'

let fake: FakeBluesky
beforeEach(() => {
  fake = startFakeBluesky()
  fake.addProfile({ did: ALICE, handle: 'alice.bsky.social', avatar: { seed: 'alice', side: 1000 } })
  fake.addProfile({ did: BOB, handle: 'bob.example.com' })
})
afterEach(() => fake.stop())

const load = (env: Record<string, string | undefined> = fake.env) => loadPlugin(bluesky, env, { now: () => NOW })

describe('bluesky: ids', () => {
  test.each([
    ['alice.bsky.social', 'alice.bsky.social'],
    ['Alice.Bsky.Social', 'alice.bsky.social'],
    ['bsky.app', 'bsky.app'],
    ['xn--ls8h.test', 'xn--ls8h.test'],
    ['a-b.c-d.example.com', 'a-b.c-d.example.com'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
    [ALICE, ALICE],
    ['did:web:example.com', 'did:web:example.com'],
    ['did:web:Example.COM', 'did:web:example.com'],
    ['did:web:localhost.test%3A8080', 'did:web:localhost.test%3a8080'],
  ])('%p is %p', (raw, id) => {
    expect(bluesky.parseId(raw)).toEqual(ok(id))
  })

  test.each([
    '',
    'alice',
    'alice.',
    '.alice.com',
    '-alice.bsky.social',
    'alice-.bsky.social',
    'alice.bsky.123',
    'al ice.bsky.social',
    'alice_b.bsky.social',
    'alice@bsky.social',
    'alice.bsky.social/x',
    'bob.local',
    'bob.onion',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
    'ålice.bsky.social',
  ])('handle %p is refused', (raw) => {
    expect(bluesky.parseId(raw)).toEqual(err('expected a Bluesky handle or DID'))
  })

  test.each([
    'did:plc:z72i7hdynmk6r22z27h6tvu', // 23 characters
    'did:plc:Z72I7HDYNMK6R22Z27H6TVUR', // base32 is lower-case
    'did:plc:z72i7hdynmk6r22z27h6tvu1', // 1 is not base32
    'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    'did:web:',
    'did:web:not a host',
    'did:',
  ])('DID %p is refused', (raw) => {
    expect(bluesky.parseId(raw)).toEqual(err('expected a did:plc or did:web DID'))
  })

  test('the documented example is a valid id', () => {
    expect(bluesky.parseId(bluesky.id.example).ok).toBe(true)
  })
})

describe('bluesky: resolve', () => {
  test('an account with a picture resolves to its CDN avatar, keyed by the CID, and downloads', async () => {
    const loaded = load()
    const resolution = await loaded.resolve('alice.bsky.social')

    const cid = fake.profiles.get(ALICE)!.cid!
    expect(resolution).toEqual({
      kind: 'image',
      url: `${fake.url}/img/avatar/plain/${ALICE}/${cid}@jpeg`,
      changeKey: cid,
    })
    const image = await download(loaded, resolution)
    expect([image.format, image.width, image.height]).toEqual(['jpg', 1000, 1000])
    expect(await isPictureOf(image.bytes, 'alice')).toBe(true)
    expect([fake.requests.count('getProfile'), fake.requests.count('cdn')]).toEqual([1, 1])
  })

  test('one unauthenticated getProfile call, actor = the handle or DID as given', async () => {
    await load().resolve('alice.bsky.social')
    const byHandle = fake.requests.last('getProfile')!
    expect(byHandle.path).toBe('/xrpc/app.bsky.actor.getProfile')
    expect(Object.fromEntries(byHandle.query)).toEqual({ actor: 'alice.bsky.social' })
    expect(byHandle.headers.get('authorization')).toBeNull()
    await load().resolve(ALICE)
    expect(Object.fromEntries(fake.requests.last('getProfile')!.query)).toEqual({ actor: ALICE })
    expect(fake.requests.count('getProfile')).toBe(2)
  })

  test('the changeKey stays while the picture does, and changes with it', async () => {
    const loaded = load()
    const first = await loaded.resolve(ALICE)
    expect(await loaded.resolve(ALICE)).toEqual(first)
    fake.setAvatar(ALICE, { seed: 'alice-new', side: 800 })
    const second = await loaded.resolve(ALICE)
    expect(second.kind === 'image' && first.kind === 'image' && second.changeKey !== first.changeKey).toBe(true)
  })

  test('a CDN avatar URL of the real shape gives the CID as changeKey', async () => {
    const cid = 'bafkreihhp6rjgxfzwc7y7a4xdpjgdbhvjf5sm3jyxtbzp7kmxxc4wfcpkq'
    const avatar = `https://cdn.bsky.app/img/avatar/plain/${ALICE}/${cid}@jpeg`
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => Response.json({ did: ALICE, handle: 'alice.bsky.social', avatar }),
    })
    try {
      const resolution = await load({ HEADSHOT_BLUESKY_API_URL: `http://127.0.0.1:${server.port}` }).resolve(ALICE)
      expect(resolution).toEqual({ kind: 'image', url: avatar, changeKey: cid })
    } finally {
      server.stop(true)
    }
  })

  test('an account without an avatar is none', async () => {
    expect(await load().resolve('bob.example.com')).toEqual({ kind: 'none' })
    expect(fake.requests.count('cdn')).toBe(0)
  })

  test('an unknown handle or DID (400 "Profile not found") is not_found', async () => {
    expect(await load().resolve('nobody.bsky.social')).toEqual({ kind: 'not_found' })
    expect(await load().resolve('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).toEqual({ kind: 'not_found' })
  })

  test('a deactivated account is not_found', async () => {
    fake.profiles.get(BOB)!.deactivated = true
    expect(await load().resolve(BOB)).toEqual({ kind: 'not_found' })
  })
})

describe('bluesky: failures', () => {
  test('429 is rate_limited, with retryAt from RateLimit-Reset (Unix seconds)', async () => {
    fake.modes.rateLimited = true
    fake.modes.rateLimitReset = NOW / 1000 + 240
    expect(await upstreamError(load().resolve(ALICE))).toMatchObject({
      code: 'rate_limited',
      retryAt: NOW + 240_000,
      message: expect.stringContaining('RateLimitExceeded'),
    })
  })

  test("a small RateLimit-Reset is delta-seconds (the draft's reading); Retry-After is the fallback", async () => {
    for (const [headers, retryAt] of [
      [{ 'ratelimit-reset': '90' }, NOW + 90_000],
      [{ 'retry-after': '30' }, NOW + 30_000],
      [{}, undefined],
    ] as const) {
      const server = Bun.serve({
        hostname: '127.0.0.1',
        port: 0,
        fetch: () =>
          Response.json({ error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' }, { status: 429, headers }),
      })
      try {
        const error = await upstreamError(
          load({ HEADSHOT_BLUESKY_API_URL: `http://127.0.0.1:${server.port}` }).resolve(ALICE),
        )
        expect([error.code, error.retryAt]).toEqual(['rate_limited', retryAt])
      } finally {
        server.stop(true)
      }
    }
  })

  test('a 5xx is unavailable', async () => {
    fake.modes.failure = 'server_error'
    expect(await upstreamError(load().resolve(ALICE))).toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('HTTP 500'),
    })
  })

  test('an HTML page instead of JSON is unavailable', async () => {
    fake.modes.failure = 'garbage'
    expect(await upstreamError(load().resolve(ALICE))).toMatchObject({ code: 'unavailable' })
  })

  test('another 400 (not "not found") is unavailable, not cached as a missing account', async () => {
    fake.stop()
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () =>
        Response.json(
          { error: 'InvalidRequest', message: 'Error: actor must be a valid did or a handle' },
          { status: 400 },
        ),
    })
    try {
      const error = await upstreamError(
        load({ HEADSHOT_BLUESKY_API_URL: `http://127.0.0.1:${server.port}` }).resolve(ALICE),
      )
      expect(error.code).toBe('unavailable')
    } finally {
      server.stop(true)
    }
  })

  test('an unreachable AppView is unavailable', async () => {
    fake.stop()
    expect(await upstreamError(load().resolve(ALICE))).toMatchObject({ code: 'unavailable' })
  })
})

describe('bluesky: settings and hosts', () => {
  test('public and unauthenticated: not restricted by default; avatars come from cdn.bsky.app', () => {
    expect(bluesky.restrictedByDefault).toBe(false)
    expect(bluesky.hosts).toEqual(['cdn.bsky.app'])
    expect(loadPlugin(bluesky, {}).allowedHosts).toContain('public.api.bsky.app')
  })
})
