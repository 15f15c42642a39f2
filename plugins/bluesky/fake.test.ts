/** The fake AppView behaves like the real getProfile and CDN, so plugin tests against it mean something. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { sniffImage } from '../../test/support/http.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { startFakeBluesky, type FakeBluesky } from './fake.ts'

const ALICE = 'did:plc:z72i7hdynmk6r22z27h6tvur'
const BOB = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'

let fake: FakeBluesky
beforeEach(() => {
  fake = startFakeBluesky()
  fake.addProfile({
    did: ALICE,
    handle: 'alice.bsky.social',
    displayName: 'Alice',
    avatar: { seed: 'alice', side: 400 },
  })
  fake.addProfile({ did: BOB, handle: 'bob.example.com' })
})
afterEach(() => fake.stop())

const getProfile = (actor: string | undefined) =>
  fetch(`${fake.url}/xrpc/app.bsky.actor.getProfile${actor === undefined ? '' : `?actor=${encodeURIComponent(actor)}`}`)

describe('fake getProfile', () => {
  test('a profile with a picture: did, handle and a content-addressed CDN avatar URL', async () => {
    const response = await getProfile('alice.bsky.social')
    expect(response.status).toBe(200)
    const profile = (await response.json()) as Record<string, unknown>
    expect(profile).toMatchObject({ did: ALICE, handle: 'alice.bsky.social', displayName: 'Alice' })
    expect(String(profile.avatar)).toMatch(
      new RegExp(`^${fake.url}/img/avatar/plain/${ALICE}/bafkrei[a-z2-7]{52}@jpeg$`),
    )
    expect(response.headers.get('ratelimit-limit')).toBe('3000')
  })

  test('by DID, and handles match case-insensitively', async () => {
    const byDid = (await (await getProfile(ALICE)).json()) as Record<string, unknown>
    const byUpper = (await (await getProfile('Alice.BSKY.social')).json()) as Record<string, unknown>
    expect(byDid.avatar).toBe(byUpper.avatar)
  })

  test('no picture: the avatar key is absent', async () => {
    const profile = (await (await getProfile('bob.example.com')).json()) as Record<string, unknown>
    expect(profile.did).toBe(BOB)
    expect('avatar' in profile).toBe(false)
  })

  test('unknown actor: 400 InvalidRequest "Profile not found"', async () => {
    for (const actor of ['nobody.bsky.social', 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa']) {
      const response = await getProfile(actor)
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({ error: 'InvalidRequest', message: 'Profile not found' })
    }
  })

  test('a deactivated account: 400 AccountDeactivated', async () => {
    fake.profiles.get(BOB)!.deactivated = true
    const response = await getProfile(BOB)
    expect([response.status, await response.json()]).toEqual([
      400,
      { error: 'AccountDeactivated', message: 'Account is deactivated' },
    ])
  })

  test('a missing or malformed actor is 400 InvalidRequest', async () => {
    for (const actor of [undefined, 'not a handle']) {
      const response = await getProfile(actor)
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: string }).error).toBe('InvalidRequest')
    }
  })

  test('rate limited: 429 RateLimitExceeded with RateLimit-* headers', async () => {
    fake.modes.rateLimited = true
    fake.modes.rateLimitReset = 2_000_000_000
    const response = await getProfile('alice.bsky.social')
    expect(response.status).toBe(429)
    expect(await response.json()).toEqual({ error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' })
    expect(response.headers.get('ratelimit-remaining')).toBe('0')
    expect(response.headers.get('ratelimit-reset')).toBe('2000000000')
  })

  test('server error and garbage modes', async () => {
    fake.modes.failure = 'server_error'
    expect((await getProfile('alice.bsky.social')).status).toBe(500)
    fake.modes.failure = 'garbage'
    const garbage = await getProfile('alice.bsky.social')
    expect([garbage.status, garbage.headers.get('content-type')]).toEqual([200, 'text/html'])
  })

  test('an unknown XRPC method is 501', async () => {
    expect((await fetch(`${fake.url}/xrpc/app.bsky.actor.nope`)).status).toBe(501)
  })
})

describe('fake CDN', () => {
  const avatarUrl = async (actor: string) => ((await (await getProfile(actor)).json()) as { avatar: string }).avatar

  test('serves the picture of the account at its side', async () => {
    const response = await fetch(await avatarUrl(ALICE))
    expect(response.status).toBe(200)
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect(sniffImage(bytes)).toEqual({ format: 'jpg', width: 400, height: 400 })
    expect(await isPictureOf(bytes, 'alice')).toBe(true)
  })

  test('a new picture has a new CID; the old URL is gone', async () => {
    const before = await avatarUrl(ALICE)
    fake.setAvatar(ALICE, { seed: 'alice-2', side: 300 })
    const after = await avatarUrl(ALICE)
    expect(after).not.toBe(before)
    expect((await fetch(before)).status).toBe(404)
    expect((await fetch(after)).status).toBe(200)
  })

  test('requests are counted per route', async () => {
    await fetch(await avatarUrl(ALICE))
    expect([fake.requests.count('getProfile'), fake.requests.count('cdn')]).toEqual([1, 1])
  })
})
