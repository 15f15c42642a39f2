/**
 * Faces end to end: detection runs once per stored original (lazily), is persisted, feeds face
 * gravity, and is exposed by the Admin API's resource details with `faces=true`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { probeImage } from '../../src/lib/image-header.ts'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'
import { facesDataDir, haveFaceData } from '../support/face-data.ts'

// Real photographs from the face data set (their licence keeps them out of this repository; where
// they are: test/support/face-data.ts). Without them these tests are skipped, not faked.
const FACES = join(facesDataDir(), 'faces')
const haveData = haveFaceData('faces')
interface GroundTruth {
  file: string
  faces: Array<{ x: number; y: number; w: number; h: number }>
}
const truth = haveData ? (JSON.parse(readFileSync(join(FACES, 'faces.json'), 'utf8')) as GroundTruth[]) : []
const portrait = truth.find((r) => r.file === 'london_001_v1.jpg')!
const landscape = truth.find((r) => r.file === 'skimage_coins.jpg')!

let facebook: FakeFacebook
let headshot: Headshot
const auth = { Authorization: `Basic ${Buffer.from(`123456:${TEST_SECRET}`).toString('base64')}` }

function iou(a: number[], b: { x: number; y: number; w: number; h: number }): number {
  const [x, y, w, h] = a as [number, number, number, number]
  const ix = Math.max(0, Math.min(x + w, b.x + b.w) - Math.max(x, b.x))
  const iy = Math.max(0, Math.min(y + h, b.y + b.h) - Math.max(y, b.y))
  const inter = ix * iy
  return inter / (w * h + b.w * b.h - inter)
}

beforeAll(async () => {
  if (!haveData) return
  facebook = startFakeFacebook()
  facebook.addPhoto('100', new Uint8Array(readFileSync(join(FACES, portrait.file))))
  facebook.addPhoto('200', new Uint8Array(readFileSync(join(FACES, landscape.file))))
  headshot = await startHeadshot({ ...facebook.env, HEADSHOT_RESTRICTED_TYPES: 'none' })
})

afterAll(async () => {
  await headshot?.close()
  facebook?.stop()
})

describe.skipIf(!haveData)('face gravity', () => {
  test('the first face-aware request detects faces once; later ones reuse the stored boxes', async () => {
    const before = await headshot.metric('face_detections_total')
    const thumb = await headshot.get('/image/facebook/c_thumb,g_face,h_96,w_96/100.jpg')
    expect(thumb.status).toBe(200)
    const probe = probeImage(new Uint8Array(await thumb.arrayBuffer()))
    expect(probe.ok && probe.value).toMatchObject({ format: 'jpg', width: 96, height: 96 })
    await headshot.get('/image/facebook/c_fill,g_face,h_120,w_80/100.jpg')
    await headshot.get('/image/facebook/c_crop,g_faces,h_200,w_200/100.png')
    expect(await headshot.metric('face_detections_total')).toBe(before + 1)
  })

  test('transformations without face gravity never run the detector', async () => {
    const before = await headshot.metric('face_detections_total')
    await headshot.get('/image/facebook/c_fill,g_north,h_50,w_50/200.jpg')
    expect(await headshot.metric('face_detections_total')).toBe(before)
  })

  test('no face: g_face falls back to north, and the empty result is remembered', async () => {
    const response = await headshot.get('/image/facebook/c_fill,g_face,h_40,w_120/200.jpg')
    expect(response.status).toBe(200)
    const before = await headshot.metric('face_detections_total')
    await headshot.get('/image/facebook/c_thumb,g_face,h_40,w_40/200.jpg')
    expect(await headshot.metric('face_detections_total')).toBe(before)
  })
})

describe.skipIf(!haveData)('Admin API: resource details', () => {
  test('faces=true returns the boxes in original pixels', async () => {
    const response = await headshot.get('/v1_1/local/resources/image/facebook/100?faces=true', { headers: auth })
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      public_id: '100',
      type: 'facebook',
      resource_type: 'image',
      format: 'jpg',
      placeholder: false,
    })
    const faces = body.faces as number[][]
    expect(faces.length).toBeGreaterThanOrEqual(1)
    expect(iou(faces[0]!, portrait.faces[0]!)).toBeGreaterThanOrEqual(0.5)
    expect(String(body.secure_url)).toMatch(/^https:\/\/localhost\/local\/image\/facebook\/v\d+\/100\.jpg$/)
  })

  test('without faces=true there is no faces field', async () => {
    const body = (await (
      await headshot.get('/v1_1/local/resources/image/facebook/100', { headers: auth })
    ).json()) as Record<string, unknown>
    expect(body.faces).toBeUndefined()
    expect(body.width).toBeGreaterThan(0)
  })

  test('credentials are required and checked', async () => {
    const none = await headshot.get('/v1_1/local/resources/image/facebook/100')
    expect(none.status).toBe(401)
    expect(await none.json()).toEqual({ error: { message: 'Must supply api_key' } })
    const wrong = await headshot.get('/v1_1/local/resources/image/facebook/100', {
      headers: { Authorization: `Basic ${Buffer.from('123456:nope').toString('base64')}` },
    })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toEqual({ error: { message: 'api_secret mismatch' } })
  })

  test('unknown pictures, types and clouds are JSON errors', async () => {
    const missing = await headshot.get('/v1_1/local/resources/image/facebook/999', { headers: auth })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: { message: 'Resource not found - 999' } })
    expect((await headshot.get('/v1_1/local/resources/image/myspace/1', { headers: auth })).status).toBe(400)
    expect((await headshot.get('/v1_1/other/resources/image/facebook/100', { headers: auth })).status).toBe(404)
  })
})
