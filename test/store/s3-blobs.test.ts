/**
 * The S3 blob store against a real S3-compatible endpoint (Ceph's RADOS Gateway in CI, see
 * test/support/s3.ts): the shared BlobStore suite, then what is particular to S3 (key layout,
 * prefixes, the skipped re-upload, errors without credentials, garbage collection, readiness).
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { S3Client } from 'bun'
import { sha256Hex } from '../../src/lib/hash.ts'
import { toHttpError } from '../../src/lib/http-error.ts'
import { collectGarbage } from '../../src/store/gc.ts'
import {
  createS3BlobStore,
  normalizeS3Prefix,
  putDeadlineMs,
  S3StoreError,
  type S3Settings,
} from '../../src/store/s3-blobs.ts'
import { listMultipartUploads, signedS3Fetch } from '../../src/store/s3-sign.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { describeS3, type S3TestSettings, s3TestSettings } from '../support/s3.ts'
import { type StallProxy, startStallProxy } from '../support/stall-proxy.ts'
import { picture } from '../support/store-fixtures.ts'
import { blobStoreContract, bytesOf } from './blob-store-contract.ts'

const clientFor = (settings: S3Settings) =>
  new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    bucket: settings.bucket,
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
  })

/** Deletes every object under a test's prefix (the bucket is shared by all test runs). */
async function emptyPrefix(settings: S3TestSettings): Promise<void> {
  const client = clientFor(settings)
  for (;;) {
    const page = await client.list({ prefix: settings.prefix, maxKeys: 1000 })
    const keys = (page.contents ?? []).map((object) => object.key)
    if (keys.length === 0) break
    await Promise.all(keys.map((key) => client.unlink(key)))
  }
}

test('prefixes are normalised to end in one slash', () => {
  expect(normalizeS3Prefix(undefined)).toBe('')
  expect(normalizeS3Prefix('')).toBe('')
  expect(normalizeS3Prefix('headshot')).toBe('headshot/')
  expect(normalizeS3Prefix('/a/b/')).toBe('a/b/')
})

test('a PUT waits the call deadline plus 1 s per started MB it uploads', () => {
  expect(putDeadlineMs(5000, 0)).toBe(5000)
  expect(putDeadlineMs(5000, 20_000)).toBe(6000)
  expect(putDeadlineMs(5000, 10_000_000)).toBe(15_000)
  expect(putDeadlineMs(500, 1_000_001)).toBe(2500)
})

describeS3('BlobStore contract: S3', () => {
  blobStoreContract(
    async () => {
      const settings = await s3TestSettings('contract')
      const store = createS3BlobStore(settings)
      const client = clientFor(settings)
      return {
        store,
        async overwrite(hash, bytes) {
          await client.write(store.keyFor(hash), bytes)
        },
        async plantStrays([a, b]) {
          await client.write(`${settings.prefix}blobs/${a!.slice(0, 2)}/notes.txt`, 'hand-made')
          await client.write(`${settings.prefix}blobs/zz/${a}`, 'not a shard of this hash')
          // A blob-like name in the wrong shard, and the disk layout's deeper path: not blobs of this store.
          await client.write(`${settings.prefix}blobs/${a!.slice(0, 2)}/${b}`, 'misplaced')
          await client.write(`${settings.prefix}blobs/${b!.slice(0, 2)}/${b!.slice(2, 4)}/${b}`, 'disk layout')
        },
        async leaveLeftover(hash) {
          // An upload started and never completed: its key is not an object until it is.
          const response = await signedS3Fetch(settings, {
            method: 'POST',
            bucket: settings.bucket,
            key: store.keyFor(hash),
            query: { uploads: '' },
          })
          expect(response.status).toBe(200)
        },
        async cleanup() {
          await store.sweepLeftovers(-60_000)
          await emptyPrefix(settings)
        },
      }
    },
    { listPageSize: 1000 },
  )
})

