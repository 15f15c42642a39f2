/**
 * Picture and derivative rows in memory, in front of any Repository: a warm hit on a new URL
 * spelling (another `v<N>`, another Accept) skips both database lookups.
 *
 * Correctness comes from the wrapper being the only way this process writes rows: every write
 * method drops the rows it may change before and after it runs (a picture's row and all its
 * derivatives; `deleteDerivativesOfBlob` and `deleteExpiredAbsent`, which name no picture, drop
 * everything), and a read that raced a write is not kept (an epoch counter). A derivative row whose
 * blob another process deleted is harmless: the derivative source derives again when the bytes are
 * missing. What other processes write (several instances on one database) is seen after `maxAgeMs`
 * at the latest, or at once through `invalidate(type, publicId)` / `clear()`, the single entry point
 * a change notification between instances would call.
 *
 * Only rows are cached, never "no such row": a miss always asks the database.
 */
import { LruCache } from '../lib/lru.ts'
import type { Derivative, Picture, Repository } from './types.ts'

export interface RowCache {
  /** Forget one picture's row and its derivatives' rows (it changed, was invalidated or deleted). */
  invalidate(type: string, publicId: string): void
  /** Forget every row. */
  clear(): void
}

export interface RowCacheOptions {
  /** Rows kept: a picture counts 1, each of its derivatives 1 more (default 20,000, a few MB). */
  maxRows?: number
  /** How long a row is trusted without asking the database (default 5 s; bounds other processes' staleness). */
  maxAgeMs?: number
  now?: () => number
  /**
   * Told after the store bound evicted a picture or derived images of it (once per picture): the
   * invalidation fan-out tells the other instances (src/store/fanout.ts).
   */
  onEvicted?: (type: string, publicId: string) => void
}

interface Entry {
  picture: { row: Picture; at: number } | undefined
  /** `version\0key` → row. */
  derivatives: Map<string, { row: Derivative; at: number }>
}

const pictureKey = (type: string, publicId: string) => `${type}\u0000${publicId}`
const derivativeKey = (version: number, key: string) => `${version}\u0000${key}`

export function withRowCache(repo: Repository, options: RowCacheOptions = {}): Repository & RowCache {
  const now = options.now ?? Date.now
  const maxAgeMs = options.maxAgeMs ?? 5000
  const entries = new LruCache<Entry>(options.maxRows ?? 20_000, (entry) => 1 + entry.derivatives.size)
  /** Moves on every invalidation: a read that started before one must not be kept. */
  let epoch = 0

  const invalidate = (type: string, publicId: string) => {
    epoch++
    entries.delete(pictureKey(type, publicId))
  }
  const clear = () => {
    epoch++
    entries.clear()
  }
  /** Runs a write with the picture's rows dropped before (readers go to the database) and after (nothing read meanwhile stays). */
  const writing = async <T>(type: string, publicId: string, write: () => Promise<T>): Promise<T> => {
    invalidate(type, publicId)
    try {
      return await write()
    } finally {
      invalidate(type, publicId)
    }
  }
  const writingAll = async <T>(write: () => Promise<T>): Promise<T> => {
    clear()
    try {
      return await write()
    } finally {
      clear()
    }
  }
  const entryFor = (key: string): Entry => {
    let entry = entries.get(key)
    if (!entry) {
      entry = { picture: undefined, derivatives: new Map() }
      entries.set(key, entry)
    }
    return entry
  }
  const fresh = (at: number) => now() - at < maxAgeMs

  return {
    invalidate,
    clear,

    async getPicture(type, publicId) {
      const key = pictureKey(type, publicId)
      const cached = entries.get(key)?.picture
      if (cached && fresh(cached.at)) return cached.row
      const started = epoch
      const row = await repo.getPicture(type, publicId)
      if (row && started === epoch) entryFor(key).picture = { row, at: now() }
      return row
    },
    async getDerivative(type, publicId, version, key) {
      const entryKey = pictureKey(type, publicId)
      const rowKey = derivativeKey(version, key)
      const cached = entries.get(entryKey)?.derivatives.get(rowKey)
      if (cached && fresh(cached.at)) return cached.row
      const started = epoch
      const row = await repo.getDerivative(type, publicId, version, key)
      if (row && started === epoch) {
        const entry = entryFor(entryKey)
        entry.derivatives.set(rowKey, { row, at: now() })
        // Set again so the entry is weighed with its new row (and the bound holds).
        entries.set(entryKey, entry)
      }
      return row
    },

    putPicture: (picture) => writing(picture.type, picture.publicId, () => repo.putPicture(picture)),
    deletePicture: (type, publicId) => writing(type, publicId, () => repo.deletePicture(type, publicId)),
    putDerivative: (derivative) => writing(derivative.type, derivative.publicId, () => repo.putDerivative(derivative)),
    deleteDerivatives: (type, publicId) => writing(type, publicId, () => repo.deleteDerivatives(type, publicId)),
    async evictDerivatives(ids, servedBefore) {
      for (const id of ids) invalidate(id.type, id.publicId)
      let hashes: Array<string | undefined>
      try {
        hashes = await repo.evictDerivatives(ids, servedBefore)
      } finally {
        for (const id of ids) invalidate(id.type, id.publicId)
      }
      if (options.onEvicted) {
        const told = new Set<string>()
        ids.forEach((id, i) => {
          const key = pictureKey(id.type, id.publicId)
          if (hashes[i] === undefined || told.has(key)) return
          told.add(key)
          options.onEvicted!(id.type, id.publicId)
        })
      }
      return hashes
    },
    async evictPicture(type, publicId, servedBefore, inUse) {
      const hashes = await writing(type, publicId, () => repo.evictPicture(type, publicId, servedBefore, inUse))
      if (hashes !== undefined) options.onEvicted?.(type, publicId)
      return hashes
    },
    deleteDerivativesOfBlob: (contentHash) => writingAll(() => repo.deleteDerivativesOfBlob(contentHash)),
    deleteExpiredAbsent: (checkedBefore, limit) => writingAll(() => repo.deleteExpiredAbsent(checkedBefore, limit)),

    // Served dates are not part of what delivery reads from a cached row (the store bound asks the database).
    recordServed: (batch) => repo.recordServed(batch),
    listPictures: (options) => repo.listPictures(options),
    countPictures: () => repo.countPictures(),
    listDueForRefresh: (type, checkedBefore, limit) => repo.listDueForRefresh(type, checkedBefore, limit),
    countDueForRefresh: (type, checkedBefore) => repo.countDueForRefresh(type, checkedBefore),
    listDerivatives: (type, publicId) => repo.listDerivatives(type, publicId),
    ping: () => repo.ping(),
    isBlobReferenced: (contentHash) => repo.isBlobReferenced(contentHash),
    storeUsage: () => repo.storeUsage(),
    listColdDerivatives: (servedBefore, limit, offset) => repo.listColdDerivatives(servedBefore, limit, offset),
    listColdPictures: (servedBefore, limit, offset) => repo.listColdPictures(servedBefore, limit, offset),
    listReferencedBlobs: (kind, after, limit) => repo.listReferencedBlobs(kind, after, limit),
    countExpiredAbsent: (checkedBefore) => repo.countExpiredAbsent(checkedBefore),
    close: () => {
      clear()
      // PostgreSQL closes its pool asynchronously: the caller awaits it.
      return repo.close()
    },
  }
}
