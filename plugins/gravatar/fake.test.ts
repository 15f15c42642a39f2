/** The fake Gravatar behaves like the real image endpoint, so plugin tests against it mean something. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { sniffImage } from '../../test/support/http.ts'
import { gravatarSize, startFakeGravatar, type FakeGravatar } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'

const UNKNOWN = 'f'.repeat(64)
let fake: FakeGravatar
let hashes: { md5: string; sha256: string }
beforeEach(() => {
  fake = startFakeGravatar()
  hashes = fake.addEmail('MyEmailAddress@example.com ')
})
afterEach(() => fake.stop())

async function avatar(path: string, init?: RequestInit) {
  const response = await fetch(`${fake.url}/avatar/${path}`, init)
  const bytes = new Uint8Array(await response.arrayBuffer())
  return { response, bytes, image: sniffImage(bytes) }
}

describe('fake Gravatar', () => {
  test('addEmail hashes like Gravatar (trim, lower-case): the documented SHA-256 and MD5', () => {
    expect(hashes).toEqual({
      sha256: '84059b07d4be67b806386c0aad8070a23f18836bbaae342275dc0a83414c32ee',
      md5: '0bc83cb571cd1c50ba6f3e8a78ef1346',
    })
  })

  test('a known hash (either kind, any case, with or without .jpg/.png) is the user picture', async () => {
    for (const path of [
      hashes.sha256,
      hashes.md5,
      hashes.sha256.toUpperCase(),
      `${hashes.md5}.jpg`,
      `${hashes.sha256}.png`,
    ]) {
      const { response, bytes } = await avatar(`${path}?s=64`)
      expect(response.status).toBe(200)
      expect(await isPictureOf(bytes, 'myemailaddress@example.com')).toBe(true)
    }
  })

  test.each([
    ['?s=64', 64],
    ['?size=120', 120],
    ['', 80],
    ['?s=0', 1],
    ['?s=-5', 1],
    ['?s=5000', 2048],
    ['?s=big', 80],
  ])('size %p → %p px square', async (query, side) => {
    const { image } = await avatar(`${hashes.sha256}${query}`)
    expect(image).toEqual({ format: 'jpg', width: side, height: side })
  })

  test('an unknown hash: 404 with d=404, the Gravatar logo without d, a generated picture with another d', async () => {
    expect((await avatar(`${UNKNOWN}?d=404`)).response.status).toBe(404)
    expect((await avatar(`${UNKNOWN}?default=404`)).response.status).toBe(404)

    const logo = await avatar(`${UNKNOWN}?s=40`)
    expect([logo.response.status, logo.image?.format]).toEqual([200, 'png'])
    expect(await isPictureOf(logo.bytes, 'gravatar-logo')).toBe(true)

    const identicon = await avatar(`${UNKNOWN}?s=40&d=identicon`)
    expect(identicon.response.status).toBe(200)
    expect(await isPictureOf(identicon.bytes, 'gravatar-logo')).toBe(false)
  })

  test('forcedefault=y shows the default even for a known hash', async () => {
    expect((await avatar(`${hashes.sha256}?d=404&f=y`)).response.status).toBe(404)
  })

  test('caching headers: Last-Modified, Expires 5 minutes ahead; If-Modified-Since → 304', async () => {
    const { response } = await avatar(`${hashes.sha256}?s=32`)
    const lastModified = response.headers.get('last-modified')!
    expect(Date.parse(lastModified)).toBeLessThan(Date.now())
    const expiresIn = Date.parse(response.headers.get('expires')!) - Date.now()
    expect(expiresIn).toBeGreaterThan(290_000)
    expect(expiresIn).toBeLessThanOrEqual(300_000)
    expect(response.headers.get('cache-control')).toBe('max-age=300')

    const revalidated = await avatar(`${hashes.sha256}?s=32`, { headers: { 'if-modified-since': lastModified } })
    expect([revalidated.response.status, revalidated.bytes.length]).toEqual([304, 0])
  })

  test('gravatarSize clamps to 1..2048 with 80 as the default', () => {
    expect([
      gravatarSize(null),
      gravatarSize('1'),
      gravatarSize('2048'),
      gravatarSize('2049'),
      gravatarSize('1.5'),
    ]).toEqual([80, 1, 2048, 2048, 80])
  })

  test('failure modes and per-route counters', async () => {
    fake.modes.failure = 'rate_limited'
    expect((await avatar(hashes.sha256)).response.status).toBe(429)
    fake.modes.failure = 'server_error'
    expect((await avatar(hashes.sha256)).response.status).toBe(500)
    fake.modes.failure = 'garbage'
    const garbage = await avatar(hashes.sha256)
    expect([garbage.response.status, garbage.image]).toEqual([200, undefined])
    expect(fake.requests.count('avatar')).toBe(3)
  })

  test('a delay holds every answer back; arrivals are counted before it, the log after', async () => {
    fake.modes.delayMs = 150
    const started = performance.now()
    const answer = avatar(hashes.sha256)
    await Bun.sleep(50)
    expect([fake.arrived, fake.requests.count('avatar')]).toEqual([1, 0])
    expect((await answer).response.status).toBe(200)
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    expect([fake.arrived, fake.requests.count('avatar')]).toEqual([1, 1])
  })
})
