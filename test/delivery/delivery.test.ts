/**
 * Delivery, end to end: SDK-made URLs against fake Facebook / X / Gravatar upstreams.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { v2 as cloudinary } from 'cloudinary'
import { probeImage } from '../../src/lib/image-header.ts'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { hasColourOf, makePicture } from '../support/fakes/images.ts'
import { startFakeX, type FakeX } from '../../plugins/twitter/fake.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'

let facebook: FakeFacebook
let x: FakeX
let gravatar: FakeGravatar
let headshot: Headshot
let gravatarHash: string

/** The path part of an SDK URL, as a browser would request it from our host. */
function sdkPath(publicId: string, options: Record<string, unknown>): string {
  const url = cloudinary.url(publicId, {
    cloud_name: 'local',
    api_secret: TEST_SECRET,
    sign_url: true,
    urlAnalytics: false,
    secure: true,
    ...options,
  })
  return new URL(url).pathname
}

function dimensions(bytes: Uint8Array): { format: string; width: number; height: number } {
  const probe = probeImage(bytes)
  if (!probe.ok) throw new Error(probe.error)
  const { format, width, height } = probe.value
  return { format, width, height }
}

async function body(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer())
}

beforeAll(async () => {
  facebook = startFakeFacebook()
  x = startFakeX()
  gravatar = startFakeGravatar()
  facebook.addUser('65646572251', { seed: 'bill', side: 300 })
  facebook.addUser('4', { seed: 'zuck', side: 200 })
  facebook.addUser('1000', 'silhouette')
  for (let i = 0; i < 6; i++) facebook.addUser(String(500 + i), { seed: `user${i}`, side: 240 })
  x.addUser({ id: '2244994945', username: 'XDevelopers', picture: { seed: 'xdev', ext: 'png', side: 256 } })
  x.addUser({ id: '12', username: 'jack', picture: 'default' })
  gravatarHash = gravatar.addEmail('someone@example.com').md5
  headshot = await startHeadshot({ ...facebook.env, ...x.bearerEnv, ...gravatar.env })
})

afterAll(async () => {
  await headshot.close()
  facebook.stop()
  x.stop()
  gravatar.stop()
})

describe('a URL made by the cloudinary SDK', () => {
  test('returns the transformed picture (c_fill,g_face,h_120,w_80 → 80×120 JPEG)', async () => {
    const path = sdkPath('65646572251', {
      type: 'facebook',
      width: 80,
      height: 120,
      crop: 'fill',
      gravity: 'face',
      format: 'jpg',
    })
    expect(path).toMatch(
      /^\/local\/image\/facebook\/s--[A-Za-z0-9_-]{8}--\/c_fill,g_face,h_120,w_80\/65646572251\.jpg$/,
    )
    const response = await headshot.get(path)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/jpeg')
    const bytes = await body(response)
    expect(Number(response.headers.get('content-length'))).toBe(bytes.byteLength)
    expect(dimensions(bytes)).toEqual({ format: 'jpg', width: 80, height: 120 })
    expect(await hasColourOf(bytes, 'bill')).toBe(true)
  })

  test('works without the cloud name segment and ignores the analytics query string', async () => {
    const path = sdkPath('65646572251', { type: 'facebook', width: 50, crop: 'scale' }).replace(/^\/local/, '')
    const response = await headshot.get(`${path}?_a=BAMAROfk0`)
    expect(response.status).toBe(200)
    expect(dimensions(await body(response))).toMatchObject({ width: 50, height: 50 })
  })

  test('long SHA-256 signatures and sha256/8 signatures are accepted', async () => {
    for (const extra of [{ long_url_signature: true }, { signature_algorithm: 'sha256' }]) {
      const response = await headshot.get(sdkPath('4', { type: 'facebook', width: 40, crop: 'scale', ...extra }))
      expect(response.status).toBe(200)
    }
  })

  test('X by id, X by screen name (case-insensitive) and Gravatar by hash', async () => {
    const byId = await headshot.get(
      sdkPath('2244994945', { type: 'twitter', width: 64, height: 64, crop: 'fill', format: 'png' }),
    )
    expect(byId.status).toBe(200)
    expect(dimensions(await body(byId))).toEqual({ format: 'png', width: 64, height: 64 })

    const byName = await headshot.get(
      sdkPath('xdevelopers', { type: 'twitter_name', width: 32, crop: 'scale', format: 'webp' }),
    )
    expect(byName.status).toBe(200)
    expect(byName.headers.get('content-type')).toBe('image/webp')

    const avatar = await headshot.get(`/image/gravatar/c_fill,h_60,w_60/${gravatarHash}.jpg`)
    expect(avatar.status).toBe(200)
    expect(dimensions(await body(avatar))).toEqual({ format: 'jpg', width: 60, height: 60 })
  })
})

