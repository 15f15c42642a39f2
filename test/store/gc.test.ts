/**
 * Garbage collection: what crashes and lost files leave behind is found by comparing the blob
 * store with the rows, and only what cannot belong to a write still in progress is removed.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createDiskBlobStore, type DiskBlobStore } from '../../src/store/blobs.ts'
import { collectGarbage, formatGcReport, ORPHAN_AGE_MS } from '../../src/store/gc.ts'
import { createBlobPins } from '../../src/store/pins.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { NO_ORIGINAL, type Picture, type Repository } from '../../src/store/types.ts'
import { startHeadshot } from '../support/headshot.ts'
import { derivative, picture, tempDir } from '../support/store-fixtures.ts'

let dir: ReturnType<typeof tempDir>
let repo: Repository
let blobs: DiskBlobStore
beforeEach(() => {
  dir = tempDir('headshot-gc-')
  repo = openSqliteRepository(':memory:')
  blobs = createDiskBlobStore(join(dir.path, 'blobs'))
})
afterEach(() => {
  repo.close()
  dir.cleanup()
})

const bytesOf = (text: string) => new TextEncoder().encode(text)
/** Make a file look written `ms` ago. */
const age = (path: string, ms: number) => {
  const at = (Date.now() - ms) / 1000
  utimesSync(path, at, at)
}
const TWO_HOURS = 2 * 3_600_000
const gc = (options: { dryRun?: boolean; pins?: ReturnType<typeof createBlobPins> } = {}) =>
  collectGarbage({ repo, blobs, negativeTtlMs: 3_600_000, ...options })

