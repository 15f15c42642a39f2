/**
 * The store bound: what goes first when the store is over HEADSHOT_MAX_STORE_BYTES (derived images
 * served least recently, then whole pictures), what never goes (eager images, anything in use or
 * just served, bytes another row still names), and that it runs beside requests, not inside them.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createDerivativeSource } from '../../src/ingest/derivatives.ts'
import { withBlobCache } from '../../src/store/blob-cache.ts'
import { createDiskBlobStore } from '../../src/store/blobs.ts'
import { createBlobPins } from '../../src/store/pins.ts'
import { createStoreQuota, EVICTION_GRACE_MS, evictionTarget, type StoreQuotaOptions } from '../../src/store/quota.ts'
import { createServedLog } from '../../src/store/served.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import type { BlobStore, Derivative, HeldPicture, Repository } from '../../src/store/types.ts'
import { derivative, picture, tempDir } from '../support/store-fixtures.ts'

/** "Now" in these tests; everything stored below was last served long before it. */
const NOW = 1_800_000_000_000
const LONG_AGO = NOW - 86_400_000

let dir: ReturnType<typeof tempDir>
let repo: Repository
let disk: BlobStore
let filler = 0
beforeEach(() => {
  dir = tempDir('headshot-quota-')
  repo = openSqliteRepository(':memory:')
  disk = createDiskBlobStore(dir.path)
})
afterEach(() => {
  repo.close()
  dir.cleanup()
})

/** `size` distinct bytes in the blob store; returns their hash. */
async function blob(size: number, blobs: BlobStore = disk): Promise<string> {
  const bytes = new Uint8Array(size)
  new DataView(bytes.buffer).setUint32(0, ++filler)
  return blobs.put(bytes)
}

async function storedPicture(publicId: string, size: number, lastServedAt = LONG_AGO): Promise<HeldPicture> {
  const held = picture({ publicId, contentHash: await blob(size), bytes: size, fetchedAt: lastServedAt }) as HeldPicture
  await repo.putPicture(held)
  return held
}

async function storedDerivative(
  of: HeldPicture,
  key: string,
  size: number,
  lastServedAt: number,
  overrides: Partial<Derivative> = {},
): Promise<Derivative> {
  const row = derivative({
    publicId: of.publicId,
    version: of.version,
    key,
    contentHash: overrides.contentHash ?? (await blob(size)),
    bytes: size,
    lastServedAt,
    ...overrides,
  })
  await repo.putDerivative(row)
  return row
}

const quotaOf = (maxBytes: number, options: Partial<StoreQuotaOptions> = {}) =>
  createStoreQuota({ repo, blobs: disk, maxBytes, now: () => NOW, log: () => {}, ...options })

const keysOf = async (publicId: string) => (await repo.listDerivatives('facebook', publicId)).map((d) => d.key).sort()

describe('store bound: what goes first', () => {
  test('derived images served least recently go first, down to 90 % of the bound; the original stays', async () => {
    const p = await storedPicture('p', 1000)
    const rows: Derivative[] = []
    for (const [key, served] of [
      ['d3', 3],
      ['d1', 1],
      ['d5', 5],
      ['d2', 2],
      ['d4', 4],
    ] as const) {
      rows.push(await storedDerivative(p, key, 100, LONG_AGO + served))
    }
    // 1500 bytes against a bound of 1300: down to 1170 takes the four served longest ago.
    const report = await quotaOf(1300).enforce()
    expect(evictionTarget(1300)).toBe(1170)
    expect(report).toMatchObject({ derivatives: 4, originals: 0, stillOver: false })
    expect(report.before.bytes).toBe(1500)
    expect(report.after).toEqual({ bytes: 1100, blobs: 2 })
    expect(await keysOf('p')).toEqual(['d5'])
    for (const row of rows) expect(await disk.has(row.contentHash)).toBe(row.key === 'd5')
    expect(await disk.has(p.contentHash)).toBe(true)
  })

  test('under the bound nothing is touched', async () => {
    const p = await storedPicture('p', 1000)
    await storedDerivative(p, 'd', 100, LONG_AGO)
    expect(await quotaOf(1100).enforce()).toMatchObject({ derivatives: 0, originals: 0 })
    expect(await keysOf('p')).toEqual(['d'])
  })

  test('originals go only when derived images cannot get under the bound, least recently served picture first', async () => {
    const older = await storedPicture('older', 1000, LONG_AGO + 10)
    const newer = await storedPicture('newer', 1000, LONG_AGO + 20)
    await storedDerivative(newer, 'd', 100, LONG_AGO + 30)
    // 2100 bytes, bound 1500 (target 1350): the derived image first, then the older picture.
    const evicted: string[] = []
    const report = await quotaOf(1500, { onEvicted: (kind, n) => evicted.push(`${kind}×${n}`) }).enforce()
    expect(report).toMatchObject({ derivatives: 1, originals: 1, after: { bytes: 1000, blobs: 1 } })
    expect(evicted).toEqual(['derivative×1', 'original×1'])
    expect(await repo.getPicture('facebook', 'older')).toBeUndefined()
    expect(await disk.has(older.contentHash)).toBe(false)
    expect(await repo.getPicture('facebook', 'newer')).toBeDefined()
    expect(await disk.has(newer.contentHash)).toBe(true)
  })

  test('a forgotten picture takes the derived images it still had with it', async () => {
    const p = await storedPicture('p', 1000)
    const eagerless = await storedDerivative(p, 'recent', 100, NOW - 1000) // inside the grace window
    // The picture itself was last served long ago (the served log records both together in practice;
    // here the derived image alone is recent, so the picture is a candidate and takes it along).
    const report = await quotaOf(500).enforce()
    expect(report).toMatchObject({ derivatives: 0, originals: 1, after: { bytes: 0, blobs: 0 } })
    expect(await disk.has(eagerless.contentHash)).toBe(false)
  })

  test('the dry run lists the same order and deletes nothing', async () => {
    const p = await storedPicture('p', 1000)
    for (let i = 1; i <= 5; i++) await storedDerivative(p, `d${i}`, 100, LONG_AGO + i)
    const plan = await quotaOf(1300).enforce({ dryRun: true })
    expect(plan).toMatchObject({ derivatives: 4, originals: 0, plannedBytes: 400, after: { bytes: 1100 } })
    expect(await keysOf('p')).toEqual(['d1', 'd2', 'd3', 'd4', 'd5'])
    expect((await repo.storeUsage()).bytes).toBe(1500)
  })
})

