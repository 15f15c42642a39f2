import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { withRowCache } from '../../src/store/row-cache.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import type { Repository } from '../../src/store/types.ts'
import { derivative, HASH_A, HASH_B, HASH_C, picture } from '../support/store-fixtures.ts'

/** The SQLite repository, counting the row reads that reach it. */
function countingRepo() {
  const inner = openSqliteRepository(':memory:')
  const reads = { pictures: 0, derivatives: 0 }
  const repo: Repository = Object.assign(Object.create(null), inner, {
    getPicture: (type: string, publicId: string) => {
      reads.pictures++
      return inner.getPicture(type, publicId)
    },
    getDerivative: (type: string, publicId: string, version: number, key: string) => {
      reads.derivatives++
      return inner.getDerivative(type, publicId, version, key)
    },
  })
  return { inner, repo, reads }
}

let clock = 1_800_000_000_000
let setup: ReturnType<typeof countingRepo>
let cached: ReturnType<typeof withRowCache>
const P = picture()
const D = derivative()
const getD = () => cached.getDerivative(D.type, D.publicId, D.version, D.key)

beforeEach(async () => {
  setup = countingRepo()
  cached = withRowCache(setup.repo, { now: () => clock, maxAgeMs: 5000 })
  await setup.inner.putPicture(P)
  await setup.inner.putDerivative(D)
})
afterEach(() => cached.close())

