/**
 * When derived images and pictures were last delivered, for the store bound's "least recently
 * served first" (src/store/quota.ts). A delivery only sets an entry in memory; the entries are
 * written in one batch every few seconds, off the response path, so the tracking adds no database
 * write to a request. Until then eviction asks `pendingDerivative`/`pendingPicture`, so a delivery
 * counts from the moment it starts.
 */
import type { DerivativeId, Repository, ServedBatch } from './types.ts'

/** How often recorded deliveries are written. */
export const SERVED_FLUSH_MS = 5_000
/** Rows per write transaction, so a large batch does not hold the server thread in one go. */
const CHUNK = 1_000

export interface ServedLog {
  /** A stored derived image is being delivered. */
  derivative(id: DerivativeId, at: number): void
  /** A held picture is being delivered, in any form. */
  picture(type: string, publicId: string, at: number): void
  /** The latest delivery not yet written, if any. */
  pendingDerivative(id: DerivativeId): number | undefined
  pendingPicture(type: string, publicId: string): number | undefined
  /** Write what was recorded now (the timer does it every few seconds; eviction does it first). */
  flush(): Promise<void>
  /** Stop the timer and write what is left. */
  close(): Promise<void>
}

export interface ServedLogOptions {
  repo: Pick<Repository, 'recordServed'>
  /** Default SERVED_FLUSH_MS; 0 = no timer (the caller flushes). */
  flushEveryMs?: number
  /** Past this many entries a flush starts at once (default 50 000), so memory stays bounded. */
  maxPending?: number
  log?: (line: string) => void
}

type DerivativeEntry = DerivativeId & { at: number }
type PictureEntry = { type: string; publicId: string; at: number }

const derivativeKey = (d: DerivativeId) => `${d.type}\u0000${d.publicId}\u0000${d.version}\u0000${d.key}`
const pictureKey = (type: string, publicId: string) => `${type}\u0000${publicId}`

export function createServedLog(options: ServedLogOptions): ServedLog {
  const maxPending = options.maxPending ?? 50_000
  const log = options.log ?? ((line) => console.error(line))
  let derivatives = new Map<string, DerivativeEntry>()
  let pictures = new Map<string, PictureEntry>()
  // The batch being written: still "pending" for eviction until it is in the database.
  let writing: { derivatives: Map<string, DerivativeEntry>; pictures: Map<string, PictureEntry> } | undefined
  let inFlight: Promise<void> | undefined
  let early = false

  const keepLatest = <E extends { at: number }>(map: Map<string, E>, key: string, entry: E) => {
    const known = map.get(key)
    if (known === undefined) map.set(key, entry)
    else if (entry.at > known.at) known.at = entry.at
  }
  const startEarly = () => {
    if (early || derivatives.size + pictures.size < maxPending) return
    early = true
    setTimeout(() => void flush(), 0)
  }

  async function write(): Promise<void> {
    writing = { derivatives, pictures }
    derivatives = new Map()
    pictures = new Map()
    const batch: ServedBatch = {
      derivatives: [...writing.derivatives.values()],
      pictures: [...writing.pictures.values()],
    }
    try {
      for (let i = 0; i < Math.max(batch.derivatives.length, batch.pictures.length); i += CHUNK) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve)) // let requests in between chunks
        await options.repo.recordServed({
          derivatives: batch.derivatives.slice(i, i + CHUNK),
          pictures: batch.pictures.slice(i, i + CHUNK),
        })
      }
    } catch (error) {
      // Keep the dates for the next attempt (they only order eviction; nothing is lost by waiting).
      for (const [key, entry] of writing.derivatives) keepLatest(derivatives, key, entry)
      for (const [key, entry] of writing.pictures) keepLatest(pictures, key, entry)
      log(`served log: ${(error as Error)?.message ?? error}`)
    } finally {
      writing = undefined
    }
  }

  async function flush(): Promise<void> {
    while (inFlight) await inFlight
    early = false
    if (derivatives.size + pictures.size === 0) return
    inFlight = write().finally(() => {
      inFlight = undefined
    })
    await inFlight
  }

  const every = options.flushEveryMs ?? SERVED_FLUSH_MS
  const timer = every > 0 ? setInterval(() => void flush(), every) : undefined
  ;(timer as { unref?: () => void } | undefined)?.unref?.()

  return {
    derivative(id, at) {
      keepLatest(derivatives, derivativeKey(id), {
        type: id.type,
        publicId: id.publicId,
        version: id.version,
        key: id.key,
        at,
      })
      startEarly()
    },
    picture(type, publicId, at) {
      keepLatest(pictures, pictureKey(type, publicId), { type, publicId, at })
      startEarly()
    },
    pendingDerivative(id) {
      const key = derivativeKey(id)
      return latest(derivatives.get(key)?.at, writing?.derivatives.get(key)?.at)
    },
    pendingPicture(type, publicId) {
      const key = pictureKey(type, publicId)
      return latest(pictures.get(key)?.at, writing?.pictures.get(key)?.at)
    },
    flush,
    async close() {
      if (timer) clearInterval(timer)
      await flush()
    },
  }
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b)
}