describe('store bound: what never goes', () => {
  test('eager derived images, and the pictures they belong to', async () => {
    const p = await storedPicture('p', 1000)
    await storedDerivative(p, 'eager', 100, LONG_AGO, { eager: true })
    await storedDerivative(p, 'plain', 100, LONG_AGO)
    const report = await quotaOf(200).enforce()
    expect(report).toMatchObject({ derivatives: 1, originals: 0, stillOver: true })
    expect(await keysOf('p')).toEqual(['eager'])
    expect(await repo.getPicture('facebook', 'p')).toBeDefined()
  })

  test('anything served within the grace window', async () => {
    const p = await storedPicture('p', 1000, NOW - EVICTION_GRACE_MS / 2)
    await storedDerivative(p, 'recent', 100, NOW - EVICTION_GRACE_MS / 2)
    await storedDerivative(p, 'old', 100, NOW - EVICTION_GRACE_MS * 2)
    const report = await quotaOf(100).enforce()
    expect(report).toMatchObject({ derivatives: 1, originals: 0, stillOver: true })
    expect(await keysOf('p')).toEqual(['recent'])
  })

  test('a delivery that starts after eviction listed its image keeps it (the served log is asked before deleting)', async () => {
    const p = await storedPicture('p', 1000)
    const first = await storedDerivative(p, 'first', 100, LONG_AGO + 1)
    const second = await storedDerivative(p, 'second', 100, LONG_AGO + 2)
    const served = createServedLog({ repo, flushEveryMs: 0 })
    // A request for the second image arrives once eviction has listed its candidates, before it
    // deletes any: it records its delivery (in memory, not yet written), as delivery does for the
    // picture and its derived image, and reads on.
    const listing: Repository = {
      ...repo,
      listColdDerivatives: async (...args) => {
        const page = await repo.listColdDerivatives(...args)
        setImmediate(() => {
          served.picture(p.type, p.publicId, NOW)
          served.derivative(second, NOW)
        })
        return page
      },
    }
    const report = await quotaOf(1000, { repo: listing, served }).enforce()
    expect(report).toMatchObject({ derivatives: 1, originals: 0, stillOver: true })
    expect(await keysOf('p')).toEqual(['second'])
    expect(await disk.has(second.contentHash)).toBe(true)
    expect(await disk.has(first.contentHash)).toBe(false)
  })

  test('a blob being read is not deleted under the reader, however long the read takes', async () => {
    const p = await storedPicture('p', 1000)
    const slow = await storedDerivative(p, 'slow', 100, LONG_AGO)
    const pins = createBlobPins()
    let clock = LONG_AGO
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    // A blob store whose reads wait (a slow disk or a remote store streaming a large file).
    const slowBlobs: BlobStore = { ...disk, get: async (hash) => (await gate, disk.get(hash)) }
    let derived = 0
    const source = createDerivativeSource({
      repo,
      blobs: slowBlobs,
      pins,
      derive: async () => (derived++, { bytes: new Uint8Array(1), format: 'jpg', width: 1, height: 1 }),
      now: () => clock,
    })
    const reading = source.get(p, [], 'jpg', 'slow')
    await Bun.sleep(5) // the row is found and the read has started
    clock = NOW // the read outlasts the grace window: only the pin protects it now
    const report = await createStoreQuota({
      repo,
      blobs: disk,
      maxBytes: 1000,
      pins,
      now: () => clock,
      log: () => {},
    }).enforce()
    release()
    const answer = await reading
    expect(report).toMatchObject({ derivatives: 0, stillOver: true })
    expect(answer.row.key).toBe('slow')
    expect(answer.bytes.byteLength).toBe(100) // the stored bytes, not a fresh derivation
    expect(derived).toBe(0)
    expect(await disk.has(slow.contentHash)).toBe(true)
    expect(pins.size).toBe(0)
  })

  test('a picture whose original is being transformed is not forgotten meanwhile', async () => {
    const p = await storedPicture('p', 1000)
    const pins = createBlobPins()
    let finish!: () => void
    const working = new Promise<void>((resolve) => (finish = resolve))
    const source = createDerivativeSource({
      repo,
      blobs: disk,
      pins,
      derive: async () => {
        await working // a long transformation in the worker pool
        return { bytes: new Uint8Array(10), format: 'jpg', width: 1, height: 1 }
      },
      now: () => NOW,
    })
    const making = source.get(p, [], 'jpg', 'new/jpg')
    await Bun.sleep(5)
    const report = await quotaOf(500, { pins }).enforce()
    finish()
    // Its row is still there, so the new derived image's row can be stored (it needs the picture's).
    expect((await making).row.key).toBe('new/jpg')
    expect(report).toMatchObject({ originals: 0, stillOver: true })
    expect(await repo.getPicture('facebook', 'p')).toBeDefined()
  })

  test('bytes another row still names stay on disk; only the evicted row goes', async () => {
    const a = await storedPicture('a', 1000)
    const b = await storedPicture('b', 1000, NOW)
    const cold = await storedDerivative(a, 'shared', 100, LONG_AGO)
    await storedDerivative(b, 'shared', 100, NOW, { contentHash: cold.contentHash }) // same bytes, just served
    const report = await quotaOf(1900).enforce()
    expect(report.derivatives).toBe(1)
    expect(await keysOf('a')).toEqual([])
    expect(await keysOf('b')).toEqual(['shared'])
    expect(await disk.has(cold.contentHash)).toBe(true)
  })

  test('an evicted blob leaves the in-memory blob cache too', async () => {
    const cached = withBlobCache(disk)
    const p = await storedPicture('p', 1000)
    const d = await storedDerivative(p, 'd', 100, LONG_AGO, { contentHash: await blob(100, cached) })
    expect((await cached.get(d.contentHash))?.byteLength).toBe(100) // in memory now
    await quotaOf(1050, { blobs: cached }).enforce()
    expect(await keysOf('p')).toEqual([])
    expect(await cached.get(d.contentHash)).toBeUndefined()
  })
})