describeS3('S3 blob store', () => {
  let settings: S3TestSettings
  beforeEach(async () => {
    settings = await s3TestSettings('s3')
  })
  afterAll(async () => {
    if (settings) await emptyPrefix(settings)
  })

  test('a blob is the object <prefix>blobs/<ab>/<sha256>', async () => {
    const store = createS3BlobStore(settings)
    const bytes = bytesOf('a profile picture')
    const hash = await store.put(bytes)
    expect(store.keyFor(hash)).toBe(`${settings.prefix}blobs/${hash.slice(0, 2)}/${hash}`)
    const listed = await clientFor(settings).list({ prefix: settings.prefix })
    expect(listed.contents?.map((o) => [o.key, o.size])).toEqual([[store.keyFor(hash), bytes.byteLength]])
  })

  test('stores under different prefixes of one bucket do not see each other', async () => {
    const one = createS3BlobStore(settings)
    const other = createS3BlobStore({ ...settings, prefix: `${settings.prefix}other` })
    const hash = await one.put(bytesOf('only in one'))
    expect(await other.has(hash)).toBe(false)
    expect(await Array.fromAsync(other.list())).toEqual([])
    expect((await Array.fromAsync(one.list())).map((e) => e.hash)).toEqual([hash])
  })

  test('putting existing content again skips the upload while the object is recent, re-uploads it when older', async () => {
    const bytes = bytesOf('same bytes')
    const store = createS3BlobStore(settings)
    const hash = await store.put(bytes)
    const first = (await Array.fromAsync(store.list()))[0]!.modifiedAt
    await Bun.sleep(1100) // S3 dates objects to the second
    await store.put(bytes)
    expect((await Array.fromAsync(store.list()))[0]!.modifiedAt).toBe(first)
    // With a 0 refresh age every put of existing bytes writes them again: the time moves.
    await createS3BlobStore({ ...settings, refreshAfterMs: 0 }).put(bytes)
    expect((await Array.fromAsync(store.list()))[0]!.modifiedAt).toBeGreaterThan(first)
    expect(await store.get(hash)).toEqual(bytes)
  })

  test('garbage collection deletes unnamed blobs older than an hour and keeps named ones', async () => {
    const store = createS3BlobStore(settings)
    const repo = openSqliteRepository(':memory:')
    try {
      const named = await store.put(bytesOf('an original'))
      await repo.putPicture(picture({ contentHash: named, bytes: 11 }))
      const orphan = await store.put(bytesOf('written, then the process died before its row'))
      const gc = (now: number) => collectGarbage({ repo, blobs: store, negativeTtlMs: 3_600_000, now: () => now })
      expect((await gc(Date.now())).orphanBlobs.count).toBe(0) // young: its row may be on its way
      const report = await gc(Date.now() + 2 * 3_600_000)
      expect(report.orphanBlobs.count).toBe(1)
      expect(await store.has(orphan)).toBe(false)
      expect(await store.has(named)).toBe(true)
    } finally {
      repo.close()
    }
  })

  test('a wrong secret key: every call fails with an S3StoreError naming the code, never the key; a 503 for clients', async () => {
    const secret = 'not-the-secret-0123456789abcdef'
    const store = createS3BlobStore({ ...settings, secretAccessKey: secret })
    const hash = sha256Hex(bytesOf('x'))
    const calls = [() => store.put(bytesOf('x')), () => store.get(hash), () => store.has(hash), () => store.check()]
    for (const call of calls) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(S3StoreError)
      expect((error as Error).message).toMatch(/SignatureDoesNotMatch|wrong credentials/)
      expect((error as Error).message).not.toContain(secret)
      expect(toHttpError(error).status).toBe(503)
    }
  })

  test('a missing bucket and an endpoint that does not answer are clear errors', async () => {
    const missing = createS3BlobStore({ ...settings, bucket: `no-such-bucket-${Date.now()}` })
    await expect(missing.check()).rejects.toThrow(/NoSuchBucket/)
    await expect(missing.put(bytesOf('y'))).rejects.toThrow(/NoSuchBucket/)
    const down = createS3BlobStore({ ...settings, endpoint: 'http://127.0.0.1:9' })
    await expect(down.check(1000)).rejects.toThrow(/S3 ListObjectsV2 .* failed/)
  })

  test('presign: a URL anyone can GET the blob with, answered with the given type, until it expires', async () => {
    const store = createS3BlobStore(settings)
    const bytes = bytesOf('a large original')
    const hash = await store.put(bytes)
    const url = store.presign(hash, { contentType: 'image/png', expiresInSeconds: 1 })
    const fetched = await fetch(url)
    expect(fetched.status).toBe(200)
    expect(fetched.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await fetched.arrayBuffer())).toEqual(bytes)
    await Bun.sleep(2100)
    expect((await fetch(url)).status).toBe(403)
    expect(() => store.presign('../etc/passwd', { contentType: 'image/png', expiresInSeconds: 60 })).toThrow(
      /invalid blob hash/,
    )
  })

  test('sweepLeftovers aborts only unfinished uploads under its own prefix', async () => {
    const store = createS3BlobStore(settings)
    const outside = `${settings.prefix.replace(/\/$/, '')}-elsewhere/blobs/aa/${'a'.repeat(64)}`
    const start = await signedS3Fetch(settings, {
      method: 'POST',
      bucket: settings.bucket,
      key: outside,
      query: { uploads: '' },
    })
    expect(start.status).toBe(200)
    await Bun.sleep(1100)
    expect((await store.sweepLeftovers(0)).count).toBe(0)
    const uploads = await listMultipartUploads(settings, settings.bucket, outside)
    expect(uploads.length).toBe(1)
    await createS3BlobStore({ ...settings, prefix: `${settings.prefix.replace(/\/$/, '')}-elsewhere` }).sweepLeftovers(
      0,
    )
    expect(await listMultipartUploads(settings, settings.bucket, outside)).toEqual([])
  })
})

