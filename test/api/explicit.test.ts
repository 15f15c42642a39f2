/**
 * Upload API `explicit`, driven by the official cloudinary SDK (and raw requests for the body
 * encodings other clients use) against fake Facebook and Gravatar upstreams on loopback.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { signApiParams } from '../../src/url/api-signature.ts'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { hasColourOf } from '../support/fakes/images.ts'
import { probeImage, startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'
import { loadSdk, sdkError, type CloudinaryV2 } from '../support/sdk.ts'

let facebook: FakeFacebook
let gravatar: FakeGravatar
let headshot: Headshot
let baseUrl: string
let sdk: CloudinaryV2
let purges: Array<{ body: Record<string, unknown>; headers: Headers }>
let purgeReceiver: ReturnType<typeof Bun.serve>

const auth = { Authorization: `Basic ${Buffer.from(`123456:${TEST_SECRET}`).toString('base64')}` }

beforeAll(async () => {
  facebook = startFakeFacebook()
  gravatar = startFakeGravatar()
  for (const id of ['100', '101', '102', '103', '104', '105']) facebook.addUser(id, { seed: `fb-${id}`, side: 320 })
  purges = []
  purgeReceiver = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      purges.push({ body: (await request.json()) as Record<string, unknown>, headers: request.headers })
      return new Response(null, { status: 204 })
    },
  })
  headshot = await startHeadshot({
    ...facebook.env,
    ...gravatar.env,
    HEADSHOT_PURGE_URL: `http://127.0.0.1:${purgeReceiver.port}/purge`,
  })
  baseUrl = headshot.listen()
  sdk = loadSdk({ baseUrl, cloudName: 'local', apiKey: '123456', apiSecret: TEST_SECRET })
})

afterAll(async () => {
  await headshot.close()
  purgeReceiver.stop(true)
  facebook.stop()
  gravatar.stop()
})

beforeEach(() => {
  purges.length = 0
})

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await Bun.sleep(20)
  }
}

async function details(type: string, id: string): Promise<Record<string, unknown> | undefined> {
  const response = await headshot.get(`/v1_1/local/resources/image/${type}/${id}`, { headers: auth })
  return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined
}

describe('explicit through the SDK', () => {
  test('fetches a picture never seen before and answers the resource, with a response signature the SDK verifies', async () => {
    const result = await sdk.uploader.explicit('100', { type: 'facebook' })
    expect(result).toMatchObject({
      public_id: '100',
      type: 'facebook',
      resource_type: 'image',
      format: 'jpg',
      width: 320,
      height: 320,
      placeholder: false,
      tags: [],
    })
    expect(result.bytes).toBeGreaterThan(0)
    expect(result.etag).toMatch(/^[0-9a-f]{32}$/)
    expect(result.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(result.secure_url).toBe(`https://${new URL(baseUrl).host}/local/image/facebook/v${result.version}/100.jpg`)
    expect(result.url).toBe(result.secure_url.replace('https:', 'http:'))
    // The SDK's own check (missing from its type declarations).
    const utils = sdk.utils as unknown as {
      verify_api_response_signature(id: string, version: number, signature: string): boolean
    }
    expect(utils.verify_api_response_signature('100', result.version, result.signature)).toBe(true)
  })

  test('unchanged bytes keep the version; changed bytes upstream give a newer one that delivery serves', async () => {
    const first = await sdk.uploader.explicit('101', { type: 'facebook' })
    const calls = facebook.requests.count('picture')
    const again = await sdk.uploader.explicit('101', { type: 'facebook' })
    expect(again.version).toBe(first.version)
    // Forced: it asked upstream even though the picture is fresh.
    expect(facebook.requests.count('picture')).toBe(calls + 1)

    facebook.addUser('101', { seed: 'fb-101-new', side: 320 })
    const changed = await sdk.uploader.explicit('101', { type: 'facebook' })
    expect(changed.version).toBeGreaterThan(first.version)
    const image = await headshot.get(headshot.sign(`/image/facebook/v${changed.version}/101.jpg`))
    expect(image.status).toBe(200)
    expect(await hasColourOf(new Uint8Array(await image.arrayBuffer()), 'fb-101-new')).toBe(true)
    // Refresh noticed the change: the CDN was told to purge the picture's tag.
    await waitFor(async () => (purges.length > 0 ? true : undefined))
    expect(purges[0]!.body).toMatchObject({
      tags: ['headshot:facebook/101'],
      reason: 'changed',
      type: 'facebook',
      public_id: '101',
    })
  })

  test('eager derives now; its unsigned URLs deliver even though facebook needs signed URLs', async () => {
    const result = await sdk.uploader.explicit('102', {
      type: 'facebook',
      eager: [
        { crop: 'thumb', gravity: 'face', width: 80, height: 80, format: 'png' },
        { crop: 'scale', width: 200 },
      ],
    })
    const eager = result.eager as Array<{
      transformation: string
      width: number
      height: number
      format: string
      secure_url: string
      bytes: number
    }>
    expect(eager.map((e) => [e.transformation, e.width, e.height, e.format])).toEqual([
      ['c_thumb,g_face,h_80,w_80', 80, 80, 'png'],
      ['c_scale,w_200', 200, 200, 'jpg'],
    ])
    // The URL the SDK itself would build for this eager entry.
    const expected = sdk.url('102', {
      type: 'facebook',
      crop: 'thumb',
      gravity: 'face',
      width: 80,
      height: 80,
      format: 'png',
      version: result.version,
      secure: true,
      secure_distribution: new URL(baseUrl).host,
      urlAnalytics: false,
    })
    expect(eager[0]!.secure_url).toBe(expected)
    const path = new URL(eager[0]!.secure_url).pathname
    const delivered = await headshot.get(path)
    expect(delivered.status).toBe(200)
    const probe = probeImage(new Uint8Array(await delivered.arrayBuffer()))
    expect(probe.ok && probe.value).toMatchObject({ format: 'png', width: 80, height: 80 })
    // Unversioned, unsigned, same transformation: still the eager derivative.
    expect((await headshot.get('/image/facebook/c_thumb,g_face,h_80,w_80/102.png')).status).toBe(200)
    // Any other unsigned transformation of a restricted type is refused and never reaches upstream.
    const calls = facebook.requests.count()
    const refused = await headshot.get('/image/facebook/c_thumb,g_face,h_81,w_81/102.png')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('x-cld-error')).toBe('Restricted delivery type facebook')
    expect(facebook.requests.count()).toBe(calls)
  })

  test('an eager dpr component of its own is delivered unsigned by either spelling, and so is fl_getinfo', async () => {
    const result = await sdk.uploader.explicit('104', {
      type: 'facebook',
      eager: [{ transformation: [{ crop: 'fill', width: 30, height: 30 }, { dpr: '2.0' }] }],
    })
    const eager = result.eager as Array<{ transformation: string; width: number; height: number }>
    expect(eager.map((e) => [e.transformation, e.width, e.height])).toEqual([['c_fill,h_30,w_30/dpr_2.0', 60, 60]])
    expect((await headshot.get('/image/facebook/c_fill,h_30,w_30/dpr_2.0/104.jpg')).status).toBe(200)
    expect((await headshot.get('/image/facebook/c_fill,dpr_2,h_30,w_30/104.jpg')).status).toBe(200)
    const info = await headshot.get('/image/facebook/c_fill,h_30,w_30/dpr_2.0/fl_getinfo/104.jpg')
    expect(info.status).toBe(200)
    expect(await info.json()).toMatchObject({ output: { width: 60, height: 60 } })
    expect((await headshot.get('/image/facebook/c_fill,h_31,w_31/fl_getinfo/104.jpg')).status).toBe(401)
  })

  test('invalidate drops our derivatives, the hot responses, and purges the CDN by tag', async () => {
    await sdk.uploader.explicit('103', { type: 'facebook' })
    const signed = headshot.sign('/image/facebook/c_fill,h_60,w_40/103.jpg')
    expect((await headshot.get(signed)).status).toBe(200)
    expect(((await details('facebook', '103'))!.derived as unknown[]).length).toBe(1)
    purges.length = 0
    const derivesBefore = await headshot.metric('derives_total')

    const result = await sdk.uploader.explicit('103', { type: 'facebook', invalidate: true })
    expect(result.public_id).toBe('103')
    expect((await details('facebook', '103'))!.derived).toEqual([])
    await waitFor(async () => (purges.length > 0 ? true : undefined))
    const purge = purges[0]!
    expect(purge.body).toMatchObject({ tags: ['headshot:facebook/103'], reason: 'invalidated' })
    expect(purge.body.paths as string[]).toContainEqual(expect.stringContaining('c_fill,h_60,w_40/103.jpg'))
    // The HMAC over "<timestamp>.<body>" with the API secret.
    const { signPurgeBody } = await import('../../src/manage/purge.ts')
    const timestamp = Number(purge.headers.get('x-headshot-timestamp'))
    expect(purge.headers.get('x-headshot-signature')).toBe(
      signPurgeBody(TEST_SECRET, timestamp, JSON.stringify(purge.body)),
    )
    // The same URL right away is derived again (not answered from the hot cache or the store).
    expect((await headshot.get(signed)).status).toBe(200)
    expect(await headshot.metric('derives_total')).toBe(derivesBefore + 1)
  })

  test('async answers pending at once and does the work in the background', async () => {
    const result = await sdk.uploader.explicit('104', {
      type: 'facebook',
      async: true,
      eager: [{ width: 50, crop: 'scale' }],
    })
    expect(result).toEqual({ status: 'pending', public_id: '104', type: 'facebook', resource_type: 'image' })
    const stored = await waitFor(async () => {
      const body = await details('facebook', '104')
      return body && (body.derived as unknown[]).length === 1 ? body : undefined
    })
    expect(stored.width).toBe(320)
  })

  test('eager_async answers at once with the refreshed resource, deriving in the background', async () => {
    const result = await sdk.uploader.explicit('105', {
      type: 'facebook',
      eager: [{ width: 64, crop: 'scale' }],
      eager_async: true,
    })
    expect(result.version).toBeGreaterThan(0)
    expect(result.eager).toEqual([{ transformation: 'c_scale,w_64', status: 'processing' }])
    await waitFor(async () => {
      const body = await details('facebook', '105')
      return body && (body.derived as unknown[]).length === 1 ? true : undefined
    })
  })

  test('sha256 request signatures are accepted', async () => {
    sdk.config({ signature_algorithm: 'sha256' })
    try {
      const result = await sdk.uploader.explicit('100', { type: 'facebook' })
      expect(result.public_id).toBe('100')
    } finally {
      sdk.config({ signature_algorithm: 'sha1' })
    }
  })

  test('errors come back in the shapes and statuses the SDK reports', async () => {
    const missing = await sdkError(sdk.uploader.explicit('999999', { type: 'facebook' }))
    expect(missing).toEqual({ message: 'Resource not found - 999999', http_code: 404 })

    const wrongSecret = loadSdk({ baseUrl, cloudName: 'local', apiKey: '123456', apiSecret: 'not-the-secret' })
    const badSignature = await sdkError(wrongSecret.uploader.explicit('100', { type: 'facebook' }))
    expect(badSignature.http_code).toBe(401)
    expect(badSignature.message).toMatch(
      /^Invalid Signature [0-9a-f]{40}\. String to sign - 'public_id=100&timestamp=\d+&type=facebook'\.$/,
    )
    expect(badSignature.message).not.toContain(TEST_SECRET)

    const wrongKey = loadSdk({ baseUrl, cloudName: 'local', apiKey: '999', apiSecret: TEST_SECRET })
    expect(await sdkError(wrongKey.uploader.explicit('100', { type: 'facebook' }))).toEqual({
      message: 'Invalid api_key',
      http_code: 401,
    })

    const noType = await sdkError(sdk.uploader.explicit('100', {}))
    expect(noType.http_code).toBe(400)
    expect(noType.message).toMatch(/^Missing required parameter - type/)
    expect((await sdkError(sdk.uploader.explicit('100', { type: 'myspace' }))).message).toBe(
      'Invalid delivery type myspace',
    )
    const callback = await sdkError(
      sdk.uploader.explicit('100', { type: 'facebook', notification_url: 'https://example.com/hook' }),
    )
    expect(callback.http_code).toBe(400)
    expect(callback.message).toMatch(/^Unsupported parameter notification_url/)
    const badEager = await sdkError(sdk.uploader.explicit('100', { type: 'facebook', eager: 'c_fill,w_abc' }))
    expect(badEager).toMatchObject({ http_code: 400 })
    expect(badEager.message).toContain('Invalid width')
    // Metadata options mean nothing for a social picture: accepted and ignored.
    expect((await sdk.uploader.explicit('100', { type: 'facebook', tags: ['a', 'b'], context: 'k=v' })).public_id).toBe(
      '100',
    )
  })

  test('an upstream rate limit is a 429 the SDK parses, and the stored copy is unchanged', async () => {
    const before = await details('facebook', '100')
    facebook.modes.throttle = true
    facebook.modes.throttleStatus = 403
    facebook.modes.retryAfterSeconds = 1
    const resetAt = Date.now() + 1_000
    try {
      const limited = await sdkError(sdk.uploader.explicit('100', { type: 'facebook' }))
      expect(limited.http_code).toBe(429)
    } finally {
      facebook.modes.throttle = false
      facebook.modes.retryAfterSeconds = undefined
    }
    expect((await details('facebook', '100'))!.version).toBe(before!.version)
    // Facebook is left alone until its reset, even by an explicit refresh (which would be refused too).
    const calls = facebook.requests.count('picture')
    expect((await sdkError(sdk.uploader.explicit('101', { type: 'facebook' }))).http_code).toBe(429)
    expect(facebook.requests.count('picture')).toBe(calls)
    await Bun.sleep(Math.max(0, resetAt - Date.now()) + 50)
    expect((await sdk.uploader.explicit('101', { type: 'facebook' })).public_id).toBe('101')
  })
})

describe('explicit: request encodings and signatures without the SDK', () => {
  const now = () => Math.floor(Date.now() / 1000)
  const signed = (params: Record<string, string>, secret = TEST_SECRET): Record<string, string> => ({
    ...params,
    api_key: '123456',
    signature: signApiParams(params, secret),
  })
  const post = (body: string | FormData | URLSearchParams, contentType?: string) =>
    headshot.app.handle(
      new Request('http://localhost/v1_1/local/image/explicit', {
        method: 'POST',
        body,
        headers: contentType ? { 'Content-Type': contentType } : {},
      }),
    )

  test('urlencoded, multipart and JSON bodies all work', async () => {
    const params = signed({ public_id: '100', type: 'facebook', timestamp: String(now()) })
    const urlencoded = await post(new URLSearchParams(params).toString(), 'application/x-www-form-urlencoded')
    expect(urlencoded.status).toBe(200)
    const form = new FormData()
    for (const [k, v] of Object.entries(params)) form.append(k, v)
    expect((await post(form)).status).toBe(200)
    const json = await post(JSON.stringify({ ...params, timestamp: Number(params.timestamp) }), 'application/json')
    expect(json.status).toBe(200)
    expect(((await json.json()) as { public_id: string }).public_id).toBe('100')
  })

  test('a timestamp more than an hour away is a stale request', async () => {
    const response = await post(
      new URLSearchParams(signed({ public_id: '100', type: 'facebook', timestamp: String(now() - 3700) })).toString(),
      'application/x-www-form-urlencoded',
    )
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^Stale request/)
  })

  test('a value smuggling `&` is signed with v2 escaping; the re-split v1 reading does not verify', async () => {
    const params = { public_id: '100', type: 'facebook', timestamp: String(now()), tags: 'a&type=twitter' }
    const good = await post(new URLSearchParams(signed(params)).toString(), 'application/x-www-form-urlencoded')
    expect(good.status).toBe(200)
    const tampered = { ...signed(params), tags: 'a', type: 'twitter' }
    expect((await post(new URLSearchParams(tampered).toString(), 'application/x-www-form-urlencoded')).status).toBe(401)
  })

  test('missing fields, malformed JSON and wrong clouds are clear JSON errors', async () => {
    const noSignature = await post(
      new URLSearchParams({
        public_id: '100',
        type: 'facebook',
        timestamp: String(now()),
        api_key: '123456',
      }).toString(),
      'application/x-www-form-urlencoded',
    )
    expect(noSignature.status).toBe(400)
    expect(await noSignature.json()).toEqual({ error: { message: 'Missing required parameter - signature' } })
    const malformed = await post('{not json', 'application/json')
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toEqual({ error: { message: 'Malformed request body' } })
    const otherCloud = await headshot.app.handle(
      new Request('http://localhost/v1_1/other/image/explicit', {
        method: 'POST',
        body: new URLSearchParams(signed({ public_id: '1', type: 'facebook', timestamp: String(now()) })),
      }),
    )
    expect(otherCloud.status).toBe(404)
  })
})
