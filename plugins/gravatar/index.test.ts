import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import gravatar from './index.ts'
import { err, ok } from '../../src/plugin-host/types.ts'
import { startFakeGravatar, type FakeGravatar } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { loadPlugin, upstreamError } from '../../test/support/plugins.ts'

const MD5 = '0bc83cb571cd1c50ba6f3e8a78ef1346'
const SHA256 = '84059b07d4be67b806386c0aad8070a23f18836bbaae342275dc0a83414c32ee'

let fake: FakeGravatar
beforeEach(() => {
  fake = startFakeGravatar()
})
afterEach(() => fake.stop())

describe('gravatar: ids', () => {
  test.each([
    ['an MD5', MD5, MD5],
    ['a SHA-256', SHA256, SHA256],
    ['upper case (normalised)', SHA256.toUpperCase(), SHA256],
    ['a trailing .jpg', `${MD5}.jpg`, MD5],
    ['a trailing .PNG', `${SHA256}.PNG`, SHA256],
  ])('%s is a hash', (_case, raw, normalised) => {
    expect(gravatar.parseId(raw)).toEqual(ok(normalised))
  })

  test.each([
    ['empty', ''],
    ['an email address', 'MyEmailAddress@example.com'],
    ['31 hex digits', MD5.slice(1)],
    ['40 hex digits (SHA-1)', SHA256.slice(0, 40)],
    ['65 hex digits', `${SHA256}0`],
    ['a non-hex letter', `${MD5.slice(1)}g`],
    ['a .gif extension', `${MD5}.gif`],
    ['two extensions', `${MD5}.jpg.jpg`],
  ])('%s is refused', (_case, raw) => {
    expect(gravatar.parseId(raw)).toEqual(err('expected an MD5 or SHA-256 hex hash'))
  })
})

describe('gravatar: resolve', () => {
  test('a known hash is fetched directly at 2048×2048 (the image request is the API call)', async () => {
    const { sha256 } = fake.addEmail(' MyEmailAddress@example.com ')
    expect(sha256).toBe(SHA256)
    const loaded = loadPlugin(gravatar, fake.env)

    const resolution = await loaded.resolve(SHA256)

    if (resolution.kind !== 'fetched') throw new Error(`expected fetched, got ${resolution.kind}`)
    expect(resolution.image).toMatchObject({
      format: 'jpg',
      width: 2048,
      height: 2048,
      url: `${fake.url}/avatar/${SHA256}?s=2048&d=404`,
    })
    expect(resolution.image.lastModified).toBeString()
    expect(await isPictureOf(resolution.image.bytes, 'myemailaddress@example.com')).toBe(true)
    expect(fake.requests.count('avatar')).toBe(1)
  })

  test('legacy MD5 ids work too, and a PNG upload stays a PNG', async () => {
    fake.addEmail('MyEmailAddress@example.com', { format: 'png' })
    const resolution = await loadPlugin(gravatar, fake.env).resolve(MD5)
    expect(resolution).toMatchObject({ kind: 'fetched', image: { format: 'png', width: 2048 } })
  })

  test('no avatar (404 with d=404) is none', async () => {
    expect(await loadPlugin(gravatar, fake.env).resolve(SHA256)).toEqual({ kind: 'none' })
    expect(fake.requests.last('avatar')!.status).toBe(404)
  })
})

describe('gravatar: failures', () => {
  test('429 is rate_limited', async () => {
    fake.modes.failure = 'rate_limited'
    expect(await upstreamError(loadPlugin(gravatar, fake.env).resolve(SHA256))).toMatchObject({ code: 'rate_limited' })
  })

  test('500 is unavailable', async () => {
    fake.modes.failure = 'server_error'
    expect(await upstreamError(loadPlugin(gravatar, fake.env).resolve(SHA256))).toMatchObject({ code: 'unavailable' })
  })

  test('a 200 that is not an image is unavailable', async () => {
    fake.modes.failure = 'garbage'
    expect(await upstreamError(loadPlugin(gravatar, fake.env).resolve(SHA256))).toMatchObject({ code: 'unavailable' })
  })

  test('an unreachable Gravatar is unavailable', async () => {
    fake.stop()
    expect(await upstreamError(loadPlugin(gravatar, fake.env).resolve(SHA256))).toMatchObject({ code: 'unavailable' })
  })
})

describe('gravatar: hosts', () => {
  test('every Gravatar host is allowed', () => {
    expect(gravatar.hosts).toEqual(['gravatar.com', '*.gravatar.com'])
  })
})
