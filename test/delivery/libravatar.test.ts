/**
 * Libravatar end to end: delivery URLs (bare hash, hash@domain, SDK-made) against a fake central
 * service and a fake DNS for the federation SRV records.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { v2 as cloudinary } from 'cloudinary'
import { probeImage } from '../../src/lib/image-header.ts'
import { builtinPlugins } from '../../plugins/index.ts'
import { createLibravatarPlugin } from '../../plugins/libravatar/index.ts'
import {
  fakeSrv,
  srvRecord,
  startFakeLibravatar,
  type FakeLibravatar,
  type FakeSrv,
} from '../../plugins/libravatar/fake.ts'
import { hasColourOf } from '../support/fakes/images.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'

let central: FakeLibravatar
let dns: FakeSrv
let headshot: Headshot
let md5: string
let sha256: string

function dimensions(bytes: Uint8Array): { format: string; width: number; height: number } {
  const probe = probeImage(bytes)
  if (!probe.ok) throw new Error(probe.error)
  const { format, width, height } = probe.value
  return { format, width, height }
}

beforeAll(async () => {
  central = startFakeLibravatar()
  dns = fakeSrv()
  ;({ md5, sha256 } = central.addEmail('George@example.com'))
  // example.net's SRV record names a host that resolves to a private address.
  dns.records.set('_avatars-sec._tcp.example.net', [srvRecord('avatars.example.net', 443)])
  const plugins = [
    ...builtinPlugins.filter((plugin) => plugin.type !== 'libravatar'),
    createLibravatarPlugin({ resolveSrv: dns.resolveSrv, srvTimeoutMs: 200 }),
  ]
  headshot = await startHeadshot(central.env, {
    plugins,
    resolve: async (host) => (host === 'avatars.example.net' ? ['10.0.0.7'] : []),
  })
})

afterAll(async () => {
  await headshot.close()
  central.stop()
})

describe('libravatar delivery', () => {
  test('a bare hash → the central picture, transformed (c_fill,h_60,w_60 → 60×60 JPEG)', async () => {
    const response = await headshot.get(`/image/libravatar/c_fill,h_60,w_60/${md5}.jpg`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/jpeg')
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect(dimensions(bytes)).toEqual({ format: 'jpg', width: 60, height: 60 })
    expect(await hasColourOf(bytes, 'george@example.com')).toBe(true)
    expect(central.requests.last('avatar')!.query.get('s')).toBe('512')
  })

  test('hash@domain without SRV records → the central picture; @ may be percent-encoded', async () => {
    for (const id of [`${sha256}@example.com`, `${sha256}%40Example.com`]) {
      const response = await headshot.get(`/image/libravatar/w_40,c_scale/${id}.png`)
      expect(response.status).toBe(200)
      const bytes = new Uint8Array(await response.arrayBuffer())
      expect(dimensions(bytes)).toEqual({ format: 'png', width: 40, height: 40 })
      expect(await hasColourOf(bytes, 'george@example.com')).toBe(true)
    }
    expect(dns.queries).toContain('_avatars._tcp.example.com')
  })

  test('a URL made by the cloudinary SDK with an @domain id works', async () => {
    const url = cloudinary.url(`${md5}@example.com`, {
      cloud_name: 'local',
      api_secret: TEST_SECRET,
      type: 'libravatar',
      width: 32,
      height: 32,
      crop: 'fill',
      format: 'webp',
      urlAnalytics: false,
    })
    const response = await headshot.get(new URL(url).pathname)
    expect(response.status).toBe(200)
    expect(dimensions(new Uint8Array(await response.arrayBuffer()))).toEqual({ format: 'webp', width: 32, height: 32 })
  })

  test('an unknown hash → 404', async () => {
    const response = await headshot.get(`/image/libravatar/w_40/${'e'.repeat(32)}.jpg`)
    expect(response.status).toBe(404)
    expect(response.headers.get('x-cld-error')).toBe(`Resource not found - ${'e'.repeat(32)}`)
  })

  test('a malformed id → 400', async () => {
    expect((await headshot.get('/image/libravatar/w_40/George@example.com.jpg')).status).toBe(400)
  })

  test('a domain whose SRV target is on a private address → 502, the central service not asked', async () => {
    const before = central.requests.count('avatar')
    const response = await headshot.get(`/image/libravatar/w_40/${md5}@example.net.jpg`)
    expect(response.status).toBe(502)
    expect(central.requests.count('avatar')).toBe(before)
  })
})
