/**
 * The repository's side of the store bound and of garbage collection: the size of the store (each
 * shared blob once, exact after any sequence of writes), the least-recently-served queries, and
 * deletions that only happen while their condition still holds.
 */
import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { applyMigrations, embeddedMigrations } from '../../src/store/migrate.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import type { Derivative, Picture, Repository } from '../../src/store/types.ts'
import { derivative, HASH_A, HASH_B, HASH_C, picture, tempDir } from '../support/store-fixtures.ts'

const hash = (n: number) => n.toString(16).padStart(64, '0')

describe('store usage: the distinct blobs rows name', () => {
  let repo: Repository
  beforeEach(() => {
    repo = openSqliteRepository(':memory:')
  })
  afterEach(() => repo.close())

  test('an empty store is 0 bytes in 0 blobs', async () => {
    expect(await repo.storeUsage()).toEqual({ bytes: 0, blobs: 0 })
  })

  test('a blob named by an original and two derived images counts once, until the last row goes', async () => {
    await repo.putPicture(picture({ contentHash: HASH_A, bytes: 1000 }))
    await repo.putDerivative(derivative({ key: 'a/jpg', contentHash: HASH_A, bytes: 1000 }))
    await repo.putDerivative(derivative({ key: 'b/jpg', contentHash: HASH_A, bytes: 1000 }))
    await repo.putDerivative(derivative({ key: 'c/jpg', contentHash: HASH_B, bytes: 10 }))
    expect(await repo.storeUsage()).toEqual({ bytes: 1010, blobs: 2 })
    await repo.deleteDerivatives('facebook', '65646572251')
    expect(await repo.storeUsage()).toEqual({ bytes: 1000, blobs: 1 }) // the original still names HASH_A
    await repo.deletePicture('facebook', '65646572251')
    expect(await repo.storeUsage()).toEqual({ bytes: 0, blobs: 0 })
  })

  test('a cascade from a deleted picture and an upsert naming other bytes keep it exact', async () => {
    await repo.putPicture(picture({ contentHash: HASH_A, bytes: 1000 }))
    await repo.putDerivative(derivative({ contentHash: HASH_A, bytes: 1000 }))
    await repo.putDerivative(derivative({ key: 'x/jpg', contentHash: HASH_B, bytes: 20 }))
    await repo.putDerivative(derivative({ key: 'x/jpg', contentHash: HASH_C, bytes: 30 })) // replaced bytes
    expect(await repo.storeUsage()).toEqual({ bytes: 1030, blobs: 2 })
    await repo.deletePicture('facebook', '65646572251') // derivatives go by the foreign key's cascade
    expect(await repo.storeUsage()).toEqual({ bytes: 0, blobs: 0 })
  })

  test('a picture whose original went away ("none") stops counting it', async () => {
    await repo.putPicture(picture({ contentHash: HASH_A, bytes: 1000 }))
    const { contentHash: _, ...rest } = picture()
    await repo.putPicture({
      ...(rest as Picture),
      status: 'none',
      contentHash: null,
      format: null,
      width: null,
      height: null,
      bytes: null,
      faces: null,
    } as Picture)
    expect(await repo.storeUsage()).toEqual({ bytes: 0, blobs: 0 })
  })

  test('after any sequence of writes it equals the distinct sum recomputed from the rows', async () => {
    // A small model of the rows (key → hash), driven by a seeded generator over few hashes so that
    // sharing, replacing and cascades all happen often.
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    const sizeOf = (h: number) => 100 + h
    const ids = ['p0', 'p1', 'p2']
    for (let step = 0; step < 400; step++) {
      const id = ids[random(ids.length)]!
      const h = random(6)
      const action = random(6)
      if (action === 0) await repo.putPicture(picture({ publicId: id, contentHash: hash(h), bytes: sizeOf(h) }))
      else if (action === 1) await repo.deletePicture('facebook', id)
      else if (action === 2) await repo.deleteDerivatives('facebook', id)
      else if (await repo.getPicture('facebook', id)) {
        const row = derivative({ publicId: id, key: `k${random(3)}/jpg`, contentHash: hash(h), bytes: sizeOf(h) })
        await repo.putDerivative(row)
      }
      expect(await repo.storeUsage()).toEqual(await recount(repo, ids))
    }
  })
})

