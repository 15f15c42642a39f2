/**
 * The copy behind `headshot migrate` (src/store/copy.ts), on a real PostgreSQL: rows matched by
 * key across batches in byte order, rows whose bytes are lost in the source left out and reported,
 * rows only the target has refused or (forced) deleted, every column kept. The command end to end,
 * with S3: test/migrate-command.test.ts.
 */
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createDiskBlobStore } from '../../src/store/blobs.ts'
import {
  type CopyOptions,
  copyStore,
  copySucceeded,
  derivativeText,
  diffRows,
  formatCopyReport,
  pictureKey,
  pictureText,
} from '../../src/store/copy.ts'
import { openPostgresDatabase } from '../../src/store/postgres.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { type BlobStore, NO_ORIGINAL } from '../../src/store/types.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'
import { derivative, picture, tempDir } from '../support/store-fixtures.ts'

test('rows are matched by key: added, same, changed and target-only rows are told apart', () => {
  const a = picture({ publicId: 'a' }) as never
  const b = picture({ publicId: 'b' }) as never
  const c = picture({ publicId: 'c' }) as never
  const bChanged = { ...(b as object), etag: '"other"' } as never
  const text = (row: never) => pictureText(row)
  const diff = diffRows([a, b, c], [bChanged, c, picture({ publicId: 'z' }) as never], pictureKey, text)
  expect(diff.added).toEqual([a])
  expect(diff.same).toBe(1)
  expect(diff.changed).toEqual([{ source: b, target: bChanged }])
  expect(diff.extra.map((row: { publicId: string }) => row.publicId)).toEqual(['z'])
  // The canonical text covers every column, so a change in any one of them is a difference.
  const row = { ...derivative(), lastServedAt: 1 }
  expect(derivativeText(row as never)).not.toBe(derivativeText({ ...row, lastServedAt: 2 } as never))
})
describe.skipIf(!havePostgres())('copyStore, batch by batch', () => {
  let db: TestDatabase
  let dir: ReturnType<typeof tempDir>
  beforeAll(async () => {
    db = await createTestDatabase()
    dir = tempDir('headshot-copy-')
  })
  afterAll(async () => {
    await db?.drop()
    dir?.cleanup()
  })

  test('keys in byte order across batches, skipped rows whose bytes are lost, target-only rows between batches', async () => {
    const sourceRepo = openSqliteRepository(join(dir.path, 'source', 'headshot.db'))
    const sourceBlobs = createDiskBlobStore(join(dir.path, 'source', 'blobs'))
    const targetBlobs = createDiskBlobStore(join(dir.path, 'target-blobs'))
    const bytes = (text: string) => new TextEncoder().encode(text)
    // Upper case sorts before lower case byte-wise (not in most locales); é after every ASCII letter.
    const ids = ['B', 'a', 'b', 'é', '~x', '10', '9']
    for (const [i, publicId] of ids.entries()) {
      const original = await sourceBlobs.put(bytes(`original ${publicId}`))
      await sourceRepo.putPicture(picture({ type: i % 2 ? 'gravatar' : 'github', publicId, contentHash: original }))
      for (const width of [10, 20]) {
        const contentHash = await sourceBlobs.put(bytes(`derived ${publicId} ${width}`))
        await sourceRepo.putDerivative(
          derivative({ type: i % 2 ? 'gravatar' : 'github', publicId, key: `w_${width}/jpg`, contentHash }),
        )
      }
    }
    await sourceRepo.putPicture({ ...picture({ publicId: 'absent' }), ...NO_ORIGINAL, status: 'not_found' })
    await sourceRepo.recordServed({
      derivatives: [],
      pictures: [{ type: 'github', publicId: 'B', at: 1_800_000_000_000 }],
    })
    // Lost and damaged bytes: a derived image's file gone; an original's file overwritten.
    const lostDerived = (await sourceRepo.getDerivative('gravatar', 'a', 1_700_000_000, 'w_10/jpg'))!.contentHash
    rmSync(sourceBlobs.pathFor(lostDerived))
    const damaged = (await sourceRepo.getPicture('github', 'b'))!.contentHash!
    writeFileSync(sourceBlobs.pathFor(damaged), 'scribbled over')
    sourceRepo.close()

    const sourceDb = new Database(join(dir.path, 'source', 'headshot.db'), { readonly: true })
    const target = await openPostgresDatabase(db.url, { maxConnections: 2 })
    const run = (options: Partial<CopyOptions> = {}) =>
      copyStore(
        { db: sourceDb, blobs: sourceBlobs },
        { client: target.client, blobs: targetBlobs },
        { mode: 'copy', batch: 2, ...options },
      )
    try {
      const report = await run()
      expect(report.verification?.examples).toEqual([])
      expect(copySucceeded(report)).toBe(true)
      // 8 pictures, 1 skipped (its original damaged); 14 derived images, 3 skipped (1 lost, 2 of that picture).
      expect(report.pictures).toMatchObject({ source: 8, target: 7, copied: 7, skipped: 1 })
      expect(report.derivatives).toMatchObject({ source: 14, target: 11, copied: 11, skipped: 3 })
      expect(report.blobs.missingInSource).toEqual({ count: 1, examples: [lostDerived] })
      expect(report.blobs.damagedInSource).toEqual({ count: 1, examples: [damaged] })
      const summary = formatCopyReport(report)
      expect(summary).toContain(
        'pictures: 8 in the source, 7 copied, 0 already there, 1 skipped (blob missing or damaged in the source), 7 in the target',
      )
      expect(summary).toContain(`blobs missing in the source: 1 (their rows are not copied), e.g. ${lostDerived}`)
      expect(summary).toContain(`blobs damaged in the source: 1 (their rows are not copied), e.g. ${damaged}`)
      expect(summary).toContain('verification: ok')
      const targetRepo = target.repo
      expect(await targetRepo.getPicture('github', 'b')).toBeUndefined()
      expect((await targetRepo.getPicture('github', 'B'))?.faces).toEqual([{ x: 10, y: 20, w: 30, h: 40 }])
      expect((await targetRepo.getPicture('facebook', 'absent'))?.status).toBe('not_found')
      // last_served_at is copied too (putPicture would have set it to the fetch time).
      const [served] = await target.client.unsafe(
        `SELECT last_served_at::text AS at FROM pictures WHERE type = 'github' AND public_id = 'B'`,
      )
      expect(served.at).toBe('1800000000000')
      for await (const entry of targetBlobs.list()) expect(await targetBlobs.get(entry.hash)).toBeDefined()

      // A row the source lacks, between two batches' keys, is refused, then deleted with force.
      await target.client.unsafe(
        `INSERT INTO pictures (type, public_id, version, status, created_at, fetched_at, checked_at)
         VALUES ('gravatar', '9z', 1, 'none', 1, 1, 1)`,
      )
      const refused = await run()
      expect(refused.proceeded).toBe(false)
      expect(refused.conflicts).toEqual(['picture ["gravatar","9z"] is in the target only'])
      const forced = await run({ force: true })
      expect(forced.pictures).toMatchObject({ copied: 0, same: 7, extra: 1, target: 7 })
      expect(forced.verification?.ok).toBe(true)

      // A row lost from the target: the verification names it, and the table's checksums differ.
      await target.client.unsafe(
        `DELETE FROM derivatives WHERE type = 'github' AND public_id = '9' AND key = 'w_20/jpg'`,
      )
      const verified = await run({ mode: 'verify-only' })
      expect(copySucceeded(verified)).toBe(false)
      expect(verified.verification?.examples).toContain(
        'derived image ["github","9",1700000000,"w_20/jpg"] is missing from the target',
      )
      expect(verified.pictures.checksum.target).toBe(verified.pictures.checksum.source)
      expect(verified.derivatives.checksum.target).not.toBe(verified.derivatives.checksum.source)
    } finally {
      sourceDb.close()
      await target.repo.close()
    }
  })
})

