/**
 * Metadata and bytes live behind two small interfaces so that a later issue can add
 * PostgreSQL and S3-compatible backends. The embedded default is SQLite (drizzle) + local disk.
 */
import type { Rect } from '../image/types.ts'
import type { ImageFormat } from '../url/types.ts'

export type PictureStatus = Picture['status']

/** What every picture row holds, whatever the network said. */
interface PictureRecord {
  type: string
  publicId: string
  /** Unix seconds; changes whenever the original's bytes change. */
  version: number
  /** The image URL last downloaded (held pictures), kept so validators are only sent to it. */
  upstreamUrl: string | null
  /** Plugin's change hint (e.g. X profile_image_url), plus HTTP validators seen on the image. */
  changeKey: string | null
  etag: string | null
  lastModified: string | null
  createdAt: number // ms
  fetchedAt: number // ms, last download
  checkedAt: number // ms, last upstream check
}

/** We hold an original: its bytes (a blob), format and upright size are known. */
export interface HeldPicture extends PictureRecord {
  status: 'ok'
  /** sha256 hex of the original's bytes = its blob key. */
  contentHash: string
  format: ImageFormat
  width: number
  height: number
  bytes: number
  /** Detected faces in original pixels; null = not yet detected, [] = none found. */
  faces: Rect[] | null
}

/**
 * A remembered answer without a picture: `none` (the account has no picture of its own: a
 * silhouette, a default avatar, Gravatar's 404) or `not_found` (no such account).
 */
export interface AbsentPicture extends PictureRecord {
  status: 'none' | 'not_found'
  contentHash: null
  format: null
  width: null
  height: null
  bytes: null
  faces: null
}

export type Picture = HeldPicture | AbsentPicture

/** The fields of a picture row that describe an original, all empty: what an absent picture carries. */
export const NO_ORIGINAL = {
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
} as const satisfies Partial<AbsentPicture>

export interface Derivative {
  type: string
  publicId: string
  /** The picture version this was derived from. */
  version: number
  /** Canonical transformation text (see url/canonical.ts) + '/' + output format, e.g. `c_fill,h_120,w_80/jpg`. */
  key: string
  format: ImageFormat
  contentHash: string
  bytes: number
  width: number
  height: number
  createdAt: number
  lastServedAt: number
  /**
   * Made ahead of any request by `explicit` with `eager`. Such a derivative may be delivered
   * without a signature even for a restricted type, as Cloudinary allows for eager transformations.
   */
  eager: boolean
}

/** The key of one derivative row. */
export type DerivativeId = Pick<Derivative, 'type' | 'publicId' | 'version' | 'key'>

/** Deliveries since the last batch, as the served log (src/store/served.ts) hands them over. */
export interface ServedBatch {
  derivatives: Array<DerivativeId & { at: number }>
  pictures: Array<{ type: string; publicId: string; at: number }>
}

/** The blobs rows name: each shared blob counted once. */
export interface StoreUsage {
  bytes: number
  blobs: number
}

/** A held picture as the store bound sees it (its original, and when it was last delivered). */
export interface ColdPicture {
  type: string
  publicId: string
  contentHash: string
  bytes: number
  lastServedAt: number
}

export interface ListOptions {
  /** Only this network; undefined = every network. */
  type?: string
  /** Only public ids starting with this text (exact, case-sensitive). */
  prefix?: string
  /** Only rows of this status (e.g. 'ok': pictures we hold, not remembered "no picture" answers). */
  status?: PictureStatus
  /** Clamped to 1..500 (Cloudinary's cap for resource lists). */
  maxResults: number
  /** `nextCursor` of the previous page of the same list (type, prefix, sort and direction). */
  cursor?: string
  /** Default 'desc', newest first, as in Cloudinary's Admin API. */
  direction?: 'asc' | 'desc'
  /** Default 'created_at' (when first stored); 'checked_at' = last upstream check. Ties by type, then public id. */
  sortBy?: 'created_at' | 'checked_at'
}
export interface ListPage {
  pictures: Picture[]
  nextCursor?: string
}

/** Rows per network and status (the Media Library's filter counts). */
export interface PictureCount {
  type: string
  status: PictureStatus
  count: number
}

export interface Repository {
  getPicture(type: string, publicId: string): Promise<Picture | undefined>
  /** Insert or replace the picture row (keyed by type + publicId). */
  putPicture(picture: Picture): Promise<void>
  deletePicture(type: string, publicId: string): Promise<boolean>
  /** Keyset-paged list: stable while rows are added or deleted (no duplicates, no gaps). */
  listPictures(options: ListOptions): Promise<ListPage>
  countPictures(): Promise<PictureCount[]>
  /** Held pictures (status ok) of one network last checked before `checkedBefore`, oldest check first. */
  listDueForRefresh(type: string, checkedBefore: number, limit: number): Promise<Picture[]>
  /** How many pictures listDueForRefresh would list without a limit (the sweeper's backlog). */
  countDueForRefresh(type: string, checkedBefore: number): Promise<number>

