/**
 * The served log: a delivery costs a map entry, never a database write on the response path; the
 * dates reach the rows in one batch, only forward, and survive a failed write.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createDerivativeSource } from '../../src/ingest/derivatives.ts'
import { withBlobCache } from '../../src/store/blob-cache.ts'
import { createDiskBlobStore } from '../../src/store/blobs.ts'
import { createServedLog } from '../../src/store/served.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import type { Repository, ServedBatch } from '../../src/store/types.ts'
import { derivative, picture, tempDir } from '../support/store-fixtures.ts'

const id = { type: 'facebook', publicId: '65646572251', version: 1_700_000_000, key: 'c_fill,h_120,w_80/jpg' }

describe('served log', () => {
  let repo: Repository
  let batches: ServedBatch[]
  let failNext: boolean
  /** The real repository, with its batch writes seen (and failing once when asked). */
  let watched: Repository
  beforeEach(async () => {
    repo = openSqliteRepository(':memory:')
    await repo.putPicture(picture())
    await repo.putDerivative(derivative({ lastServedAt: 1_000 }))
    batches = []
    failNext = false
    watched = {
      ...repo,
      recordServed: async (batch) => {
        batches.push(batch)
        if (failNext) {
          failNext = false
          throw new Error('database is locked')
        }
        await repo.recordServed(batch)
      },
    }
  })
  afterEach(() => repo.close())

  const lastServed = async () => (await repo.getDerivative(id.type, id.publicId, id.version, id.key))?.lastServedAt

  test('deliveries stay in memory until the flush, which writes the latest date of each in one batch', async () => {
    const served = createServedLog({ repo: watched, flushEveryMs: 0 })
    for (let at = 2_000; at <= 9_000; at += 1_000) {
      served.derivative(id, at)
      served.picture(id.type, id.publicId, at)
    }
    served.derivative(id, 4_000) // a late, out-of-order delivery
    expect(batches).toEqual([])
    expect(await lastServed()).toBe(1_000)
    expect(served.pendingDerivative(id)).toBe(9_000)
    expect(served.pendingPicture(id.type, id.publicId)).toBe(9_000)
    await served.flush()
    expect(batches).toHaveLength(1)
    expect(batches[0]!.derivatives).toEqual([{ ...id, at: 9_000 }])
    expect(batches[0]!.pictures).toEqual([{ type: id.type, publicId: id.publicId, at: 9_000 }])
    expect(await lastServed()).toBe(9_000)
    expect(served.pendingDerivative(id)).toBeUndefined()
    await served.flush() // nothing new: no write at all
    expect(batches).toHaveLength(1)
  })

  test('a failed write keeps the dates for the next flush', async () => {
    const served = createServedLog({ repo: watched, flushEveryMs: 0, log: () => {} })
    served.derivative(id, 5_000)
    failNext = true
    await served.flush()
    expect(await lastServed()).toBe(1_000)
    expect(served.pendingDerivative(id)).toBe(5_000) // still protects it from eviction meanwhile
    await served.flush()
    expect(await lastServed()).toBe(5_000)
  })

  test('the timer flushes on its own, and close writes what is left', async () => {
    const served = createServedLog({ repo: watched, flushEveryMs: 20 })
    served.derivative(id, 6_000)
    await Bun.sleep(80)
    expect(await lastServed()).toBe(6_000)
    served.derivative(id, 7_000)
    await served.close()
    expect(await lastServed()).toBe(7_000)
  })

  test('past maxPending entries a flush starts without waiting for the timer', async () => {
    const served = createServedLog({ repo: watched, flushEveryMs: 0, maxPending: 3 })
    for (let i = 0; i < 3; i++) served.picture('facebook', `p${i}`, 5_000)
    await Bun.sleep(10)
    expect(batches).toHaveLength(1)
    expect(batches[0]!.pictures).toHaveLength(3)
  })

  test('a warm hit records its delivery without writing to the database', async () => {
    const dir = tempDir()
    try {
      const blobs = withBlobCache(createDiskBlobStore(dir.path))
      const contentHash = await blobs.put(new Uint8Array([1, 2, 3]))
      await repo.putDerivative(derivative({ contentHash, bytes: 3, lastServedAt: 1_000 }))
      let writes = 0
      const counted: Repository = {
        ...repo,
        recordServed: async (batch) => (writes++, repo.recordServed(batch)),
        putDerivative: async (d) => (writes++, repo.putDerivative(d)),
      }
      let clock = 10_000
      const served = createServedLog({ repo: counted, flushEveryMs: 0 })
      const source = createDerivativeSource({
        repo: counted,
        blobs,
        served,
        derive: () => Promise.reject(new Error('a warm hit never derives')),
        now: () => clock,
      })
      const held = picture()
      for (let i = 0; i < 50; i++) {
        clock += 3_600_000 // hours apart: the old code rewrote the row once an hour of a hit
        expect((await source.get(held, [], 'jpg', id.key)).bytes).toEqual(new Uint8Array([1, 2, 3]))
      }
      expect(writes).toBe(0)
      await served.flush()
      expect(writes).toBe(1)
      expect(await lastServed()).toBe(clock)
    } finally {
      dir.cleanup()
    }
  })
})
