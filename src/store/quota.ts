/**
 * The store bound (HEADSHOT_MAX_STORE_BYTES). When the blobs that rows name add up to more than
 * the bound, derived images are deleted, least recently served first, until the store is back
 * under LOW_WATER of it (so one new derivation does not start another round). Only when derived
 * images alone cannot get there are whole pictures forgotten, least recently served first: a
 * derived image costs a transformation to make again, an original an upstream call, which may be
 * rate-limited or fail.
 *
 * What is never deleted:
 * - eager derived images (made on purpose by `explicit`, and the only thing unsigned URLs of a
 *   restricted type may be served from), nor the pictures they belong to;
 * - anything delivered in the last EVICTION_GRACE_MS, by this process (the served log's entries
 *   not yet written) or by any process (the rows' last-served dates);
 * - a blob pinned by this process (being read for a response, or an original being transformed).
 *
 * Each step (up to STEP derived images in one transaction, or one picture) is decided in a turn of
 * its own (after a macrotask), by checking the pins and the served log and deleting the rows in
 * the same synchronous step: a request that found a row before has by then recorded its delivery
 * and pinned the blob, and one that comes after finds no row and derives (or fetches) again. Blobs are deleted after their row, and only when no row names
 * them any more, as everywhere else in the store.
 *
 * The work runs in the background, in small steps between requests: `noteWrite` only schedules it.
 */
import type { BlobPins } from './pins.ts'
import type { ServedLog } from './served.ts'
import type { BlobStore, Derivative, Repository, StoreUsage } from './types.ts'

/** Eviction stops at this share of the bound. */
export const LOW_WATER = 0.9
/** Nothing delivered (or made) this recently is evicted: covers reads in flight, in any process. */
export const EVICTION_GRACE_MS = 60_000
const BATCH = 100
/** A store that cannot get under the bound says so at most this often. */
const STUCK_LOG_EVERY_MS = 600_000
/** Derived images deleted per step (one transaction), between requests. */
const STEP = 16

export type EvictedKind = 'derivative' | 'original'

export interface EvictionReport {
  /** The bound, or undefined when the store is unbounded (only the size was read). */
  maxBytes: number | undefined
  before: StoreUsage
  after: StoreUsage
  /** Derived images deleted (or, in a dry run, that would be). */
  derivatives: number
  /** Pictures forgotten with their originals. */
  originals: number
  /** Dry run: bytes the listed candidates hold (an upper bound: a blob they share with a kept row stays). */
  plannedBytes?: number
  /** Still over the bound afterwards: everything left is eager, pinned or served within the grace window. */
  stillOver: boolean
}

export interface StoreQuotaOptions {
  repo: Repository
  blobs: BlobStore
  /** undefined: unbounded (the size is still read, for the gauge). */
  maxBytes?: number
  pins?: BlobPins
  served?: ServedLog
  graceMs?: number
  now?: () => number
  /** The store's size after each check (the headshot_store_bytes gauge). */
  onUsage?: (usage: StoreUsage) => void
  /** Counts evictions as they happen (headshot_store_evictions_total). */
  onEvicted?: (kind: EvictedKind, count: number) => void
  log?: (line: string) => void
}

export interface StoreQuota {
  readonly maxBytes: number | undefined
  /** Rows naming new bytes were written: check soon, in the background (never awaited by a response). */
  noteWrite(): void
  /** Read the size and, when over the bound, evict down to the low-water mark. */
  enforce(options?: { dryRun?: boolean }): Promise<EvictionReport>
  /** Resolves when no check is running or scheduled, background or asked for (tests, shutdown). */
  idle(): Promise<void>
}

/** Where eviction stops: LOW_WATER of the bound. */
export function evictionTarget(maxBytes: number): number {
  return Math.floor(maxBytes * LOW_WATER)
}

