import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import facebook from './index.ts'
import { err, ok, UpstreamError } from '../../src/plugin-host/types.ts'
import { startFakeFacebook, type FakeFacebook } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { download, loadPlugin } from '../../test/support/plugins.ts'

const NOW = Date.UTC(2026, 8, 1)

let fake: FakeFacebook
beforeEach(() => {
  fake = startFakeFacebook()
})
afterEach(() => fake.stop())

const load = (env: Record<string, string | undefined> = fake.env) => loadPlugin(facebook, env, { now: () => NOW })

describe('facebook: ids', () => {
  test.each(['4', '65646572251', '0', '1'.repeat(25)])('%p is a Facebook id', (raw) => {
    expect(facebook.parseId(raw)).toEqual(ok(raw))
  })

  test.each(['', 'zuck', '12a', '-1', '1.0', ' 4', '4 ', '1'.repeat(26), '４', '1e5'])('%p is refused', (raw) => {
    expect(facebook.parseId(raw)).toEqual(err('expected a numeric Facebook user id'))
  })
})

describe('facebook: resolve', () => {
  test('a user with a picture resolves to the largest picture Graph has, downloadable from its CDN', async () => {
    fake.addUser('65646572251', { seed: 'mark', side: 960 })
    const loaded = load()

    const resolution = await loaded.resolve('65646572251')

    expect(resolution).toEqual({
      kind: 'image',
      url: expect.stringContaining(`${fake.url}/platform/profilepic/?asid=65646572251&`),
    })
    const image = await download(loaded, resolution)
    expect([image.format, image.width, image.height]).toEqual(['jpg', 960, 960])
    expect(await isPictureOf(image.bytes, 'mark')).toBe(true)
    expect([fake.requests.count('picture'), fake.requests.count('cdn')]).toEqual([1, 1])
  })

  test('asks the versioned picture edge for JSON, a 2048 square, with the app token and appsecret_proof', async () => {
    fake.addUser('4', { seed: 'zuck', side: 720 })
    await load().resolve('4')

    const request = fake.requests.last('picture')!
    expect(request.path).toBe('/v25.0/4/picture')
    expect(Object.fromEntries(request.query)).toEqual({
      redirect: 'false',
      width: '2048',
      height: '2048',
      access_token: `${fake.appId}|${fake.appSecret}`,
      appsecret_proof: createHmac('sha256', fake.appSecret).update(`${fake.appId}|${fake.appSecret}`).digest('hex'),
    })
  })

  test('HEADSHOT_FACEBOOK_GRAPH_VERSION picks the Graph version', async () => {
    fake.addUser('4', { seed: 'zuck', side: 720 })
    await load({ ...fake.env, HEADSHOT_FACEBOOK_GRAPH_VERSION: 'v26.0' }).resolve('4')
    expect(fake.requests.last('picture')!.path).toBe('/v26.0/4/picture')
  })

  test('works when the app requires appsecret_proof', async () => {
    fake.modes.requireAppSecretProof = true
    fake.addUser('4', { seed: 'zuck', side: 720 })
    expect((await load().resolve('4')).kind).toBe('image')
  })

  test('no changeKey: the CDN URL expires and changes on every call, so it says nothing about the picture', async () => {
    fake.addUser('4', { seed: 'zuck', side: 720 })
    const loaded = load()
    const first = await loaded.resolve('4')
    fake.clock.offsetSeconds = 60
    const second = await loaded.resolve('4')
    expect(first).not.toHaveProperty('changeKey')
    expect(second).not.toHaveProperty('changeKey')
    expect(second).not.toEqual(first)
  })

  test('an expired CDN URL is refused by the CDN; resolving again gives a fresh one', async () => {
    fake.addUser('4', { seed: 'zuck', side: 720 })
    const loaded = load()
    const stale = await loaded.resolve('4')
    fake.clock.offsetSeconds = fake.modes.urlLifetimeSeconds + 1

    await expect(download(loaded, stale)).rejects.toMatchObject({ code: 'http_status', status: 403 })
    const fresh = await loaded.resolve('4')
    expect((await download(loaded, fresh)).width).toBe(720)
  })

  test('a silhouette (no picture of their own) is none', async () => {
    fake.addUser('1000', 'silhouette')
    expect(await load().resolve('1000')).toEqual({ kind: 'none' })
  })

  test('an unknown id (code 100, subcode 33) is not_found', async () => {
    expect(await load().resolve('123456789')).toEqual({ kind: 'not_found' })
  })
})