describe('store bound: in the background', () => {
  test('a write over the bound returns at once; eviction follows between requests', async () => {
    const p = await storedPicture('p', 1000)
    await storedDerivative(p, 'd', 300, LONG_AGO)
    const usage: number[] = []
    const quota = quotaOf(1200, { onUsage: (u) => usage.push(u.bytes) })
    quota.noteWrite()
    quota.noteWrite() // a second write while the first check is pending: one more round at most
    expect(await keysOf('p')).toEqual(['d']) // nothing happened inside the write
    await quota.idle()
    expect(await keysOf('p')).toEqual([])
    expect(usage.at(-1)).toBe(1000)
  })

  test('a store stuck over the bound (all eager) says so once in a while, not after every write', async () => {
    const p = await storedPicture('p', 1000)
    await storedDerivative(p, 'eager', 100, LONG_AGO, { eager: true })
    const lines: string[] = []
    const quota = quotaOf(500, { log: (line) => lines.push(line) })
    for (let i = 0; i < 3; i++) expect(await quota.enforce()).toMatchObject({ stillOver: true })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('still over')
  })

  test('unbounded: the size is still read, for the gauge, and nothing is evicted', async () => {
    const p = await storedPicture('p', 1000)
    await storedDerivative(p, 'd', 100, LONG_AGO)
    const usage: number[] = []
    const quota = createStoreQuota({ repo, blobs: disk, onUsage: (u) => usage.push(u.bytes), log: () => {} })
    expect(await quota.enforce()).toMatchObject({ maxBytes: undefined, derivatives: 0, originals: 0 })
    expect(usage).toEqual([1100])
  })
})