describe('authorisation', () => {
  test('restricted types need a signature', async () => {
    const response = await headshot.get('/image/facebook/c_fill,h_120,w_80/65646572251.jpg')
    expect(response.status).toBe(401)
    expect(response.headers.get('x-cld-error')).toBe('Restricted delivery type facebook')
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Cld-Error')
  })

  test('a wrong or tampered signature is refused', async () => {
    const good = sdkPath('65646572251', { type: 'facebook', width: 80, crop: 'scale' })
    const tampered = good.replace('w_80', 'w_81')
    const response = await headshot.get(tampered)
    expect(response.status).toBe(401)
    expect(response.headers.get('x-cld-error')).toBe('Invalid signature')

    const otherSecret = cloudinary.url('65646572251', {
      type: 'facebook',
      sign_url: true,
      api_secret: 'not-our-secret',
      cloud_name: 'local',
      urlAnalytics: false,
    })
    expect((await headshot.get(new URL(otherSecret).pathname)).status).toBe(401)
  })

  test('unrestricted types work unsigned', async () => {
    expect((await headshot.get(`/image/gravatar/${gravatarHash}`)).status).toBe(200)
  })
})

describe('errors carry X-Cld-Error', () => {
  const cases: Array<[string, number, string | RegExp]> = [
    ['/image/instagram/abc', 400, 'Invalid delivery type instagram'],
    ['/image/gravatar/w_abc/0bc83cb571cd1c50ba6f3e8a78ef1346', 400, 'Invalid width in transformation: abc'],
    ['/image/gravatar/ab_cd/0bc83cb571cd1c50ba6f3e8a78ef1346', 400, /ab/],
    ['/image/gravatar/not-a-hash', 400, /Invalid public id/],
    ['/other/image/gravatar/0bc83cb571cd1c50ba6f3e8a78ef1346', 404, /Unknown cloud name other/],
    ['/video/gravatar/0bc83cb571cd1c50ba6f3e8a78ef1346', 400, /resource type/i],
  ]
  for (const [path, status, message] of cases) {
    test(`${path} → ${status}`, async () => {
      const response = await headshot.get(path)
      expect(response.status).toBe(status)
      expect(response.headers.get('x-cld-error') ?? '').toMatch(message)
      expect(response.headers.get('cache-control')).toBe('public, max-age=60')
    })
  }

  test('a network with no picture → 404 Resource not found', async () => {
    const silhouette = await headshot.get(sdkPath('1000', { type: 'facebook' }))
    expect(silhouette.status).toBe(404)
    expect(silhouette.headers.get('x-cld-error')).toBe('Resource not found - 1000')

    const defaultImage = await headshot.get(sdkPath('jack', { type: 'twitter_name' }))
    expect(defaultImage.status).toBe(404)

    const unknownGravatar = await headshot.get('/image/gravatar/ffffffffffffffffffffffffffffffff.png')
    expect(unknownGravatar.status).toBe(404)
    expect(unknownGravatar.headers.get('x-cld-error')).toBe('Resource not found - ffffffffffffffffffffffffffffffff')
  })

  test('an unknown account → 404 (and the answer is remembered, not asked again at once)', async () => {
    const path = sdkPath('999999', { type: 'facebook' })
    const before = facebook.requests.count('picture')
    expect((await headshot.get(path)).status).toBe(404)
    expect((await headshot.get(path)).status).toBe(404)
    expect(facebook.requests.count('picture')).toBe(before + 1)
  })
})