describe.skipIf(!havePostgres())('copyStore, interrupted', () => {
  let db: TestDatabase
  let dir: ReturnType<typeof tempDir>
  beforeAll(async () => {
    db = await createTestDatabase()
    dir = tempDir('headshot-copy-cut-')
  })
  afterAll(async () => {
    await db?.drop()
    dir?.cleanup()
  })

  test('a run cut short leaves no row naming a missing image, and the next run finishes the copy', async () => {
    const sourceRepo = openSqliteRepository(join(dir.path, 'headshot.db'))
    const sourceBlobs = createDiskBlobStore(join(dir.path, 'blobs'))
    for (let i = 0; i < 9; i++) {
      const contentHash = await sourceBlobs.put(new TextEncoder().encode(`original ${i}`))
      await sourceRepo.putPicture(picture({ publicId: `p${i}`, contentHash }))
      const derived = await sourceBlobs.put(new TextEncoder().encode(`derived ${i}`))
      await sourceRepo.putDerivative(derivative({ publicId: `p${i}`, contentHash: derived }))
    }
    sourceRepo.close()
    const targetBlobs = createDiskBlobStore(join(dir.path, 'target-blobs'))
    // The bucket goes away after seven images.
    let puts = 0
    const failing: BlobStore = {
      ...targetBlobs,
      put: async (bytes) => {
        if (++puts > 7) throw new Error('connection reset by peer')
        return targetBlobs.put(bytes)
      },
    }
    const sourceDb = new Database(join(dir.path, 'headshot.db'), { readonly: true })
    const target = await openPostgresDatabase(db.url, { maxConnections: 2 })
    const run = (blobs: BlobStore) =>
      copyStore({ db: sourceDb, blobs: sourceBlobs }, { client: target.client, blobs }, { mode: 'copy', batch: 2 })
    try {
      await expect(run(failing)).rejects.toThrow('connection reset by peer')
      const named: Array<{ hash: string }> = await target.client.unsafe(
        'SELECT content_hash AS hash FROM pictures UNION SELECT content_hash FROM derivatives',
      )
      expect(named.length).toBeGreaterThan(0) // some batches made it
      for (const { hash } of named) expect(await targetBlobs.has(hash)).toBe(true)

      const resumed = await run(targetBlobs)
      expect(resumed.verification?.ok).toBe(true)
      expect(resumed.pictures).toMatchObject({ source: 9, target: 9, same: named.length / 2 })
      expect(resumed.blobs.present).toBeGreaterThanOrEqual(named.length)
      expect(resumed.blobs.copied + resumed.blobs.present).toBe(18)
    } finally {
      sourceDb.close()
      await target.repo.close()
    }
  })
})