/** The distinct blobs named by the rows of these pictures, computed the slow way. */
async function recount(repo: Repository, ids: string[]): Promise<{ bytes: number; blobs: number }> {
  const sizes = new Map<string, number>()
  for (const id of ids) {
    const p = await repo.getPicture('facebook', id)
    if (p?.contentHash) sizes.set(p.contentHash, p.bytes ?? 0)
    for (const d of await repo.listDerivatives('facebook', id)) sizes.set(d.contentHash, d.bytes)
  }
  return { bytes: [...sizes.values()].reduce((a, b) => a + b, 0), blobs: sizes.size }
}

describe('least recently served', () => {
  let repo: Repository
  const at = (lastServedAt: number, overrides: Partial<Derivative> = {}) =>
    derivative({ key: `w_${lastServedAt}/jpg`, lastServedAt, ...overrides })
  beforeEach(async () => {
    repo = openSqliteRepository(':memory:')
    await repo.putPicture(picture())
  })
  afterEach(() => repo.close())

  test('cold derived images come oldest delivery first; eager ones and recent ones never', async () => {
    for (const d of [at(300), at(100), at(200), at(50, { eager: true }), at(900)]) await repo.putDerivative(d)
    const cold = await repo.listColdDerivatives(500, 10)
    expect(cold.map((d) => d.lastServedAt)).toEqual([100, 200, 300])
    expect((await repo.listColdDerivatives(500, 2)).length).toBe(2)
  })

  test('evicting a derived image happens only while it is still cold and not eager', async () => {
    await repo.putDerivative(at(100, { contentHash: HASH_C }))
    await repo.putDerivative(at(50, { key: 'eager/jpg', eager: true }))
    const id = { type: 'facebook', publicId: '65646572251', version: 1_700_000_000, key: 'w_100/jpg' }
    // Delivered after it was listed: kept.
    await repo.recordServed({ derivatives: [{ ...id, at: 700 }], pictures: [] })
    expect(await repo.evictDerivatives([id], 500)).toEqual([undefined])
    const eager = { ...id, key: 'eager/jpg' }
    expect(await repo.evictDerivatives([eager, id], 800)).toEqual([undefined, HASH_C])
    expect(await repo.getDerivative(id.type, id.publicId, id.version, id.key)).toBeUndefined()
    expect(await repo.getDerivative(id.type, id.publicId, id.version, eager.key)).toBeDefined()
  })

  test('cold pictures: held only, oldest delivery first, never one with an eager derived image', async () => {
    // A new row starts as served when it was fetched; deliveries move it forward only.
    await repo.putPicture(picture({ publicId: 'b', fetchedAt: 200 }))
    await repo.putPicture(picture({ publicId: 'c', fetchedAt: 300 }))
    await repo.putPicture(picture({ publicId: 'eager', fetchedAt: 10 }))
    await repo.putDerivative(derivative({ publicId: 'eager', eager: true }))
    await repo.putPicture({ ...picture({ publicId: 'none', fetchedAt: 10 }), ...absent })
    await repo.recordServed({ derivatives: [], pictures: [{ type: 'facebook', publicId: 'b', at: 400 }] })
    await repo.putPicture(picture({ publicId: 'b', fetchedAt: 250 })) // a refresh does not rewind it
    const cold = await repo.listColdPictures(1_000, 10)
    expect(cold.map((p) => [p.publicId, p.lastServedAt])).toEqual([
      ['c', 300],
      ['b', 400],
    ])
    expect(cold[0]).toMatchObject({ contentHash: HASH_A, bytes: 12_345 })
    // The fixture picture (fetched at 1_700_000_000_100) is not cold before then.
    expect((await repo.listColdPictures(1_800_000_000_000, 10)).map((p) => p.publicId)).toContain('65646572251')
  })

  test('evicting a picture forgets its row and derived images and names their blobs, only while cold', async () => {
    await repo.putPicture(picture({ publicId: 'p', fetchedAt: 100, contentHash: HASH_A }))
    await repo.putDerivative(derivative({ publicId: 'p', key: 'a/jpg', contentHash: HASH_B }))
    await repo.putDerivative(derivative({ publicId: 'p', key: 'b/jpg', contentHash: HASH_B }))
    await repo.putDerivative(derivative({ publicId: 'p', key: 'c/jpg', contentHash: HASH_C }))
    expect(await repo.evictPicture('facebook', 'p', 50)).toBeUndefined() // served at 100: not cold before 50
    expect(await repo.evictPicture('facebook', 'p', 150)).toEqual([HASH_A, HASH_B, HASH_C])
    expect(await repo.getPicture('facebook', 'p')).toBeUndefined()
    expect(await repo.listDerivatives('facebook', 'p')).toEqual([])
    expect(await repo.evictPicture('facebook', 'p', 150)).toBeUndefined()
  })
})