describe('garbage collection', () => {
  test('an orphan blob (no row names it) is removed once older than the age threshold, never before', async () => {
    const lost = bytesOf('written, then the process died before its row')
    const orphan = await blobs.put(lost)
    const young = await blobs.put(bytesOf('written a moment ago; its row is on its way'))
    age(blobs.pathFor(orphan), TWO_HOURS)
    const report = await gc()
    expect(report.orphanBlobs).toEqual({ count: 1, bytes: lost.byteLength })
    expect(await blobs.has(orphan)).toBe(false)
    expect(await blobs.has(young)).toBe(true)
  })

  test('a blob a row names stays, however old, and so does one this process is reading', async () => {
    const named = await blobs.put(bytesOf('an original'))
    await repo.putPicture(picture({ contentHash: named, bytes: 11 }))
    const read = await blobs.put(bytesOf('being read right now'))
    age(blobs.pathFor(named), TWO_HOURS)
    age(blobs.pathFor(read), TWO_HOURS)
    const pins = createBlobPins()
    let release!: () => void
    const reading = pins.hold(read, () => new Promise<void>((resolve) => (release = resolve)))
    const report = await gc({ pins })
    release()
    await reading
    expect(report.orphanBlobs.count).toBe(0)
    expect(await blobs.has(named)).toBe(true)
    expect(await blobs.has(read)).toBe(true)
  })

  test('rows whose blob is missing: derived-image rows go, originals are left to be fetched again', async () => {
    const kept = await blobs.put(bytesOf('derived and present'))
    await repo.putPicture(picture({ contentHash: 'f'.repeat(64) })) // its original was lost
    await repo.putDerivative(derivative({ key: 'lost/jpg', contentHash: 'e'.repeat(64) }))
    await repo.putDerivative(derivative({ key: 'also-lost/jpg', contentHash: 'e'.repeat(64) }))
    await repo.putDerivative(derivative({ key: 'kept/jpg', contentHash: kept }))
    const report = await gc()
    expect(report.missingBlobs).toEqual({ derived: 1, derivedRows: 2, originals: 1 })
    expect((await repo.listDerivatives('facebook', '65646572251')).map((d) => d.key)).toEqual(['kept/jpg'])
    expect(await repo.getPicture('facebook', '65646572251')).toBeDefined()
  })

  test('temp files of interrupted writes and expired "no picture" answers go too', async () => {
    const hash = await blobs.put(bytesOf('x'))
    const shard = join(blobs.dir, hash.slice(0, 2), hash.slice(2, 4))
    const temp = join(shard, `.${hash}.77.aaaaaaaaaaaa.tmp`)
    writeFileSync(temp, 'half a file')
    age(temp, TWO_HOURS)
    await repo.putPicture(picture({ contentHash: hash, bytes: 1 }))
    await repo.putPicture({ ...picture({ publicId: 'gone', checkedAt: Date.now() - TWO_HOURS }), ...absent } as Picture)
    const report = await gc()
    expect(report.tempFiles).toEqual({ count: 1, bytes: 11 })
    expect(existsSync(temp)).toBe(false)
    expect(report.expiredAbsent).toBe(1)
    expect(await repo.getPicture('facebook', 'gone')).toBeUndefined()
  })

  test('a dry run counts the same and deletes nothing', async () => {
    const orphan = await blobs.put(bytesOf('orphan'))
    age(blobs.pathFor(orphan), TWO_HOURS)
    await repo.putPicture(picture())
    await repo.putDerivative(derivative({ contentHash: 'e'.repeat(64) }))
    await repo.putPicture({ ...picture({ publicId: 'gone', checkedAt: Date.now() - TWO_HOURS }), ...absent } as Picture)
    const dry = await gc({ dryRun: true })
    expect(dry).toMatchObject({
      dryRun: true,
      orphanBlobs: { count: 1, bytes: 6 },
      missingBlobs: { derived: 1, derivedRows: 0, originals: 1 },
      expiredAbsent: 1,
    })
    expect(await blobs.has(orphan)).toBe(true)
    expect(await repo.listDerivatives('facebook', '65646572251')).toHaveLength(1)
    expect(await repo.getPicture('facebook', 'gone')).toBeDefined()
    const real = await gc()
    expect(real).toMatchObject({
      orphanBlobs: dry.orphanBlobs,
      missingBlobs: { derived: 1, derivedRows: 1, originals: 1 },
      expiredAbsent: 1,
    })
  })

  test('files that are not blobs of this store are never touched', async () => {
    mkdirSync(join(blobs.dir, 'ab', 'cd'), { recursive: true })
    const stray = join(blobs.dir, 'ab', 'cd', 'README')
    writeFileSync(stray, 'not ours')
    age(stray, TWO_HOURS)
    expect((await gc()).orphanBlobs.count).toBe(0)
    expect(existsSync(stray)).toBe(true)
  })

  test('the report names each category with its count and bytes', () => {
    const text = formatGcReport({
      dryRun: false,
      tempFiles: { count: 2, bytes: 2048 },
      orphanBlobs: { count: 3, bytes: 1_500_000 },
      missingBlobs: { derived: 1, derivedRows: 2, originals: 0 },
      expiredAbsent: 5,
      eviction: {
        maxBytes: 10_000_000,
        before: { bytes: 10_500_000, blobs: 40 },
        after: { bytes: 8_900_000, blobs: 30 },
        derivatives: 10,
        originals: 0,
        stillOver: false,
      },
    })
    expect(text).toBe(
      [
        'temp files: 2 removed, 2048 bytes (2.0 kB)',
        'orphan blobs: 3 removed, 1500000 bytes (1.5 MB)',
        'missing blobs: 1 of derived images (2 rows removed), 0 of originals (fetched again on their next request)',
        'expired "no picture" answers: 5 removed',
        'store bound: 10000000 bytes (10.0 MB): 10 derived images and 0 originals evicted, 1600000 bytes (1.6 MB)',
        'store: 8900000 bytes (8.9 MB) in 30 blobs',
        '',
      ].join('\n'),
    )
    expect(ORPHAN_AGE_MS).toBe(3_600_000)
  })
})

test('the server runs the same collection (hourly), through its cached blob store', async () => {
  const headshot = await startHeadshot({})
  try {
    const disk = createDiskBlobStore(join(headshot.dataDir, 'blobs'))
    const orphan = await disk.put(bytesOf('left by a crash'))
    age(disk.pathFor(orphan), TWO_HOURS)
    const report = await headshot.app.store.collectGarbage()
    expect(report.orphanBlobs.count).toBe(1)
    expect(await disk.has(orphan)).toBe(false)
    expect(report.eviction?.after).toEqual({ bytes: 0, blobs: 0 })
  } finally {
    await headshot.close()
  }
})

const absent = { ...NO_ORIGINAL, status: 'none' } as const