/** One macrotask: requests waiting to run get their turn, and their synchronous steps are done. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

export function createStoreQuota(options: StoreQuotaOptions): StoreQuota {
  const { repo, blobs, maxBytes, pins, served } = options
  const now = options.now ?? Date.now
  const graceMs = options.graceMs ?? EVICTION_GRACE_MS
  const log = options.log ?? ((line) => console.error(line))
  let running: Promise<void> | undefined
  let lastStuckLog = Number.NEGATIVE_INFINITY
  let pending = false
  // One check at a time (background, periodic, garbage collection): they would only race each other.
  let queue: Promise<unknown> = Promise.resolve()

  /** Delete a blob once nothing names it and nothing in this process is reading it. */
  async function release(hash: string): Promise<void> {
    if (pins?.isPinned(hash) || (await repo.isBlobReferenced(hash))) return
    await blobs.delete(hash)
  }

  async function evictDerivatives(target: number, cutoff: number, usage: StoreUsage) {
    let evicted = 0
    let kept = 0 // listed, looked at, and kept: skipped by the next page's offset
    while (usage.bytes > target) {
      const page = await repo.listColdDerivatives(cutoff, BATCH, kept)
      if (page.length === 0) break
      for (let next = 0; next < page.length && usage.bytes > target; ) {
        await nextTurn()
        // Checked and deleted in one synchronous step (see the module comment): a few at a time,
        // as many as the bytes still over the low-water mark call for.
        const chosen: Derivative[] = []
        let planned = 0
        for (; next < page.length && chosen.length < STEP && planned < usage.bytes - target; next++) {
          const d = page[next]!
          if ((served?.pendingDerivative(d) ?? 0) >= cutoff || pins?.isPinned(d.contentHash)) kept++
          else {
            chosen.push(d)
            planned += d.bytes
          }
        }
        if (chosen.length === 0) continue
        const hashes = await repo.evictDerivatives(chosen, cutoff)
        // One not deleted was served meanwhile (by another process) or is gone: not listed again,
        // so skipping one more is harmless; counting it keeps the walk finite whatever the backend says.
        kept += hashes.filter((hash) => hash === undefined).length
        const deleted = hashes.filter((hash) => hash !== undefined)
        evicted += deleted.length
        if (deleted.length > 0) options.onEvicted?.('derivative', deleted.length)
        for (const hash of new Set(deleted)) await release(hash)
        usage = await repo.storeUsage()
      }
    }
    return { evicted, usage }
  }

  async function evictOriginals(target: number, cutoff: number, usage: StoreUsage) {
    let evicted = 0
    let kept = 0
    while (usage.bytes > target) {
      const page = await repo.listColdPictures(cutoff, BATCH, kept)
      if (page.length === 0) break
      for (const p of page) {
        if (usage.bytes <= target) break
        await nextTurn()
        if ((served?.pendingPicture(p.type, p.publicId) ?? 0) >= cutoff || pins?.isPinned(p.contentHash)) {
          kept++
          continue
        }
        // Its derived images may be in use even when the picture's original is not.
        const hashes = await repo.evictPicture(p.type, p.publicId, cutoff, (hash) => pins?.isPinned(hash) === true)
        if (hashes === undefined) {
          kept++ // in use, or served meanwhile (as above)
          continue
        }
        evicted++
        options.onEvicted?.('original', 1)
        for (const hash of hashes) await release(hash)
        usage = await repo.storeUsage()
      }
    }
    return { evicted, usage }
  }

  /** What a real run would take first, without deleting: distinct blobs of the candidates in order. */
  async function plan(target: number, cutoff: number, before: StoreUsage): Promise<EvictionReport> {
    const counted = new Set<string>()
    let bytes = 0
    let derivatives = 0
    let originals = 0
    const take = (hash: string, size: number) => {
      if (!counted.has(hash)) bytes += size
      counted.add(hash)
    }
    for (let offset = 0; before.bytes - bytes > target; offset += BATCH) {
      const page = await repo.listColdDerivatives(cutoff, BATCH, offset)
      for (const d of page) {
        if (before.bytes - bytes <= target) break
        take(d.contentHash, d.bytes)
        derivatives++
      }
      if (page.length < BATCH) break
    }
    for (let offset = 0; before.bytes - bytes > target; offset += BATCH) {
      const page = await repo.listColdPictures(cutoff, BATCH, offset)
      for (const p of page) {
        if (before.bytes - bytes <= target) break
        take(p.contentHash, p.bytes)
        originals++
      }
      if (page.length < BATCH) break
    }
    const after = { bytes: Math.max(0, before.bytes - bytes), blobs: Math.max(0, before.blobs - counted.size) }
    return { maxBytes, before, after, derivatives, originals, plannedBytes: bytes, stillOver: after.bytes > target }
  }

  function enforce(options: { dryRun?: boolean } = {}): Promise<EvictionReport> {
    const result = queue.then(() => check(options))
    queue = result.catch(() => {})
    return result
  }

  async function check({ dryRun = false }: { dryRun?: boolean }): Promise<EvictionReport> {
    const before = await repo.storeUsage()
    options.onUsage?.(before)
    const report = { maxBytes, before, after: before, derivatives: 0, originals: 0, stillOver: false }
    if (maxBytes === undefined || before.bytes <= maxBytes) return report
    const target = evictionTarget(maxBytes)
    // This process's recent deliveries go to the rows first, so the order below includes them.
    await served?.flush()
    const cutoff = now() - graceMs
    if (dryRun) return plan(target, cutoff, before)
    const derived = await evictDerivatives(target, cutoff, before)
    const forgotten = await evictOriginals(target, cutoff, derived.usage)
    const after = forgotten.usage
    options.onUsage?.(after)
    const stillOver = after.bytes > target
    // A store stuck over the bound is checked after every write: say so once in a while, not each time.
    const evictedAny = derived.evicted + forgotten.evicted > 0
    if (evictedAny || now() - lastStuckLog >= STUCK_LOG_EVERY_MS) {
      if (!evictedAny) lastStuckLog = now()
      log(
        `store: ${before.bytes} bytes over the bound of ${maxBytes}: evicted ${derived.evicted} derived images` +
          ` and ${forgotten.evicted} originals, now ${after.bytes} bytes` +
          (stillOver ? ' (still over: what is left is eager, in use or served within the last minute)' : ''),
      )
    }
    return { ...report, after, derivatives: derived.evicted, originals: forgotten.evicted, stillOver }
  }

  function noteWrite(): void {
    pending = true
    running ??= drain()
  }

  /** Checks until no write came in during the last one; `running` is cleared in the same step as the last look at `pending`. */
  async function drain(): Promise<void> {
    try {
      while (pending) {
        pending = false
        await nextTurn() // after the write's own request has been answered
        await enforce().catch((error) => log(`store bound: ${(error as Error)?.message ?? error}`))
      }
    } finally {
      running = undefined
    }
  }

  return {
    maxBytes,
    noteWrite,
    enforce,
    async idle() {
      while (running) await running
      await queue // a periodic or collection-driven check too (the app closes the store after this)
    },
  }
}