describe('S3 store errors', () => {
  test('an unreachable endpoint: the message names operation, bucket and endpoint but not the secret', async () => {
    const secret = 'super-secret-value-1234567890'
    const store = createS3BlobStore({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      bucket: 'b',
      accessKeyId: 'AK',
      secretAccessKey: secret,
    })
    const error = await store.get('a'.repeat(64)).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).toMatch(/^S3 GetObject s3:\/\/b\/blobs\/aa\/a{64} at http:\/\/127\.0\.0\.1:9 failed/)
    expect(error?.message).not.toContain(secret)
  })
})

/** The rejection of `promise` and how long it took to come, ms. */
async function timedFailure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now()
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  return { error, ms: performance.now() - started }
}

describeS3('S3 calls against an endpoint that stops answering', () => {
  const TIMEOUT_MS = 400
  let settings: S3TestSettings
  let proxy: StallProxy
  beforeEach(async () => {
    settings = await s3TestSettings('stall')
    proxy = await startStallProxy(settings.endpoint)
  })
  afterEach(async () => {
    proxy.unstall()
    await proxy.close()
    await emptyPrefix(settings)
  })

  test('every call fails within its deadline as a 503 S3StoreError, and works again once the endpoint answers', async () => {
    const store = createS3BlobStore({ ...settings, endpoint: proxy.url, timeoutMs: TIMEOUT_MS })
    const stored = await store.put(bytesOf('stored before the stall'))
    const other = bytesOf('put during the stall')
    proxy.stall()
    const calls: Array<[string, () => Promise<unknown>, number]> = [
      ['GetObject', () => store.get(stored), TIMEOUT_MS],
      ['HeadObject', () => store.has(stored), TIMEOUT_MS],
      ['HeadObject', () => store.put(other), TIMEOUT_MS], // put() asks whether the object exists first
      ['DeleteObject', () => store.delete(sha256Hex(bytesOf('never stored'))), TIMEOUT_MS],
      ['ListObjectsV2', () => Array.fromAsync(store.list()), TIMEOUT_MS],
      ['ListObjectsV2', () => store.check(), TIMEOUT_MS],
    ]
    for (const [operation, call, deadline] of calls) {
      const { error, ms } = await timedFailure(call())
      expect(error).toBeInstanceOf(S3StoreError)
      expect((error as S3StoreError).code).toBe('Timeout')
      expect((error as Error).message).toContain(`S3 ${operation} s3://${settings.bucket}/`)
      expect((error as Error).message).toContain(`did not answer within ${deadline} ms`)
      expect(toHttpError(error).status).toBe(503)
      expect(ms).toBeGreaterThanOrEqual(deadline - 20)
      expect(ms).toBeLessThan(deadline + 300)
    }
    proxy.unstall()
    expect(await store.get(stored)).toEqual(bytesOf('stored before the stall'))
    expect(await store.put(other)).toBe(sha256Hex(other))
    await store.check()
  })

  test('a PUT that times out and lands late stores exactly its bytes (content-addressed: harmless)', async () => {
    const store = createS3BlobStore({ ...settings, endpoint: proxy.url, timeoutMs: TIMEOUT_MS })
    const bytes = bytesOf('an upload held up in the network')
    const hash = sha256Hex(bytes)
    const direct = createS3BlobStore(settings)
    proxy.stall('PUT ') // the HEAD goes through; the PUT is held
    const { error, ms } = await timedFailure(store.put(bytes))
    // Its deadline: the call's, plus a second for the (first) MB it carries.
    expect((error as Error).message).toContain(`S3 PutObject s3://${settings.bucket}/${store.keyFor(hash)}`)
    expect((error as Error).message).toContain(`did not answer within ${TIMEOUT_MS + 1000} ms`)
    expect(ms).toBeLessThan(TIMEOUT_MS + 1000 + 300)
    expect(await direct.has(hash)).toBe(false)
    proxy.unstall()
    // The held PUT goes on once the endpoint answers: the object appears whole, under its hash.
    for (let i = 0; i < 100 && !(await direct.has(hash)); i++) await Bun.sleep(20)
    expect(await direct.get(hash)).toEqual(bytes)
  })

  test('calls left unanswered are bounded: past the cap new calls fail at once, and resume when they settle', async () => {
    const store = createS3BlobStore({ ...settings, endpoint: proxy.url, timeoutMs: TIMEOUT_MS, maxUnanswered: 2 })
    const hash = await store.put(bytesOf('read while stalled'))
    proxy.stall()
    await Promise.all([timedFailure(store.get(hash)), timedFailure(store.has(hash))])
    const refused = await timedFailure(store.get(hash))
    expect((refused.error as Error).message).toMatch(/S3 GetObject .* not tried: 2 earlier calls are still unanswered/)
    expect(toHttpError(refused.error).status).toBe(503)
    expect(refused.ms).toBeLessThan(50) // no new connection to the hung endpoint, no wait
    proxy.unstall()
    await Bun.sleep(200) // the late answers arrive and are dropped
    expect(await store.get(hash)).toEqual(bytesOf('read while stalled'))
  })
})