describe.skipIf(!havePostgres())('copyStore beside a running server', () => {
  let db: TestDatabase
  let dir: ReturnType<typeof tempDir>
  beforeAll(async () => {
    db = await createTestDatabase()
    dir = tempDir('headshot-copy-live-')
  })
  afterAll(async () => {
    await db?.drop()
    dir?.cleanup()
  })

  test('copies one snapshot: what a server writes meanwhile waits for the next run', async () => {
    const live = openSqliteRepository(join(dir.path, 'headshot.db'))
    const blobs = createDiskBlobStore(join(dir.path, 'blobs'))
    const contentHash = await blobs.put(new TextEncoder().encode('before'))
    await live.putPicture(picture({ publicId: 'before', contentHash }))
    const sourceDb = new Database(join(dir.path, 'headshot.db'), { readonly: true })
    const target = await openPostgresDatabase(db.url, { maxConnections: 2 })
    const run = (progress?: (line: string) => void) =>
      copyStore(
        { db: sourceDb, blobs },
        { client: target.client, blobs: createDiskBlobStore(join(dir.path, 'target-blobs')) },
        { mode: 'copy', progress },
      )
    try {
      // The server (another connection, in WAL mode) stores a picture while the copy runs.
      const first = await run((line) => {
        if (line.startsWith('comparing')) void live.putPicture(picture({ publicId: 'during', contentHash }))
      })
      expect(first.verification?.ok).toBe(true)
      expect(first.pictures).toMatchObject({ source: 1, target: 1 })
      expect(await target.repo.getPicture('facebook', 'during')).toBeUndefined()

      const second = await run()
      expect(second.pictures).toMatchObject({ source: 2, copied: 1, same: 1, target: 2 })
      expect(second.verification?.ok).toBe(true)
    } finally {
      sourceDb.close()
      live.close()
      await target.repo.close()
    }
  })
})