  getDerivative(type: string, publicId: string, version: number, key: string): Promise<Derivative | undefined>
  putDerivative(derivative: Derivative): Promise<void>
  /**
   * Record deliveries (the served log's batch, every few seconds, never one write per request).
   * A date only moves forward, so late or out-of-order batches never rewind it.
   */
  recordServed(batch: ServedBatch): Promise<void>
  /** Every stored derivative of a picture (all versions), newest first. */
  listDerivatives(type: string, publicId: string): Promise<Derivative[]>
  /** Drop every derivative of a picture (all versions); returns their content hashes. */
  deleteDerivatives(type: string, publicId: string): Promise<string[]>
  /**
   * Forget remembered "no picture" / "not found" answers checked before `checkedBefore` (at most
   * `limit` rows): a request for them asks the network again anyway, and unsigned URLs must not
   * leave rows behind forever. Returns how many were deleted.
   */
  deleteExpiredAbsent(checkedBefore: number, limit: number): Promise<number>
  /** Throws unless the database answers and can take a write lock (readiness). */
  ping(): Promise<void>
  /** Is any picture or derivative still referencing this blob? (for safe blob deletion) */
  isBlobReferenced(contentHash: string): Promise<boolean>

  // ---- the store bound and garbage collection (src/store/quota.ts, src/store/gc.ts) ----------
  /**
   * Bytes and number of the distinct blobs that rows name, each shared blob once. Called after
   * writes, so it must not scan (the SQLite backend keeps it in a row maintained by triggers).
   */
  storeUsage(): Promise<StoreUsage>
  /**
   * Derived images last served before `servedBefore`, least recently served first (eager ones
   * never), skipping the first `offset` of them (the ones a caller looked at and kept).
   */
  listColdDerivatives(servedBefore: number, limit: number, offset?: number): Promise<Derivative[]>
  /**
   * Delete these derived images, together, each only if it is still not eager and not served since
   * `servedBefore` (a delivery between listing and deleting keeps it). Returns, in the same order,
   * the blob hash of each one deleted (undefined for one kept).
   */
  evictDerivatives(ids: readonly DerivativeId[], servedBefore: number): Promise<Array<string | undefined>>
  /** Held pictures last served before `servedBefore` and without eager derived images, least recently served first. */
  listColdPictures(servedBefore: number, limit: number, offset?: number): Promise<ColdPicture[]>
  /**
   * Forget one picture, its row and every derived image, if it is still held, not served since
   * `servedBefore`, without eager derived images, and none of the blobs its rows name is `inUse`
   * (asked in the same step as the deletion). Returns the blob hashes those rows named (original
   * first), or undefined when nothing was deleted.
   */
  evictPicture(
    type: string,
    publicId: string,
    servedBefore: number,
    inUse?: (contentHash: string) => boolean,
  ): Promise<string[] | undefined>
  /** Distinct blob hashes named by originals or by derived images, in hash order after `after` (paging). */
  listReferencedBlobs(kind: 'original' | 'derived', after: string, limit: number): Promise<string[]>
  /** Delete the derived-image rows naming this blob (its bytes are gone); returns how many. */
  deleteDerivativesOfBlob(contentHash: string): Promise<number>
  /** How many rows deleteExpiredAbsent would delete, without a limit (dry runs). */
  countExpiredAbsent(checkedBefore: number): Promise<number>
  /** Ends the connection(s); a network backend finishes closing when the promise settles. */
  close(): void | Promise<void>
}

/** One stored blob as listed for garbage collection. */
export interface BlobEntry {
  hash: string
  bytes: number
  /** ms; a put of bytes already stored refreshes it, so a blob about to be named by a new row looks new. */
  modifiedAt: number
}

export interface BlobStore {
  /** Store bytes under their sha256 (hex); atomic: never half-visible. Returns the hash. */
  put(bytes: Uint8Array): Promise<string>
  get(hash: string): Promise<Uint8Array | undefined>
  has(hash: string): Promise<boolean>
  delete(hash: string): Promise<void>
  /** Every stored blob (garbage collection walks it against the rows); order unspecified. */
  list(): AsyncIterable<BlobEntry>
  /**
   * Remove what interrupted writes left behind (temp files on disk) that is older than
   * `olderThanMs`, so a write still in progress is never touched. With `dryRun`, only count.
   */
  sweepLeftovers(olderThanMs: number, options?: { dryRun?: boolean }): Promise<{ count: number; bytes: number }>
}
