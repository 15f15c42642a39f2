/**
 * Derivatives beside pictures: look a derivative up, derive it once (however many requests wait for
 * it), store it, and tell the served log about each delivery so the store bound has a date to evict
 * by. Used by delivery (on a miss) and by `explicit` with `eager` (ahead of any request).
 */
import type { WorkBudget } from '../image/budget.ts'
import type { DeriveInput, DeriveOutput } from '../image/types.ts'
import { HttpError } from '../lib/http-error.ts'
import { noteTrace } from '../lib/request-trace.ts'
import { SingleFlight } from '../lib/single-flight.ts'
import { leaseName } from '../store/leases.ts'
import type { BlobPins } from '../store/pins.ts'
import type { ServedLog } from '../store/served.ts'
import type { BlobStore, Derivative, HeldPicture, Picture, Repository } from '../store/types.ts'
import type { Component, ImageFormat } from '../url/types.ts'
import { localWork, type SharedWork } from './shared-work.ts'

/** The stored key of a derivative: canonical transformation text + '/' + output format (just the format when untransformed). */
export function derivativeKey(canonical: string, format: ImageFormat): string {
  return canonical === '' ? format : `${canonical}/${format}`
}

/**
 * The picture's row names bytes the blob store no longer has (deleted by hand, a lost disk, or a
 * delete of superseded bytes racing a put of the same bytes). Callers that may go upstream fetch
 * the picture again instead of failing.
 */
export class MissingOriginalError extends HttpError {
  constructor() {
    super(500, 'Stored original is missing')
  }
}
export const missingOriginal = () => new MissingOriginalError()
export const isMissingOriginal = (error: unknown): boolean => error instanceof MissingOriginalError

export interface DerivativeSourceOptions {
  repo: Repository
  blobs: BlobStore
  /** Runs a transformation (in a worker pool in production); `signal`: nobody waits for it any more. */
  derive: (input: DeriveInput, options?: { signal?: AbortSignal }) => Promise<DeriveOutput>
  /** Records deliveries of stored derivatives (batched; the store bound evicts by it). */
  served?: ServedLog
  /** Blobs read or derived from are pinned meanwhile, so the store bound never deletes them under us. */
  pins?: BlobPins
  /** Told after a new derivative is stored (the store bound checks the size in the background). */
  onStored?: () => void
  /**
   * Instances sharing the database make each derived image once between them
   * (src/ingest/shared-work.ts); default: this process alone.
   */
  shared?: SharedWork
  now?: () => number
}

export interface DerivedImage {
  row: Derivative
  bytes: Uint8Array
}

export interface DerivativeSource {
  /**
   * The stored derivative of `picture` under `key`, derived and stored first if there is none.
   * `eager`: made ahead of any request (`explicit`); marks an existing derivative as such too.
   * `budget`: what deriving it may cost (checked again in the worker on the exact plan).
   * `signal`: this caller's client went away; the transformation is called off (if still queued)
   * only when no other caller waits for the same derivative.
   * `charge`: called just before a transformation would start (not for a stored derivative, nor
   * when joining one under way); it may throw to refuse it.
   */
  get(
    picture: Picture,
    chain: Component[],
    format: ImageFormat,
    key: string,
    options?: { eager?: boolean; budget?: WorkBudget; signal?: AbortSignal; charge?: () => void },
  ): Promise<DerivedImage>
  /** The stored row only (no bytes, no work), for authorisation decisions. */
  find(picture: Picture, key: string): Promise<Derivative | undefined>
  /** Does any output format of this canonical chain exist for the picture's current version? */
  exists(picture: Picture, canonical: string): Promise<boolean>
}

