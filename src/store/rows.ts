/**
 * Rows to store types and back, shared by the SQLite and PostgreSQL repositories (both schemas
 * have the same columns; PostgreSQL's `format` and `status` are plain text, checked here).
 */
import type { Rect } from '../image/types.ts'
import { IMAGE_FORMATS } from '../url/types.ts'
import { type DerivativeRow, PICTURE_STATUSES, type PictureRow } from './schema.ts'
import { type Derivative, NO_ORIGINAL, type Picture } from './types.ts'

/** A picture row as either backend reads it. */
export type StoredPictureRow = Omit<PictureRow, 'status' | 'format'> & { status: string; format: string | null }
/** A derivative row as either backend reads it. */
export type StoredDerivativeRow = Omit<DerivativeRow, 'format'> & { format: string }

export function toPicture(row: StoredPictureRow): Picture {
  const record = {
    type: row.type,
    publicId: row.publicId,
    version: row.version,
    upstreamUrl: row.upstreamUrl,
    changeKey: row.changeKey,
    etag: row.etag,
    lastModified: row.lastModified,
    createdAt: row.createdAt,
    fetchedAt: row.fetchedAt,
    checkedAt: row.checkedAt,
  }
  const status = oneOf(PICTURE_STATUSES, row.status, 'pictures.status')
  // An absent picture keeps its validators and change key: the next check can still use them.
  if (status !== 'ok') return { ...NO_ORIGINAL, ...record, status }
  const { contentHash, format, width, height, bytes } = row
  if (contentHash === null || format === null || width === null || height === null || bytes === null) {
    throw new Error(`picture ${row.type}/${row.publicId} is held but its original is not described in the database`)
  }
  return {
    ...record,
    status,
    contentHash,
    format: oneOf(IMAGE_FORMATS, format, 'pictures.format'),
    width,
    height,
    bytes,
    faces: row.faces === null ? null : parseFaces(row.faces),
  }
}

export function fromPicture(picture: Picture): PictureRow {
  return {
    type: picture.type,
    publicId: picture.publicId,
    version: picture.version,
    status: picture.status,
    upstreamUrl: picture.upstreamUrl,
    changeKey: picture.changeKey,
    etag: picture.etag,
    lastModified: picture.lastModified,
    contentHash: picture.contentHash,
    format: picture.format,
    width: picture.width,
    height: picture.height,
    bytes: picture.bytes,
    // null (not detected yet) must stay SQL NULL, distinct from '[]' (detected: no faces).
    faces: picture.faces === null ? null : JSON.stringify(picture.faces.map(({ x, y, w, h }) => [x, y, w, h])),
    createdAt: picture.createdAt,
    fetchedAt: picture.fetchedAt,
    checkedAt: picture.checkedAt,
    // Only a new row takes this (PICTURE_UPDATE leaves it out): a picture is fetched to be
    // served; after that the served log moves it.
    lastServedAt: picture.fetchedAt,
  }
}

export function toDerivative(row: StoredDerivativeRow): Derivative {
  return {
    type: row.type,
    publicId: row.publicId,
    version: row.version,
    key: row.key,
    format: oneOf(IMAGE_FORMATS, row.format, 'derivatives.format'),
    contentHash: row.contentHash,
    bytes: row.bytes,
    width: row.width,
    height: row.height,
    createdAt: row.createdAt,
    lastServedAt: row.lastServedAt,
    eager: row.eager,
  }
}

export function fromDerivative(derivative: Derivative): DerivativeRow {
  return {
    type: derivative.type,
    publicId: derivative.publicId,
    version: derivative.version,
    key: derivative.key,
    format: derivative.format,
    contentHash: derivative.contentHash,
    bytes: derivative.bytes,
    width: derivative.width,
    height: derivative.height,
    createdAt: derivative.createdAt,
    lastServedAt: derivative.lastServedAt,
    eager: derivative.eager,
  }
}

// The schema has no CHECK constraints (see schema.ts), so a row written by hand or by a newer
// version could hold a value this version does not know; fail loudly rather than mistype it.
export function oneOf<T extends string>(allowed: readonly T[], value: string, column: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new Error(`unexpected ${column} value ${JSON.stringify(value)} in the database`)
}

/** Faces are stored compactly as `[[x, y, w, h], …]` (the Admin API's shape) and read back as Rects. */
function parseFaces(text: string): Rect[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error(`pictures.faces is not valid JSON: ${JSON.stringify(text.slice(0, 100))}`)
  }
  const isBox = (box: unknown) =>
    Array.isArray(box) && box.length === 4 && box.every((n) => typeof n === 'number' && Number.isFinite(n))
  if (!Array.isArray(value) || !value.every(isBox)) {
    throw new Error(`pictures.faces is not an array of [x, y, w, h]: ${JSON.stringify(text.slice(0, 100))}`)
  }
  return (value as number[][]).map(([x, y, w, h]) => ({ x: x!, y: y!, w: w!, h: h! }))
}