describe('facebook: failures', () => {
  async function failure(env: Record<string, string | undefined> = fake.env): Promise<UpstreamError> {
    fake.addUser('4', { seed: 'zuck', side: 720 })
    try {
      await load(env).resolve('4')
    } catch (error) {
      if (error instanceof UpstreamError) return error
      throw error
    }
    throw new Error('expected an UpstreamError')
  }

  test('without app credentials it does not call Graph at all: auth', async () => {
    for (const env of [
      { HEADSHOT_FACEBOOK_GRAPH_URL: fake.url },
      { ...fake.env, HEADSHOT_FACEBOOK_APP_SECRET: undefined },
    ]) {
      expect(await failure(env)).toMatchObject({
        code: 'auth',
        message: expect.stringContaining('HEADSHOT_FACEBOOK_APP_ID'),
      })
    }
    expect(fake.requests.count()).toBe(0)
  })

  test('a refused app token (code 190) is auth', async () => {
    expect(await failure({ ...fake.env, HEADSHOT_FACEBOOK_APP_SECRET: 'wrong' })).toMatchObject({ code: 'auth' })
  })

  test('a refused appsecret_proof (code 100, no subcode) is auth, not "not found"', async () => {
    fake.modes.graphError = {
      status: 400,
      code: 100,
      message: 'Invalid appsecret_proof provided in the API argument',
      type: 'GraphMethodException',
    }
    expect(await failure()).toMatchObject({ code: 'auth' })
  })

  test('throttling (code 4, X-App-Usage at 100) is rate_limited, with retryAt from Retry-After', async () => {
    fake.modes.throttle = true
    fake.modes.retryAfterSeconds = 120
    expect(await failure()).toMatchObject({ code: 'rate_limited', retryAt: NOW + 120_000 })
  })

  test('throttling without Retry-After is rate_limited with no retryAt, whatever the HTTP status', async () => {
    fake.modes.throttle = true
    for (const status of [400, 403, 429]) {
      fake.modes.throttleStatus = status
      const error = await failure()
      expect(error.code).toBe('rate_limited')
      expect(error.retryAt).toBeUndefined()
    }
  })

  test.each([
    [17, 'rate_limited'],
    [32, 'rate_limited'],
    [341, 'rate_limited'],
    [368, 'rate_limited'],
    [613, 'rate_limited'],
    [80001, 'rate_limited'],
    [10, 'auth'],
    [102, 'auth'],
    [104, 'auth'],
    [190, 'auth'],
    [200, 'auth'],
    [250, 'auth'],
    [299, 'auth'],
    [1, 'unavailable'],
    [2, 'unavailable'],
    [2500, 'unavailable'],
    [300, 'unavailable'],
  ])('Graph error code %p is %p (classified by code, not HTTP status)', async (code, expected) => {
    fake.modes.graphError = { status: code === 2 ? 500 : 400, code }
    expect((await failure()).code).toBe(expected as UpstreamError['code'])
  })

  test('code 100 with subcode 33 is not_found even with an unexpected status', async () => {
    fake.modes.graphError = { status: 404, code: 100, subcode: 33 }
    expect(await load().resolve('4')).toEqual({ kind: 'not_found' })
  })

  test('a 500 is unavailable', async () => {
    fake.modes.failure = 'server_error'
    expect(await failure()).toMatchObject({ code: 'unavailable' })
  })

  test('an HTML page instead of JSON is unavailable', async () => {
    fake.modes.failure = 'garbage'
    expect(await failure()).toMatchObject({ code: 'unavailable' })
  })

  test('an unreachable Graph is unavailable', async () => {
    fake.stop()
    expect(await failure()).toMatchObject({ code: 'unavailable' })
  })
})

describe('facebook: hosts', () => {
  test('CDN hosts are allowed besides the Graph base URL', () => {
    expect(facebook.hosts).toEqual(['*.fbcdn.net', 'platform-lookaside.fbsbx.com', '*.fbsbx.com'])
    expect(loadPlugin(facebook, {}).allowedHosts).toContain('graph.facebook.com')
  })
})