export function createDerivativeSource(options: DerivativeSourceOptions): DerivativeSource {
  const { repo, blobs } = options
  const now = options.now ?? Date.now
  const flights = new SingleFlight<DerivedImage>()
  const shared = options.shared ?? localWork()
  const hold = <T>(hash: string, use: () => Promise<T>) => (options.pins ? options.pins.hold(hash, use) : use())

  async function stored(picture: Picture, key: string): Promise<DerivedImage | undefined> {
    const row = await repo.getDerivative(picture.type, picture.publicId, picture.version, key)
    if (!row) return undefined
    // Recorded before the read, in the same turn as the lookup: from here on eviction leaves it alone.
    options.served?.derivative(row, now())
    const bytes = await hold(row.contentHash, () => blobs.get(row.contentHash))
    // A row whose blob is gone (deleted by hand, lost disk, evicted by another process): derive again rather than fail.
    if (!bytes) return undefined
    return { row, bytes }
  }

  async function deriveAndStore(
    picture: Picture,
    chain: Component[],
    format: ImageFormat,
    key: string,
    eager: boolean,
    budget: WorkBudget | undefined,
    signal: AbortSignal,
  ): Promise<DerivedImage> {
    if (picture.status !== 'ok') throw new HttpError(404, `Resource not found - ${picture.publicId}`)
    // The original stays pinned until the derivative's row is in: the store bound never forgets
    // the picture in between (its row must exist for the derivative's).
    return hold(picture.contentHash, () => deriveFrom(picture, chain, format, key, eager, budget, signal))
  }

  async function deriveFrom(
    picture: HeldPicture,
    chain: Component[],
    format: ImageFormat,
    key: string,
    eager: boolean,
    budget: WorkBudget | undefined,
    signal: AbortSignal,
  ): Promise<DerivedImage> {
    const original = await blobs.get(picture.contentHash)
    if (!original) throw missingOriginal()
    const output = await options.derive(
      { bytes: original, format: picture.format, chain, output: format, faces: picture.faces ?? [], budget },
      { signal },
    )
    const contentHash = await blobs.put(output.bytes)
    const at = now()
    const row: Derivative = {
      type: picture.type,
      publicId: picture.publicId,
      version: picture.version,
      key,
      format: output.format,
      contentHash,
      bytes: output.bytes.byteLength,
      width: output.width,
      height: output.height,
      createdAt: at,
      lastServedAt: at,
      eager,
    }
    await repo.putDerivative(row)
    options.onStored?.()
    return { row, bytes: output.bytes }
  }

  return {
    async get(picture, chain, format, key, options = {}) {
      const eager = options.eager === true
      const hit = await stored(picture, key)
      if (hit) {
        if (!eager || hit.row.eager) return hit
        const row = { ...hit.row, eager: true }
        await repo.putDerivative(row)
        return { row, bytes: hit.bytes }
      }
      // Leader or joiner of the derivation, this request waits for it.
      noteTrace({ derived: true })
      const flightKey = [picture.type, picture.publicId, picture.version, key].join('\u0000')
      if (!flights.has(flightKey)) options.charge?.()
      const made = await flights.run(
        flightKey,
        // An instance that waited for another's derivation serves what that one stored (misses
        // are never kept by the row cache, so `stored` sees the new row as soon as it is in).
        (signal) =>
          shared.run(leaseName('derivative', picture.type, picture.publicId, picture.version, key), {
            work: () => deriveAndStore(picture, chain, format, key, eager, options.budget, signal),
            done: () => stored(picture, key),
            signal,
          }),
        options.signal,
      )
      // A request-made derivative finished first while we waited for it: mark it eager now.
      if (eager && !made.row.eager) {
        const row = { ...made.row, eager: true }
        await repo.putDerivative(row)
        return { row, bytes: made.bytes }
      }
      return made
    },
    find(picture, key) {
      return repo.getDerivative(picture.type, picture.publicId, picture.version, key)
    },
    async exists(picture, canonical) {
      for (const format of ['jpg', 'png', 'webp', 'gif'] as const) {
        if (await repo.getDerivative(picture.type, picture.publicId, picture.version, derivativeKey(canonical, format)))
          return true
      }
      return false
    },
  }
}
