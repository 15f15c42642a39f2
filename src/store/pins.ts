/**
 * Blobs in use by this process: a reference count per hash, held while a delivery reads a blob
 * and while a derivation works from an original, so that the store bound and garbage collection
 * (which check `isPinned` right before deleting) never delete bytes under a reader, however long
 * the read takes. Per process: other processes sharing a data directory are covered by the
 * eviction grace window instead (src/store/quota.ts).
 */
export interface BlobPins {
  /** Run `use` with `hash` pinned; released when it settles, whatever the outcome. */
  hold<T>(hash: string, use: () => Promise<T>): Promise<T>
  isPinned(hash: string): boolean
  /** How many blobs are pinned now (tests, diagnostics). */
  readonly size: number
}

export function createBlobPins(): BlobPins {
  const counts = new Map<string, number>()
  return {
    async hold(hash, use) {
      counts.set(hash, (counts.get(hash) ?? 0) + 1)
      try {
        return await use()
      } finally {
        const left = (counts.get(hash) ?? 1) - 1
        if (left > 0) counts.set(hash, left)
        else counts.delete(hash)
      }
    },
    isPinned: (hash) => counts.has(hash),
    get size() {
      return counts.size
    },
  }
}
