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
  touchDerivative(type: string, publicId: string, version: number, key: string, at: number): Promise<void>
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
  close(): void
}

export interface BlobStore {
  /** Store bytes under their sha256 (hex); atomic: never half-visible. Returns the hash. */
  put(bytes: Uint8Array): Promise<string>
  get(hash: string): Promise<Uint8Array | undefined>
  has(hash: string): Promise<boolean>
  delete(hash: string): Promise<void>
}
