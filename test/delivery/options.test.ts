/**
 * Delivery options an operator turns on: default images (`d_`), named transformations (`t_`,
 * reloadable), and strict transformations.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { v2 as cloudinary } from 'cloudinary'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { probeImage } from '../../src/lib/image-header.ts'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { hasColourOf, makePicture } from '../support/fakes/images.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let headshot: Headshot
let files: string
let transformationsFile: string
let known: string
const UNKNOWN = 'ffffffffffffffffffffffffffffffff'

async function dims(response: Response) {
  const probe = probeImage(new Uint8Array(await response.arrayBuffer()))
  if (!probe.ok) throw new Error(probe.error)
  return probe.value
}

beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'headshot-options-'))
  const placeholders = join(files, 'placeholders')
  mkdirSync(join(placeholders, 'avatars'), { recursive: true })
  writeFileSync(join(placeholders, 'avatar.png'), await makePicture('placeholder', 100, 100, 'png'))
  writeFileSync(join(placeholders, 'avatars', 'default.jpg'), await makePicture('nested', 120, 80, 'jpg'))
  writeFileSync(join(files, 'secret.png'), await makePicture('outside', 10, 10, 'png'))
  symlinkSync(join(files, 'secret.png'), join(placeholders, 'escape.png'))
  transformationsFile = join(files, 'named.json')
  writeFileSync(
    transformationsFile,
    JSON.stringify({ avatar: 'c_fill,h_50,w_50', small: 'c_scale,w_20', round: 'r_max' }),
  )

  gravatar = startFakeGravatar()
  known = gravatar.addEmail('known@example.com').md5
  headshot = await startHeadshot({
    ...gravatar.env,
    HEADSHOT_PLACEHOLDERS_DIR: placeholders,
    HEADSHOT_TRANSFORMATIONS_FILE: transformationsFile,
    HEADSHOT_STRICT_TRANSFORMATIONS: 'true',
    HEADSHOT_ALLOWED_TRANSFORMATIONS: 'w_64,c_scale | c_fill,h_40,w_40/e_grayscale | c_fill,h_20,w_20/dpr_2.0',
  })
})

afterAll(async () => {
  await headshot.close()
  gravatar.stop()
  rmSync(files, { recursive: true, force: true })
})

describe('default images (d_)', () => {
  test('a missing picture is replaced by the placeholder, transformed, with X-Cld-Error and private caching', async () => {
    const response = await headshot.get(headshot.sign(`/image/gravatar/c_fill,d_avatar.png,h_80,w_120/${UNKNOWN}.jpg`))
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cld-error')).toBe(`Resource not found - ${UNKNOWN}`)
    expect(response.headers.get('cache-control')).toBe('private, max-age=60')
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect(probeImage(bytes)).toMatchObject({ ok: true, value: { format: 'jpg', width: 120, height: 80 } })
    expect(await hasColourOf(bytes, 'placeholder')).toBe(true)
  })

  test('the SDK form with a folder (avatars:default.jpg) names a sub-folder', async () => {
    const url = cloudinary.url(UNKNOWN, {
      type: 'gravatar',
      default_image: 'avatars:default.jpg',
      width: 60,
      crop: 'scale',
      sign_url: true,
      api_secret: TEST_SECRET,
      cloud_name: 'local',
      urlAnalytics: false,
    })
    const response = await headshot.get(new URL(url).pathname)
    expect(response.status).toBe(200)
    expect(await dims(response)).toMatchObject({ format: 'jpg', width: 60, height: 40 })
  })

  test('an existing picture ignores d_ and is cached normally', async () => {
    const response = await headshot.get(headshot.sign(`/image/gravatar/c_scale,d_avatar.png,w_30/${known}.jpg`))
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cld-error')).toBeNull()
    expect(response.headers.get('cache-control')).toBe('public, max-age=604800') // the 7-day refresh TTL
  })

  test('a placeholder that does not exist, or escapes the folder, is a plain 404', async () => {
    for (const name of ['nope.png', 'escape.png']) {
      const response = await headshot.get(headshot.sign(`/image/gravatar/d_${name}/${UNKNOWN}.png`))
      expect(response.status).toBe(404)
      expect(response.headers.get('x-cld-error')).toBe(`Resource not found - ${UNKNOWN}`)
    }
    const traversal = await headshot.get(`/image/gravatar/d_..:secret.png/${UNKNOWN}.png`)
    expect(traversal.status).toBe(400)
  })
})

describe('named transformations (t_)', () => {
  test('t_name and t_a.b expand from the transformations file', async () => {
    expect(await dims(await headshot.get(`/image/gravatar/t_avatar/${known}.png`))).toMatchObject({
      width: 50,
      height: 50,
    })
    expect(await dims(await headshot.get(`/image/gravatar/t_avatar.small/${known}.png`))).toMatchObject({
      width: 20,
      height: 20,
    })
  })

  test('fl_immutable_cache makes an unversioned URL immutable', async () => {
    const response = await headshot.get(headshot.sign(`/image/gravatar/c_scale,w_30,fl_immutable_cache/${known}.png`))
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
  })

  test('an unknown name → 400 Unknown transformation', async () => {
    const response = await headshot.get(`/image/gravatar/t_nope_xyz/${known}.png`)
    expect(response.status).toBe(400)
    expect(response.headers.get('x-cld-error')).toBe('Unknown transformation nope_xyz')
  })

  test('a reload picks up new names and keeps the old set when the file is broken', async () => {
    expect(await dims(await headshot.get(`/image/gravatar/t_avatar/${known}.png`))).toMatchObject({ width: 50 })
    writeFileSync(transformationsFile, JSON.stringify({ avatar: 'c_fill,h_60,w_60', tiny: 'c_scale,w_8' }))
    expect(headshot.app.reloadNamedTransformations()).toBeUndefined()
    expect(await dims(await headshot.get(`/image/gravatar/t_tiny/${known}.png`))).toMatchObject({ width: 8 })
    // The new definition applies at once, even to a URL answered a moment ago.
    expect(await dims(await headshot.get(`/image/gravatar/t_avatar/${known}.png`))).toMatchObject({ width: 60 })
    writeFileSync(transformationsFile, '{"broken": ')
    expect(headshot.app.reloadNamedTransformations()).toContain('named.json')
    // Well-formed JSON with a definition that could never be served is refused at load too.
    for (const bad of [{ x: 'c_fill,w_abc' }, { loop: 't_loop' }, { a: 't_b', b: 't_a' }, { dangling: 't_missing' }]) {
      writeFileSync(transformationsFile, JSON.stringify({ tiny: 'c_scale,w_8', ...bad }))
      expect(headshot.app.reloadNamedTransformations()).toMatch(/named\.json: t_\w+: /)
    }
    expect((await headshot.get(`/image/gravatar/t_tiny/${known}.png`)).status).toBe(200)
  })
})

describe('strict transformations', () => {
  test('an unsigned, unlisted transformation is refused before any upstream work', async () => {
    const before = gravatar.requests.count()
    const response = await headshot.get(`/image/gravatar/c_scale,w_65/${known}.png`)
    expect(response.status).toBe(401)
    expect(response.headers.get('x-cld-error')).toBe('Transformation c_scale,w_65 is not allowed')
    expect(gravatar.requests.count()).toBe(before)
  })

  test('the allow-list matches regardless of parameter order; signed URLs and named transformations pass', async () => {
    expect((await headshot.get(`/image/gravatar/c_scale,w_64/${known}.png`)).status).toBe(200)
    expect((await headshot.get(`/image/gravatar/c_fill,w_40,h_40/e_grayscale/${known}.png`)).status).toBe(200)
    expect((await headshot.get(headshot.sign(`/image/gravatar/c_scale,w_66/${known}.png`))).status).toBe(200)
    expect((await headshot.get(`/image/gravatar/t_avatar/${known}.png`)).status).toBe(200)
    expect((await headshot.get(`/image/gravatar/${known}.png`)).status).toBe(200)
  })

  test('a derivative that already exists (made by a signed URL) may be requested unsigned', async () => {
    expect((await headshot.get(`/image/gravatar/c_scale,w_66/${known}.png`)).status).toBe(200)
  })

  test('fl_getinfo follows the same list: it describes an allowed chain, not an unlisted one', async () => {
    const allowed = await headshot.get(`/image/gravatar/c_scale,w_64/fl_getinfo/${known}.png`)
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('content-type')).toStartWith('application/json')
    expect((await headshot.get(`/image/gravatar/t_avatar/fl_getinfo/${known}.png`)).status).toBe(200)
    expect((await headshot.get(`/image/gravatar/c_scale,w_67/fl_getinfo/${known}.png`)).status).toBe(401)
  })

  test('a dpr component of its own and the dpr written inside are one list entry', async () => {
    expect((await headshot.get(`/image/gravatar/c_fill,h_20,w_20/dpr_2.0/${known}.png`)).status).toBe(200)
    const inline = await headshot.get(`/image/gravatar/c_fill,dpr_2,h_20,w_20/${known}.png`)
    expect(inline.status).toBe(200)
    const probe = probeImage(new Uint8Array(await inline.arrayBuffer()))
    expect(probe.ok && probe.value).toMatchObject({ width: 40, height: 40 })
    expect((await headshot.get(`/image/gravatar/c_fill,h_20,w_20/dpr_3/${known}.png`)).status).toBe(401)
  })
})
