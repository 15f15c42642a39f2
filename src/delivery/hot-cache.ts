/**
 * Hot responses: the same URL asked again within a second is answered from memory, skipping the
 * parse, signature and store lookups. Safe because everything a response depends on is in the raw
 * path (signature, type, transformations) or in the normalised Accept choice; a picture that
 * changes clears it (`clear`), and across instances one second of staleness is harmless.
 *
 * Only a URL asked for before is kept (`offer`): behind a CDN most URLs reach the origin once, and
 * keeping every answer cost a third of a one-off warm hit's time (key, entry and eviction) to save
 * nothing. Which keys were seen is a fixed table of hashes (256 KB): a collision only admits a
 * URL one request early, or makes it wait one request more.
 */
import { acceptsWebp } from '../image/format.ts'
import { keyBytes, LruCache } from '../lib/lru.ts'
import { rawPathOf } from '../url/parse.ts'
import type { ImageResponse } from './respond.ts'

export interface HotCache {
  /** The cache key of a request: its raw path and whether it accepts WebP (f_auto's only input). */
  keyOf(request: Request): string
  get(key: string): ImageResponse | undefined
  /** Keep `image` for `key` if the key was offered before; otherwise only remember that it was. */
  offer(key: string, image: ImageResponse): void
  clear(): void
}

export interface HotCacheOptions {
  /** How long an entry answers (0 turns the cache off). */
  ttlMs: number
  /** Memory bound of the bytes held (default 32 MB). */
  maxBytes?: number
  now?: () => number
}

/** Bytes an entry costs besides its image: the response fields and the map entry. */
const ENTRY_OVERHEAD = 512

/** Slots of the table of keys seen once (a power of two). */
const SEEN_SLOTS = 1 << 16

export function createHotCache(options: HotCacheOptions): HotCache {
  const now = options.now ?? Date.now
  const capacity = options.ttlMs > 0 ? (options.maxBytes ?? 32_000_000) : 0
  // Keys count too: a raw path can be 2 KB, and a flood of distinct small answers must not grow
  // the cache past its bound through keys alone.
  const entries = new LruCache<{ image: ImageResponse; at: number }>(
    capacity,
    (e, key) => e.image.bytes.byteLength + keyBytes(key) + ENTRY_OVERHEAD,
  )
  const seen = new Uint32Array(capacity > 0 ? SEEN_SLOTS : 0)
  return {
    keyOf: (request) =>
      `${rawPathOf(request.url)}\u0000${acceptsWebp(request.headers.get('accept') ?? '') ? 'webp' : ''}`,
    get(key) {
      const entry = entries.get(key)
      return entry && now() - entry.at < options.ttlMs ? entry.image : undefined
    },
    offer(key, image) {
      if (capacity === 0) return
      const hash = Bun.hash.crc32(key)
      const slot = hash & (SEEN_SLOTS - 1)
      // The tag is never 0, the value of a slot nobody wrote.
      const tag = (hash | 1) >>> 0
      if (seen[slot] !== tag) {
        seen[slot] = tag
        return
      }
      entries.set(key, { image, at: now() })
    },
    clear: () => entries.clear(),
  }
}
