/**
 * The manage surface: what the Admin/Upload API routes and the Media Library page (`/console`) can
 * do to stored pictures. Both are thin HTTP layers over this one service, so a refresh from the
 * page and an `explicit` call from an SDK behave identically.
 *
 * Failures with an obvious status are thrown as HttpError (src/lib/http-error.ts): 400 bad type,
 * id or transformation; 404 the network has no picture; 429/503 upstream rate limit; 502/504
 * upstream failure.
 */
import type { Derivative, ListOptions, ListPage, Picture, PictureCount } from '../store/types.ts'
import type { ImageFormat } from '../url/types.ts'

export interface RefreshOutcome {
  /** The picture as stored after the re-check (status ok). */
  picture: Picture
  /** True when the bytes changed (a new version). */
  changed: boolean
  /** Derivatives dropped (invalidate, or superseded by a new version). */
  invalidated: number
}

export interface EagerResult {
  /** The transformation as given (without the `/<ext>` suffix). */
  transformation: string
  derivative: Derivative
  /** Delivery path of this derivative, with the picture's version, signed when the type needs it. */
  path: string
}

export interface DeliveryPathOptions {
  /** Transformation text, e.g. `c_thumb,g_face,h_160,w_160/r_max`; empty = the original. */
  transformation?: string
  /** Output extension (default: the picture's own format). */
  format?: string
  /** Add `v<version>`. */
  version?: number
  /** Sign even when the type is not restricted. */
  sign?: boolean
}

export type DeleteOutcome = 'deleted' | 'not_found'

export interface ManageService {
  /** Delivery types of the loaded plugins. */
  types(): string[]
  /** The type is restricted (needs signed URLs). */
  restricted(type: string): boolean
  list(options: ListOptions): Promise<ListPage>
  counts(): Promise<PictureCount[]>
  /** The stored row (any status), or undefined. Throws 400 for an unknown type or invalid id. */
  get(type: string, publicId: string): Promise<Picture | undefined>
  derivatives(picture: Picture): Promise<Derivative[]>
  /** The picture with its faces detected (once; persisted). */
  withFaces(picture: Picture): Promise<Picture>
  /** Re-check upstream now, whatever the TTL (`explicit`). 404 when the network has no picture. */
  refresh(type: string, publicId: string, options?: { invalidate?: boolean }): Promise<RefreshOutcome>
  /** Drop our derivatives and hot responses of a picture and ask the CDN to purge it. Returns derivatives dropped. */
  invalidate(type: string, publicId: string): Promise<number>
  /** Derive now (`eager`); each entry is `transformation[/ext]`. 400 for a bad transformation. */
  eager(picture: Picture, transformations: string[]): Promise<EagerResult[]>
  /** Delete pictures (rows, derivatives and blobs together), or only their derivatives with keepOriginal. */
  delete(
    type: string,
    publicIds: string[],
    options?: { keepOriginal?: boolean },
  ): Promise<Record<string, DeleteOutcome>>
  /** When the picture is due for its next upstream check (ms since epoch). */
  nextCheckAt(picture: Picture): number
  /** A delivery path (no host) for this picture, signed when the type is restricted. 400 for a bad transformation. */
  deliveryPath(type: string, publicId: string, options?: DeliveryPathOptions): string
}

export type { ImageFormat }