describe('row cache', () => {
  test('a second read of a picture or derivative row does not reach the database, until the row is too old', async () => {
    expect(await cached.getPicture(P.type, P.publicId)).toEqual(P)
    expect(await getD()).toEqual(D)
    expect(await cached.getPicture(P.type, P.publicId)).toEqual(P)
    expect(await getD()).toEqual(D)
    expect(setup.reads).toEqual({ pictures: 1, derivatives: 1 })
    clock += 5000
    await cached.getPicture(P.type, P.publicId)
    await getD()
    expect(setup.reads).toEqual({ pictures: 2, derivatives: 2 })
  })

  test('a miss is never cached: a row written by another process is seen at once', async () => {
    expect(await cached.getPicture('facebook', 'other')).toBeUndefined()
    await setup.inner.putPicture(picture({ publicId: 'other' }))
    expect((await cached.getPicture('facebook', 'other'))?.publicId).toBe('other')
  })

  test('what other processes change is seen after maxAgeMs, or at once after invalidate / clear', async () => {
    await cached.getPicture(P.type, P.publicId)
    await setup.inner.putPicture({ ...P, version: P.version + 1 })
    expect((await cached.getPicture(P.type, P.publicId))?.version).toBe(P.version) // by design, until told
    cached.invalidate(P.type, P.publicId)
    expect((await cached.getPicture(P.type, P.publicId))?.version).toBe(P.version + 1)
    await setup.inner.putPicture({ ...P, version: P.version + 2 })
    cached.clear()
    expect((await cached.getPicture(P.type, P.publicId))?.version).toBe(P.version + 2)
    await setup.inner.putPicture({ ...P, version: P.version + 3 })
    clock += 5000
    expect((await cached.getPicture(P.type, P.publicId))?.version).toBe(P.version + 3)
  })

  test('putPicture (a new version upstream) is read back at once', async () => {
    await cached.getPicture(P.type, P.publicId)
    await cached.putPicture(picture({ version: P.version + 10, contentHash: HASH_C }))
    expect(await cached.getPicture(P.type, P.publicId)).toMatchObject({ version: P.version + 10, contentHash: HASH_C })
  })

  test('deletePicture and deleteDerivatives (delete, invalidate) forget the rows', async () => {
    await getD()
    await cached.deleteDerivatives(P.type, P.publicId)
    expect(await getD()).toBeUndefined()
    await cached.getPicture(P.type, P.publicId)
    await cached.deletePicture(P.type, P.publicId)
    expect(await cached.getPicture(P.type, P.publicId)).toBeUndefined()
  })

  test('putDerivative (e.g. marked eager) is read back at once', async () => {
    await getD()
    await cached.putDerivative({ ...D, eager: true, contentHash: HASH_C })
    expect(await getD()).toMatchObject({ eager: true, contentHash: HASH_C })
  })

  test('store eviction of a derivative or a picture forgets their rows', async () => {
    await cached.putDerivative(derivative({ key: 'w_10/jpg', contentHash: HASH_C }))
    await getD()
    const hashes = await cached.evictDerivatives([D], clock)
    expect(hashes).toEqual([HASH_B])
    expect(await getD()).toBeUndefined()

    await cached.getPicture(P.type, P.publicId)
    await cached.getDerivative(P.type, P.publicId, P.version, 'w_10/jpg')
    expect(await cached.evictPicture(P.type, P.publicId, clock)).toContain(HASH_A)
    expect(await cached.getPicture(P.type, P.publicId)).toBeUndefined()
    expect(await cached.getDerivative(P.type, P.publicId, P.version, 'w_10/jpg')).toBeUndefined()
  })

  test('store eviction tells onEvicted once per picture, only for what it deleted (the fan-out to other instances)', async () => {
    const told: string[] = []
    const announcing = withRowCache(setup.repo, {
      now: () => clock,
      onEvicted: (type, publicId) => void told.push(`${type}/${publicId}`),
    })
    const E = derivative({ key: 'w_10/jpg', contentHash: HASH_C })
    await announcing.putDerivative(E)
    // Nothing is older than 0: nothing is evicted, nobody told.
    expect(await announcing.evictDerivatives([D, E], 0)).toEqual([undefined, undefined])
    expect(await announcing.evictPicture(P.type, P.publicId, 0)).toBeUndefined()
    expect(told).toEqual([])
    expect(await announcing.evictDerivatives([D, E], clock)).toEqual([HASH_B, HASH_C])
    expect(told).toEqual([`${P.type}/${P.publicId}`])
    expect(await announcing.evictPicture(P.type, P.publicId, clock)).toContain(HASH_A)
    expect(told).toEqual([`${P.type}/${P.publicId}`, `${P.type}/${P.publicId}`])
  })

  test('deleting derivatives by blob (garbage collection) and expired absent pictures forgets them', async () => {
    await getD()
    expect(await cached.deleteDerivativesOfBlob(HASH_B)).toBe(1)
    expect(await getD()).toBeUndefined()

    const absent = picture({
      publicId: 'gone',
      status: 'not_found',
      contentHash: null,
      format: null,
      width: null,
      height: null,
      bytes: null,
      faces: null,
      checkedAt: 1,
    })
    await cached.putPicture(absent)
    expect((await cached.getPicture('facebook', 'gone'))?.status).toBe('not_found')
    expect(await cached.deleteExpiredAbsent(2, 10)).toBe(1)
    expect(await cached.getPicture('facebook', 'gone')).toBeUndefined()
  })

  test('a read that started before a write is not kept', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const slow: Repository = Object.assign(Object.create(null), setup.inner, {
      getPicture: async (type: string, publicId: string) => {
        const row = await setup.inner.getPicture(type, publicId) // read now, answered later
        await gate
        return row
      },
    })
    const racing = withRowCache(slow, { now: () => clock })
    const read = racing.getPicture(P.type, P.publicId)
    await racing.putPicture({ ...P, version: P.version + 1 })
    release()
    expect((await read)?.version).toBe(P.version) // what that read saw
    const again = racing.getPicture(P.type, P.publicId)
    expect((await again)?.version).toBe(P.version + 1) // not the old row, kept
  })

  test('bounded in rows: a picture counts one, each derivative one more', async () => {
    const small = withRowCache(setup.repo, { now: () => clock, maxRows: 3 })
    await small.getPicture(P.type, P.publicId)
    await small.getDerivative(D.type, D.publicId, D.version, D.key)
    await setup.inner.putPicture(picture({ publicId: 'p2' }))
    await small.getPicture('facebook', 'p2') // 3 rows: all kept
    const before = { ...setup.reads }
    await small.getPicture(P.type, P.publicId)
    expect(setup.reads.pictures).toBe(before.pictures)
    await small.putDerivative(derivative({ publicId: 'p2', key: 'k/jpg' })) // drops p2's entry
    await small.getDerivative('facebook', 'p2', D.version, 'k/jpg') // p2 with 1 derivative: 2 + 2 > 3
    await small.getPicture('facebook', 'p2') // p2 now weighs 2, P weighs 2: P goes
    const reads = setup.reads.pictures
    await small.getPicture(P.type, P.publicId)
    expect(setup.reads.pictures).toBe(reads + 1)
  })
})