const absent = {
  status: 'none',
  upstreamUrl: null,
  changeKey: null,
  etag: null,
  lastModified: null,
  contentHash: null,
  format: null,
  width: null,
  height: null,
  bytes: null,
  faces: null,
} as const

describe('garbage collection queries', () => {
  let repo: Repository
  beforeEach(async () => {
    repo = openSqliteRepository(':memory:')
  })
  afterEach(() => repo.close())

  test('referenced blobs are listed once each, in hash order, page by page, originals apart from derived', async () => {
    await repo.putPicture(picture({ publicId: 'a', contentHash: hash(3) }))
    await repo.putPicture(picture({ publicId: 'b', contentHash: hash(1) }))
    await repo.putPicture(picture({ publicId: 'c', contentHash: hash(3) }))
    for (const [key, h] of [
      ['k1/jpg', 5],
      ['k2/jpg', 4],
      ['k3/jpg', 5],
      ['k4/jpg', 2],
    ] as const) {
      await repo.putDerivative(derivative({ publicId: 'a', key, contentHash: hash(h) }))
    }
    expect(await repo.listReferencedBlobs('original', '', 10)).toEqual([hash(1), hash(3)])
    expect(await repo.listReferencedBlobs('derived', '', 2)).toEqual([hash(2), hash(4)])
    expect(await repo.listReferencedBlobs('derived', hash(4), 2)).toEqual([hash(5)])
    expect(await repo.deleteDerivativesOfBlob(hash(5))).toBe(2)
    expect(await repo.listReferencedBlobs('derived', '', 10)).toEqual([hash(2), hash(4)])
  })

  test('countExpiredAbsent counts what deleteExpiredAbsent would delete', async () => {
    await repo.putPicture({ ...picture({ publicId: 'old', checkedAt: 100 }), ...absent })
    await repo.putPicture({ ...picture({ publicId: 'new', checkedAt: 900 }), ...absent })
    await repo.putPicture(picture({ publicId: 'held', checkedAt: 100 }))
    expect(await repo.countExpiredAbsent(500)).toBe(1)
    expect(await repo.deleteExpiredAbsent(500, 10)).toBe(1)
  })
})

describe('the store-bound migration', () => {
  let dir: ReturnType<typeof tempDir>
  beforeEach(() => {
    dir = tempDir()
  })
  afterEach(() => dir.cleanup())

  test('an existing store is counted, and its pictures get a last delivery, when it is upgraded', () => {
    const path = join(dir.path, 'old.db')
    const db = new Database(path)
    const before = embeddedMigrations().filter((m) => m.tag < '0003')
    applyMigrations(db, before)
    const insertPicture = db.prepare(
      `INSERT INTO pictures (type, public_id, version, status, content_hash, format, width, height, bytes,
         created_at, fetched_at, checked_at) VALUES ('facebook', ?, 1, 'ok', ?, 'jpg', 1, 1, ?, 1, ?, 1)`,
    )
    const insertDerivative = db.prepare(
      `INSERT INTO derivatives (type, public_id, version, key, format, content_hash, bytes, width, height,
         created_at, last_served_at) VALUES ('facebook', ?, 1, ?, 'jpg', ?, ?, 1, 1, 1, ?)`,
    )
    insertPicture.run('a', HASH_A, 1000, 50)
    insertPicture.run('b', HASH_A, 1000, 60) // same bytes as a
    insertDerivative.run('a', 'x/jpg', HASH_B, 10, 500)
    insertDerivative.run('a', 'y/jpg', HASH_B, 10, 400)
    applyMigrations(db, embeddedMigrations())
    expect(db.query('SELECT bytes, blobs FROM store_totals').all()).toEqual([{ bytes: 1010, blobs: 2 }])
    expect(db.query('SELECT public_id, last_served_at FROM pictures ORDER BY public_id').all()).toEqual([
      { public_id: 'a', last_served_at: 500 },
      { public_id: 'b', last_served_at: 60 },
    ])
    db.close()
  })

  test('a database whose accounting triggers a later migration dropped is refused at open, by name', async () => {
    const path = join(dir.path, 'rebuilt.db')
    openSqliteRepository(path).close()
    const db = new Database(path)
    db.run('DROP TRIGGER derivatives_blob_named') // what rebuilding the table drops with it
    db.close()
    expect(() => openSqliteRepository(path)).toThrow(/store accounting triggers derivatives_blob_named/)
  })
})
