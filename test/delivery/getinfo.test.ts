/**
 * `fl_getinfo` end to end: SDK-built URLs answer JSON computed from the plan, whose output size is
 * the size of the image the same URL without the flag delivers; same signing rules, caching
 * headers and HEAD as the image; never a derivative of its own.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { v2 as cloudinary } from 'cloudinary'
import { probeImage } from '../../src/lib/image-header.ts'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { facesDataDir, haveFaceData, readGroundTruth } from '../support/face-data.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'
import { quadrantJpeg } from '../support/quadrants.ts'

const ID = '3002001'
const FACE_ID = '100'
const haveFaces = haveFaceData('faces')
const portrait = haveFaces ? readGroundTruth('faces').find((r) => r.file === 'london_001_v1.jpg') : undefined

let facebook: FakeFacebook
let headshot: Headshot

beforeAll(async () => {
  facebook = startFakeFacebook()
  facebook.addPhoto(ID, await quadrantJpeg(300, 200))
  if (portrait) facebook.addPhoto(FACE_ID, new Uint8Array(readFileSync(join(facesDataDir(), 'faces', portrait.file))))
  headshot = await startHeadshot(facebook.env)
  expect((await headshot.get(sdkPath({}))).status).toBe(200)
})

afterAll(async () => {
  await headshot.close()
  facebook.stop()
})

function sdkPath(options: Record<string, unknown>, publicId = ID, signed = true): string {
  const url = cloudinary.url(publicId, {
    type: 'facebook',
    sign_url: signed,
    api_secret: TEST_SECRET,
    cloud_name: 'local',
    urlAnalytics: false,
    ...options,
  })
  return new URL(url).pathname
}

/** The options with `fl_getinfo` added as a component of its own, as an SDK user would write it. */
const withInfo = (options: Record<string, unknown>) => ({
  ...options,
  transformation: [...((options.transformation as unknown[]) ?? []), { flags: 'getinfo' }],
})

type Box = [number, number, number, number]

interface Info {
  input: { width: number; height: number; bytes: number; format: string }
  output: { width: number; height: number; format: string; faces: Box[] | null }
  faces: Box[] | null
  public_id: string
  type: string
  version: number
}

async function info(path: string): Promise<{ response: Response; body: Info }> {
  const response = await headshot.get(path)
  if (response.status !== 200) throw new Error(`${path} → ${response.status} ${response.headers.get('x-cld-error')}`)
  return { response, body: (await response.json()) as Info }
}

