/**
 * The JSON the page receives about pictures. Every image path in it was built (and, for a
 * restricted type, signed) here on the server: the page never signs anything and never sees the
 * secret. Upstream URLs and change keys stay out: the page has no use for them.
 */
import { faceTuples } from '../api/resource-json.ts'
import type { ManageService } from '../manage/types.ts'
import type { Derivative, Picture, PictureCount, PictureStatus } from '../store/types.ts'

/** Grid tiles: a face-centred square, small enough that a page of them loads fast. */
export const THUMBNAIL = { transformation: 'c_thumb,g_face,h_180,w_180/q_auto', format: 'jpg' }
/** The same tile for high-density screens (`srcset` 2x): only those browsers ask for it. */
export const THUMBNAIL_2X = { transformation: 'c_thumb,dpr_2.0,g_face,h_180,w_180/q_auto', format: 'jpg' }
/** The details panel shows the whole picture, scaled down; face boxes are drawn in percentages over it. */
export const PREVIEW = { transformation: 'c_limit,h_640,w_640' }

export interface PictureSummary {
  type: string
  publicId: string
  status: PictureStatus
  version: number
  format: string | null
  width: number | null
  height: number | null
  bytes: number | null
  createdAt: number
  checkedAt: number
  /** Delivery path of the grid thumbnail; null when we hold no original. */
  thumbnail: string | null
  /** The thumbnail at twice the pixels, for `srcset`. */
  thumbnail2x: string | null
}

export interface DerivativeView {
  transformation: string
  format: string
  version: number
  width: number
  height: number
  bytes: number
  createdAt: number
  lastServedAt: number
  /** Made ahead of requests by `explicit` with `eager`. */
  eager: boolean
  /** Its delivery path; null when it belongs to a superseded version. */
  path: string | null
}

export interface PictureDetails extends PictureSummary {
  restricted: boolean
  /** sha256 of the original's bytes (its ETag material). */
  contentHash: string | null
  fetchedAt: number
  nextCheckAt: number
  /** Face boxes in original pixels, [x, y, w, h]. */
  faces: Array<[number, number, number, number]>
  /** The scaled-down original the face boxes are drawn over. */
  preview: string | null
  /** Delivery paths of the original: with its version (immutable) and without (follows refreshes). */
  paths: { versioned: string; unversioned: string } | null
  derivatives: DerivativeView[]
}

export interface NetworkCount {
  type: string
  restricted: boolean
  /** Every stored row of the network, whatever its status (what the list shows). */
  total: number
  byStatus: Record<PictureStatus, number>
}

export function summarise(manage: ManageService, picture: Picture): PictureSummary {
  const held = picture.status === 'ok'
  return {
    type: picture.type,
    publicId: picture.publicId,
    status: picture.status,
    version: picture.version,
    format: picture.format,
    width: picture.width,
    height: picture.height,
    bytes: picture.bytes,
    createdAt: picture.createdAt,
    checkedAt: picture.checkedAt,
    thumbnail: held
      ? manage.deliveryPath(picture.type, picture.publicId, { ...THUMBNAIL, version: picture.version })
      : null,
    thumbnail2x: held
      ? manage.deliveryPath(picture.type, picture.publicId, { ...THUMBNAIL_2X, version: picture.version })
      : null,
  }
}

export async function describe(manage: ManageService, picture: Picture): Promise<PictureDetails> {
  const held = picture.status === 'ok'
  const withFaces = held && picture.faces === null ? await manage.withFaces(picture) : picture
  const derivatives = held ? await manage.derivatives(withFaces) : []
  const { type, publicId, version } = withFaces
  return {
    ...summarise(manage, withFaces),
    restricted: manage.restricted(type),
    contentHash: withFaces.contentHash,
    fetchedAt: withFaces.fetchedAt,
    nextCheckAt: manage.nextCheckAt(withFaces),
    faces: faceTuples(withFaces.faces ?? []) as Array<[number, number, number, number]>,
    preview: held ? manage.deliveryPath(type, publicId, { ...PREVIEW, version }) : null,
    paths: held
      ? {
          versioned: manage.deliveryPath(type, publicId, { version }),
          unversioned: manage.deliveryPath(type, publicId),
        }
      : null,
    derivatives: derivatives.map((derivative) => viewDerivative(manage, withFaces, derivative)),
  }
}

function viewDerivative(manage: ManageService, picture: Picture, derivative: Derivative): DerivativeView {
  // The key is the canonical transformation, then `/` and the output format.
  const slash = derivative.key.lastIndexOf('/')
  const transformation = slash < 0 ? '' : derivative.key.slice(0, slash)
  let path: string | null = null
  if (derivative.version === picture.version) {
    try {
      path = manage.deliveryPath(picture.type, picture.publicId, {
        transformation,
        format: derivative.format,
        version: derivative.version,
      })
    } catch {
      path = null // a stored key the current grammar no longer accepts: listed, not linked
    }
  }
  return {
    transformation,
    format: derivative.format,
    version: derivative.version,
    width: derivative.width,
    height: derivative.height,
    bytes: derivative.bytes,
    createdAt: derivative.createdAt,
    lastServedAt: derivative.lastServedAt,
    eager: derivative.eager,
    path,
  }
}

/** Rows per network for the filter, every loaded network listed even when it holds nothing yet. */
export function countByNetwork(
  manage: ManageService,
  counts: PictureCount[],
): { total: number; networks: NetworkCount[] } {
  const networks = new Map<string, NetworkCount>()
  const entry = (type: string) => {
    let found = networks.get(type)
    if (!found) {
      found = { type, restricted: manage.restricted(type), total: 0, byStatus: { ok: 0, none: 0, not_found: 0 } }
      networks.set(type, found)
    }
    return found
  }
  for (const type of manage.types()) entry(type)
  for (const { type, status, count } of counts) {
    const network = entry(type)
    network.total += count
    network.byStatus[status] = (network.byStatus[status] ?? 0) + count
  }
  const sorted = [...networks.values()].sort((a, b) => a.type.localeCompare(b.type))
  return { total: sorted.reduce((sum, n) => sum + n.total, 0), networks: sorted }
}
