/**
 * An in-memory LRU in front of any BlobStore. Blobs are content-addressed and immutable, so a cached
 * copy can never be stale, even with several instances sharing one store: warm hits skip the disk.
 */
import { LruCache } from '../lib/lru.ts'
import type { BlobStore } from './types.ts'

export interface BlobCacheOptions {
  /** Total bytes kept in memory (default 64 MB). */
  maxBytes?: number
  /** Larger blobs (originals, mostly) are not cached (default 1 MB). */
  maxBlobBytes?: number
}

export function withBlobCache(store: BlobStore, options: BlobCacheOptions = {}): BlobStore {
  const maxBlobBytes = options.maxBlobBytes ?? 1_000_000
  const cache = new LruCache<Uint8Array>(options.maxBytes ?? 64_000_000, (bytes) => bytes.byteLength)
  const remember = (hash: string, bytes: Uint8Array) => {
    if (bytes.byteLength <= maxBlobBytes) cache.set(hash, bytes)
  }
  return {
    async put(bytes) {
      const hash = await store.put(bytes)
      remember(hash, bytes)
      return hash
    },
    async get(hash) {
      const cached = cache.get(hash)
      if (cached) return cached
      const bytes = await store.get(hash)
      if (bytes) remember(hash, bytes)
      return bytes
    },
    async has(hash) {
      return cache.get(hash) !== undefined || store.has(hash)
    },
    async delete(hash) {
      cache.delete(hash)
      await store.delete(hash)
    },
    list: () => store.list(),
    sweepLeftovers: (olderThanMs, options) => store.sweepLeftovers(olderThanMs, options),
  }
}