describe('HTTP caching', () => {
  test('strong ETag, If-None-Match → 304, HEAD has headers and no body', async () => {
    const path = sdkPath('4', { type: 'facebook', width: 30, crop: 'scale' })
    const first = await headshot.get(path)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
    expect(first.headers.get('cache-control')).toBe('public, max-age=604800') // the 7-day refresh TTL

    const revalidated = await headshot.get(path, { headers: { 'If-None-Match': etag } })
    expect(revalidated.status).toBe(304)
    expect(revalidated.headers.get('etag')).toBe(etag)
    expect((await revalidated.arrayBuffer()).byteLength).toBe(0)

    const weakList = await headshot.get(path, { headers: { 'If-None-Match': `"nope", W/${etag}` } })
    expect(weakList.status).toBe(304)

    const head = await headshot.head(path)
    expect(head.status).toBe(200)
    expect(head.headers.get('etag')).toBe(etag)
    expect(head.headers.get('content-type')).toBe('image/jpeg')
    expect((await head.arrayBuffer()).byteLength).toBe(0)
  })

  test("the picture's own version is immutable; any other version is served the current picture, not forever", async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`123456:${TEST_SECRET}`).toString('base64')}` }
    await headshot.get(sdkPath('4', { type: 'facebook', width: 30, crop: 'scale' }))
    const details = await headshot.get('/v1_1/local/resources/image/facebook/4', { headers: auth })
    const { version } = (await details.json()) as { version: number }
    const own = await headshot.get(sdkPath('4', { type: 'facebook', width: 30, crop: 'scale', version }))
    expect(own.status).toBe(200)
    expect(own.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    const other = await headshot.get(sdkPath('4', { type: 'facebook', width: 30, crop: 'scale', version: 1573726751 }))
    expect(other.status).toBe(200)
    expect(other.headers.get('cache-control')).toBe('public, max-age=604800')
  })
})

describe('formats', () => {
  test('no transformation and no extension serves the stored original byte for byte', async () => {
    const response = await headshot.get(sdkPath('2244994945', { type: 'twitter' }))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/png')
    expect(await body(response)).toEqual(await makePicture('xdev', 256, 256, 'png'))
  })

  test('f_ beats the extension; q_ changes the encoder quality', async () => {
    const webp = await headshot.get(
      sdkPath('65646572251', { type: 'facebook', fetch_format: 'webp', format: 'png', width: 100, crop: 'scale' }),
    )
    expect(webp.headers.get('content-type')).toBe('image/webp')
    const low = await body(await headshot.get(sdkPath('65646572251', { type: 'facebook', quality: 10, format: 'jpg' })))
    const high = await body(
      await headshot.get(sdkPath('65646572251', { type: 'facebook', quality: 95, format: 'jpg' })),
    )
    expect(low.byteLength).toBeLessThan(high.byteLength)
  })

  test('f_auto negotiates from Accept and varies on it', async () => {
    const path = sdkPath('65646572251', { type: 'facebook', fetch_format: 'auto', width: 90, crop: 'scale' })
    const modern = await headshot.get(path, { headers: { Accept: 'image/avif,image/webp,*/*' } })
    expect(modern.headers.get('content-type')).toBe('image/webp')
    expect(modern.headers.get('vary')).toBe('Accept')
    const old = await headshot.get(path, { headers: { Accept: 'image/jpeg,*/*' } })
    expect(old.headers.get('content-type')).toBe('image/jpeg')
    expect(old.headers.get('vary')).toBe('Accept')
  })
})

describe('stored once, served many times', () => {
  test('a derivative is computed once and then served from the store', async () => {
    const path = sdkPath('4', { type: 'facebook', width: 77, height: 33, crop: 'fill' })
    const derives = await headshot.metric('derives_total')
    const pictureCalls = facebook.requests.count('picture')
    const a = await body(await headshot.get(path))
    const b = await body(await headshot.get(path))
    expect(b).toEqual(a)
    expect(await headshot.metric('derives_total')).toBe(derives + 1)
    expect(facebook.requests.count('picture')).toBe(pictureCalls)
  })

  test('concurrent requests for one missing picture share one upstream fetch and one transformation', async () => {
    const path = sdkPath('500', { type: 'facebook', width: 64, height: 64, crop: 'fill' })
    const graph = facebook.requests.count('picture')
    const cdn = facebook.requests.count('cdn')
    const derives = await headshot.metric('derives_total')
    const responses = await Promise.all(Array.from({ length: 8 }, () => headshot.get(path)))
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200))
    expect(new Set(responses.map((r) => r.headers.get('etag'))).size).toBe(1)
    expect(facebook.requests.count('picture')).toBe(graph + 1)
    expect(facebook.requests.count('cdn')).toBe(cdn + 1)
    expect(await headshot.metric('derives_total')).toBe(derives + 1)
  })

  test('different transformations of one picture fetch it once', async () => {
    const graph = facebook.requests.count('picture')
    const sizes = [20, 30, 40]
    const responses = await Promise.all(
      sizes.map((w) => headshot.get(sdkPath('501', { type: 'facebook', width: w, crop: 'scale' }))),
    )
    for (const [i, response] of responses.entries()) {
      expect(dimensions(await body(response)).width).toBe(sizes[i]!)
    }
    expect(facebook.requests.count('picture')).toBe(graph + 1)
  })
})

describe('upstream failures', () => {
  test('rate limiting with no stored copy → 503 with Retry-After', async () => {
    x.rateLimits['users/id'].remaining = 0
    try {
      x.addUser({ id: '777', username: 'limited', picture: { seed: 'limited', ext: 'jpg', side: 64 } })
      const response = await headshot.get(sdkPath('777', { type: 'twitter' }))
      expect(response.status).toBe(503)
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(response.headers.get('cache-control')).toBe('no-store')
    } finally {
      x.rateLimits['users/id'].remaining = x.rateLimits['users/id'].limit
    }
  })

  test('an upstream server error with no stored copy → 502, remembered briefly, and a later success is served', async () => {
    let clock = Date.now()
    const instance = await startHeadshot({ ...facebook.env }, { now: () => clock })
    try {
      facebook.modes.failure = 'server_error'
      try {
        const response = await instance.get(sdkPath('502', { type: 'facebook' }))
        expect(response.status).toBe(502)
        expect(response.headers.get('x-cld-error')).toMatch(/^Upstream error/)
        // A flood right after the failure costs no further upstream call.
        const calls = facebook.requests.count()
        expect((await instance.get(sdkPath('502', { type: 'facebook' }))).status).toBe(502)
        expect(facebook.requests.count()).toBe(calls)
      } finally {
        facebook.modes.failure = undefined
      }
      clock += 31_000
      expect((await instance.get(sdkPath('502', { type: 'facebook' }))).status).toBe(200)
    } finally {
      await instance.close()
    }
  })

  test('an upstream that hangs with no stored copy → 504 after HEADSHOT_FETCH_TIMEOUT', async () => {
    const impatient = await startHeadshot({ ...facebook.env, HEADSHOT_FETCH_TIMEOUT: '300ms' })
    facebook.modes.stallMs = 2000
    try {
      const started = performance.now()
      const response = await impatient.get(sdkPath('504', { type: 'facebook' }))
      expect(response.status).toBe(504)
      expect(response.headers.get('x-cld-error')).toMatch(/^Upstream timeout/)
      expect(performance.now() - started).toBeLessThan(1900) // gave up before the upstream answered
    } finally {
      facebook.modes.stallMs = 0
      await impatient.close()
    }
  })

  test('a stored picture keeps being served while the upstream is down', async () => {
    const path = sdkPath('503', { type: 'facebook', width: 25, crop: 'scale' })
    expect((await headshot.get(path)).status).toBe(200)
    facebook.modes.failure = 'server_error'
    try {
      expect((await headshot.get(path)).status).toBe(200)
      expect((await headshot.get(sdkPath('503', { type: 'facebook', width: 26, crop: 'scale' }))).status).toBe(200)
    } finally {
      facebook.modes.failure = undefined
    }
  })
})

describe('service endpoints', () => {
  test('GET /healthz', async () => {
    const response = await headshot.get('/healthz')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
  })

  test('GET /metrics counts responses by status', async () => {
    const text = await (await headshot.get('/metrics')).text()
    expect(text).toContain('headshot_delivery_responses_total{status="200"}')
  })
})