describe('fl_getinfo', () => {
  test('answers JSON describing the source and the output', async () => {
    const path = sdkPath({ transformation: [{ width: 100, height: 100, crop: 'fill' }, { flags: 'getinfo' }] })
    expect(path).toContain('/c_fill,h_100,w_100/fl_getinfo/')
    const { response, body } = await info(path)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(body).toMatchObject({
      input: { width: 300, height: 200, format: 'jpg' },
      output: { width: 100, height: 100, format: 'jpg' },
      public_id: ID,
      type: 'facebook',
    })
    expect(body.input.bytes).toBeGreaterThan(0)
    expect(body.version).toBeGreaterThan(0)
  })

  const modes: Array<Record<string, unknown>> = [
    { width: 100, height: 100, crop: 'fill' },
    { width: 120, height: 50, crop: 'fit' },
    { width: 120, height: 50, crop: 'pad', background: 'red' },
    { width: 1000, crop: 'limit' },
    { width: 90, height: 90, crop: 'thumb', gravity: 'north_west' },
    { width: 80, height: 60, crop: 'crop', gravity: 'south_east' },
    { width: '0.5', crop: 'scale' },
    { width: 70, height: 70, crop: 'lfill', angle: 45, border: '3px_solid_blue' },
    { transformation: [{ width: 100, crop: 'scale' }, { dpr: '2.0' }] },
    { transformation: [{ width: 100, crop: 'scale' }, { effect: 'grayscale' }, { dpr: 2 }] },
  ]
  for (const options of modes) {
    test(`output size equals the delivered image's: ${JSON.stringify(options)}`, async () => {
      const image = await headshot.get(sdkPath(options))
      expect(image.status).toBe(200)
      const probe = probeImage(new Uint8Array(await image.arrayBuffer()))
      if (!probe.ok) throw new Error('not an image')
      const { body } = await info(sdkPath(withInfo(options)))
      expect([body.output.width, body.output.height]).toEqual([probe.value.width, probe.value.height])
      expect(body.output.format).toBe(probe.value.format)
    })
  }

  test('nothing is derived for it, and it shares no cache entry with its image twin', async () => {
    const options = { width: 64, height: 48, crop: 'fill' }
    const derives = await headshot.metric('derives_total')
    const first = await info(sdkPath(withInfo(options)))
    expect(await headshot.metric('derives_total')).toBe(derives)
    // The image twin is derived afterwards (its own response, not the cached JSON) and vice versa.
    const image = await headshot.get(sdkPath(options))
    expect(image.headers.get('content-type')).toBe('image/jpeg')
    expect(await headshot.metric('derives_total')).toBe(derives + 1)
    const again = await info(sdkPath(withInfo(options)))
    expect(again.body).toEqual(first.body)
  })

  test('same Cache-Control and Cache-Tag as the image; ETag and 304; HEAD without a body', async () => {
    const options = { width: 50, height: 50, crop: 'fill', version: 1234 }
    const image = await headshot.get(sdkPath(options))
    const { response } = await info(sdkPath(withInfo(options)))
    expect(response.headers.get('cache-control')).toBe(image.headers.get('cache-control'))
    expect(response.headers.get('cache-tag')).toBe(image.headers.get('cache-tag'))
    expect(response.headers.get('cache-tag')).toBeTruthy()
    const etag = response.headers.get('etag')!
    expect(etag).not.toBe(image.headers.get('etag'))
    const conditional = await headshot.get(sdkPath(withInfo(options)), { headers: { 'If-None-Match': etag } })
    expect(conditional.status).toBe(304)
    const head = await headshot.head(sdkPath(withInfo(options)))
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toStartWith('application/json')
    expect(head.headers.get('etag')).toBe(etag)
    expect((await head.arrayBuffer()).byteLength).toBe(0)
  })

  test('limits apply as to the image: 400 before anything is decoded', async () => {
    const response = await headshot.get(
      sdkPath(withInfo({ transformation: [{ width: 3000, crop: 'scale' }, { dpr: 2 }] })),
    )
    expect(response.status).toBe(400)
    expect(response.headers.get('x-cld-error')).toMatch(/Maximum image size exceeded/)
  })

  test('a restricted type unsigned is a 401, stored or not', async () => {
    for (const id of [ID, '3002009']) {
      const response = await headshot.get(sdkPath(withInfo({ width: 100, crop: 'scale' }), id, false))
      expect(response.status).toBe(401)
    }
  })

  test('a bad signature is a 401', async () => {
    const path = sdkPath(withInfo({ width: 100, crop: 'scale' })).replace(/s--[^-]+--/, 's--AAAAAAAA--')
    expect((await headshot.get(path)).status).toBe(401)
  })

  test.skipIf(!portrait)('faces: in original pixels and where they land in the output', async () => {
    const { body } = await info(sdkPath({ flags: 'getinfo' }, FACE_ID))
    expect(body.faces?.length).toBeGreaterThan(0)
    expect(body.output.faces).toEqual(body.faces)
    const [x, y, w, h] = body.faces![0]!
    const crop = await info(sdkPath(withInfo({ width: 96, height: 96, crop: 'thumb', gravity: 'face' }), FACE_ID))
    expect(crop.body.faces).toEqual(body.faces)
    const inOutput = crop.body.output.faces!
    expect(inOutput.length).toBeGreaterThan(0)
    // The face fills much of a face thumbnail, and lies inside it.
    const [ox, oy, ow, oh] = inOutput[0]!
    expect(ox).toBeGreaterThanOrEqual(0)
    expect(oy).toBeGreaterThanOrEqual(0)
    expect(ox + ow).toBeLessThanOrEqual(96)
    expect(oy + oh).toBeLessThanOrEqual(96)
    expect(ow * oh).toBeGreaterThan(96 * 96 * 0.2)
    expect(w * h).toBeGreaterThan(0)
    expect(x + w).toBeLessThanOrEqual(crop.body.input.width)
    expect(y + h).toBeLessThanOrEqual(crop.body.input.height)
  })
})
