/**
 * HEADSHOT_S3_REDIRECT_BYTES against a real bucket: an untransformed original at least that large
 * is answered 302 to a presigned URL of its object, which serves exactly the original's bytes with
 * its image type; anything transformed, converted, downloaded or smaller is served as before, and
 * without the setting nothing is redirected.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { S3Client } from 'bun'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { sha256Hex } from '../../src/lib/hash.ts'
import { makePicture } from '../support/fakes/images.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import { describeS3, s3Env, type S3TestSettings, s3TestSettings } from '../support/s3.ts'
import { startStallProxy, type StallProxy } from '../support/stall-proxy.ts'

// The fake Gravatar answers 2048×2048 pictures: about 117 kB as JPEG, 31 kB as PNG.
const THRESHOLD = '64kB'

describeS3('redirects of large originals to presigned S3 URLs', () => {
  let gravatar: FakeGravatar
  let settings: S3TestSettings
  let bucket: S3Client
  let redirecting: Headshot
  let plain: Headshot
  /** A picture the fake network holds, and the exact bytes it answers. */
  type Held = { md5: string; original: Uint8Array<ArrayBuffer> }
  let big: Held
  let small: Held

  beforeAll(async () => {
    gravatar = startFakeGravatar()
    settings = await s3TestSettings('redirect')
    bucket = new S3Client({ ...settings })
    redirecting = await startHeadshot({ ...gravatar.env, ...s3Env(settings), HEADSHOT_S3_REDIRECT_BYTES: THRESHOLD })
    plain = await startHeadshot({ ...gravatar.env, ...s3Env(settings) })
    big = {
      md5: gravatar.addEmail('s3-big@example.com').md5,
      original: new Uint8Array(await makePicture('s3-big@example.com', 2048, 2048, 'jpg')),
    }
    small = {
      md5: gravatar.addEmail('s3-small@example.com', { format: 'png' }).md5,
      original: new Uint8Array(await makePicture('s3-small@example.com', 2048, 2048, 'png')),
    }
    expect(big.original.byteLength).toBeGreaterThan(64_000)
    expect(small.original.byteLength).toBeLessThan(64_000)
  })
  afterAll(async () => {
    await redirecting?.close()
    await plain?.close()
    gravatar?.stop()
    const keys = settings ? ((await bucket.list({ prefix: settings.prefix })).contents ?? []) : []
    for (const { key } of keys) await bucket.unlink(key)
  })

  test('an untransformed original over the threshold: 302 to a presigned URL serving its exact bytes as image/jpeg', async () => {
    const response = await redirecting.get(`/image/gravatar/${big.md5}.jpg`)
    expect(response.status).toBe(302)
    const location = response.headers.get('location')!
    const hash = sha256Hex(big.original)
    expect(
      location.startsWith(
        `${settings.endpoint}/${settings.bucket}/${settings.prefix}blobs/${hash.slice(0, 2)}/${hash}?`,
      ),
    ).toBe(true)
    const query = new URL(location).searchParams
    expect(query.get('X-Amz-Expires')).toBe('900')
    expect(query.get('response-content-type')).toBe('image/jpeg')
    // Cached for less than the URL lives, and never as immutable: the Location expires.
    expect(response.headers.get('cache-control')).toBe('public, max-age=300')
    expect(response.headers.get('etag')).toBeNull()
    expect(response.headers.get('cache-tag')).toBeTruthy()
    expect(await response.arrayBuffer()).toHaveProperty('byteLength', 0)

    // Followed without any credentials, as a browser would.
    const followed = await fetch(location)
    expect(followed.status).toBe(200)
    expect(followed.headers.get('content-type')).toBe('image/jpeg')
    expect(new Uint8Array(await followed.arrayBuffer())).toEqual(big.original)
  })

  test('versioned URLs and HEAD requests are redirected alike, still with the short Cache-Control', async () => {
    const info = await redirecting.get(`/image/gravatar/fl_getinfo/${big.md5}.jpg`)
    expect(info.status).toBe(200) // fl_getinfo describes the picture: never a redirect
    const { version } = (await info.json()) as { version: number }
    const versioned = await redirecting.get(`/image/gravatar/v${version}/${big.md5}.jpg`)
    expect(versioned.status).toBe(302)
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=300')
    expect((await redirecting.head(`/image/gravatar/${big.md5}.jpg`)).status).toBe(302)
  })

  test('a transformation, another format, a download or a smaller original: served as before (200)', async () => {
    const served = async (path: string) => {
      const response = await redirecting.get(path)
      expect(response.status).toBe(200)
      expect(response.headers.get('location')).toBeNull()
      return new Uint8Array(await response.arrayBuffer())
    }
    await served(`/image/gravatar/c_fill,h_80,w_80/${big.md5}.jpg`)
    await served(`/image/gravatar/${big.md5}.png`)
    expect(await served(`/image/gravatar/fl_attachment/${big.md5}.jpg`)).toEqual(big.original)
    expect(await served(`/image/gravatar/${small.md5}.png`)).toEqual(small.original)
  })

  test('off by default: the same original is served through headshot', async () => {
    const response = await plain.get(`/image/gravatar/${big.md5}.jpg`)
    expect(response.status).toBe(200)
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(big.original)
  })

  describe('HEADSHOT_S3_PUBLIC_ENDPOINT', () => {
    let proxy: StallProxy
    let publicFacing: Headshot
    beforeAll(async () => {
      // Another address of the same gateway, standing for the name clients reach the bucket by.
      proxy = await startStallProxy(settings.endpoint)
      publicFacing = await startHeadshot({
        ...gravatar.env,
        ...s3Env(settings),
        HEADSHOT_S3_REDIRECT_BYTES: THRESHOLD,
        HEADSHOT_S3_PUBLIC_ENDPOINT: proxy.url,
      })
    })
    afterAll(async () => {
      await publicFacing?.close()
      await proxy?.close()
    })

    test('presigned URLs name the public endpoint (signed for it), headshot itself keeps the private one', async () => {
      const response = await publicFacing.get(`/image/gravatar/${big.md5}.jpg`)
      expect(response.status).toBe(302)
      const location = response.headers.get('location')!
      expect(location.startsWith(`${proxy.url}/${settings.bucket}/${settings.prefix}blobs/`)).toBe(true)
      expect(proxy.connections).toBe(0) // storing the original went to HEADSHOT_S3_ENDPOINT
      const followed = await fetch(location)
      expect(followed.status).toBe(200)
      expect(new Uint8Array(await followed.arrayBuffer())).toEqual(big.original)
    })
  })
})
