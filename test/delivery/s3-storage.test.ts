/**
 * A whole headshot with its images in an S3 bucket (HEADSHOT_S3_*): a delivery stores the original
 * and the derived image as objects in the bucket and nothing under the data directory, /readyz
 * checks the bucket, `headshot gc` walks it, and wrong credentials are a 503 whose secret appears
 * in no answer and no log line.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { S3Client } from 'bun'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { STORE_FAILURE_MEMORY_MS } from '../../src/ingest/pictures.ts'
import { sha256Hex } from '../../src/lib/hash.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import { describeS3, s3Env, type S3TestSettings, s3TestSettings } from '../support/s3.ts'
import { startStallProxy } from '../support/stall-proxy.ts'

describeS3('S3 storage end to end', () => {
  let gravatar: FakeGravatar
  let settings: S3TestSettings
  let headshot: Headshot
  let bucket: S3Client
  const objects = async () => ((await bucket.list({ prefix: settings.prefix })).contents ?? []).map((o) => o.key).sort()

  beforeAll(async () => {
    gravatar = startFakeGravatar()
    settings = await s3TestSettings('delivery')
    bucket = new S3Client({ ...settings })
    headshot = await startHeadshot({ ...gravatar.env, ...s3Env(settings) })
  })
  afterAll(async () => {
    await headshot?.close()
    gravatar?.stop()
    for (const key of settings ? await objects() : []) await bucket.unlink(key)
  })

  test('a delivery stores the original and the derived image in the bucket, none on disk', async () => {
    const { md5 } = gravatar.addEmail('s3@example.com')
    const response = await headshot.get(`/image/gravatar/c_fill,h_80,w_80/${md5}.jpg`)
    expect(response.status).toBe(200)
    const derived = new Uint8Array(await response.arrayBuffer())
    const hash = sha256Hex(derived)
    const keys = await objects()
    expect(keys).toHaveLength(2) // the original and this derived image
    expect(keys).toContain(`${settings.prefix}blobs/${hash.slice(0, 2)}/${hash}`)
    expect(
      new Uint8Array(await bucket.file(`${settings.prefix}blobs/${hash.slice(0, 2)}/${hash}`).arrayBuffer()),
    ).toEqual(derived)
    expect(existsSync(join(headshot.dataDir, 'blobs'))).toBe(false)
    // Another size of the same picture reads the original back from the bucket.
    expect((await headshot.get(`/image/gravatar/c_fill,h_40,w_40/${md5}.png`)).status).toBe(200)
    expect(await objects()).toHaveLength(3)
  })

  test('/readyz checks the bucket', async () => {
    const response = await headshot.get('/readyz')
    expect(response.status).toBe(200)
    const body = (await response.json()) as { checks: Record<string, { ok: boolean; detail?: string }> }
    expect(body.checks.s3).toEqual({ ok: true, detail: `bucket ${settings.bucket}` })
  })

  test('headshot gc walks the bucket', () => {
    const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'gc', '--dry-run'], {
      cwd: resolve(import.meta.dir, '..', '..'),
      env: { ...process.env, ...s3Env(settings), HEADSHOT_DATA_DIR: headshot.dataDir },
    })
    const out = new TextDecoder().decode(child.stdout)
    expect(child.exitCode).toBe(0)
    expect(out).toContain(`images: s3://${settings.bucket}/${settings.prefix}`)
    expect(out).toContain('orphan blobs: 0')
  })

  test('a stalled S3 endpoint: deliveries answer 503 (no-store) within HEADSHOT_S3_TIMEOUT, /readyz says so, and all recovers', async () => {
    const proxy = await startStallProxy(settings.endpoint)
    const slow = await startHeadshot({
      ...gravatar.env,
      ...s3Env(settings),
      HEADSHOT_S3_ENDPOINT: proxy.url,
      HEADSHOT_S3_TIMEOUT: '1s',
    })
    try {
      const { md5 } = gravatar.addEmail('s3-stalled@example.com')
      proxy.stall()
      const started = performance.now()
      const response = await slow.get(`/image/gravatar/c_fill,h_60,w_60/${md5}.jpg`)
      const ms = performance.now() - started
      expect(response.status).toBe(503)
      expect(response.headers.get('x-cld-error')).toBe('Image store unavailable')
      expect(response.headers.get('cache-control')).toBe('no-store')
      // The deadline, plus the fake network's answer and decoding on a busy machine.
      expect(ms).toBeLessThan(1000 + 800)
      expect(JSON.stringify(slow.logs)).toContain('did not answer within 1000 ms')
      const ready = await slow.get('/readyz')
      expect(ready.status).toBe(503)
      const checks = ((await ready.json()) as { checks: Record<string, { ok: boolean; detail: string }> }).checks
      expect(checks.s3?.ok).toBe(false)
      expect(checks.s3?.detail).toMatch(/S3 ListObjectsV2 .* did not answer within 1000 ms/)

      // Once the endpoint answers, the same URL serves again within STORE_FAILURE_MEMORY_MS (a store
      // failure is remembered as the picture's for 2 s, where a network's failure is for 30 s).
      proxy.unstall()
      const recovered = performance.now()
      let again = await slow.get(`/image/gravatar/c_fill,h_60,w_60/${md5}.jpg`)
      while (again.status === 503 && performance.now() - recovered < STORE_FAILURE_MEMORY_MS + 1000) {
        await Bun.sleep(100)
        again = await slow.get(`/image/gravatar/c_fill,h_60,w_60/${md5}.jpg`)
      }
      expect(again.status).toBe(200)
      expect((await slow.get('/readyz')).status).toBe(200)
    } finally {
      proxy.unstall()
      await slow.close()
      await proxy.close()
    }
  })

  test('wrong credentials: /readyz and deliveries answer 503, and the secret is in no answer and no log line', async () => {
    const secret = 'wrong-secret-0123456789abcdefghij'
    const broken = await startHeadshot({
      ...gravatar.env,
      ...s3Env(settings),
      HEADSHOT_S3_SECRET_ACCESS_KEY: secret,
    })
    try {
      const ready = await broken.get('/readyz')
      expect(ready.status).toBe(503)
      const text = await ready.text()
      expect(text).toContain('SignatureDoesNotMatch')
      expect(text).not.toContain(secret)
      const { md5 } = gravatar.addEmail('s3-broken@example.com')
      const response = await broken.get(`/image/gravatar/${md5}.jpg`)
      expect(response.status).toBe(503)
      expect(response.headers.get('x-cld-error')).toBe('Image store unavailable')
      const logs = JSON.stringify(broken.logs)
      expect(logs).toContain('S3 ')
      expect(logs).not.toContain(secret)
    } finally {
      await broken.close()
    }
  })
})
