/**
 * Opaque paging cursors for listPictures(), shared by every Repository backend so a cursor means
 * the same thing whichever database is behind it.
 *
 * A cursor is base64url(JSON) of the last row's sort key plus the list it belongs to. It is
 * handed to API clients, so decoding treats it as hostile input: size-capped, strictly shaped,
 * and bound to its type and direction. Anything else is an InvalidCursorError (→ HTTP 400);
 * a well-formed but edited cursor can only move the starting point of the same list.
 */

export type ListDirection = 'asc' | 'desc'

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError'
  constructor(reason: string) {
    super(`Invalid next_cursor: ${reason}`)
  }
}

export interface CursorPosition {
  createdAt: number
  publicId: string
}

const VERSION = 1
const MAX_CURSOR_LENGTH = 4096
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/

export function encodeCursor(type: string, direction: ListDirection, position: CursorPosition): string {
  const payload = [VERSION, type, direction, position.createdAt, position.publicId]
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')
}

export function decodeCursor(cursor: string, type: string, direction: ListDirection): CursorPosition {
  if (typeof cursor !== 'string' || cursor.length === 0) throw new InvalidCursorError('empty')
  if (cursor.length > MAX_CURSOR_LENGTH) throw new InvalidCursorError('too long')
  if (!BASE64URL_RE.test(cursor)) throw new InvalidCursorError('not base64url')
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError('malformed')
  }
  if (!Array.isArray(payload) || payload.length !== 5 || payload[0] !== VERSION) throw new InvalidCursorError('malformed')
  const [, cursorType, cursorDirection, createdAt, publicId] = payload as unknown[]
  if (typeof cursorType !== 'string' || typeof cursorDirection !== 'string' || !Number.isSafeInteger(createdAt) || typeof publicId !== 'string') {
    throw new InvalidCursorError('malformed')
  }
  if (cursorType !== type) throw new InvalidCursorError('it belongs to another type')
  if (cursorDirection !== direction) throw new InvalidCursorError('it belongs to another sort direction')
  return { createdAt: createdAt as number, publicId }
}

/** Cloudinary's max_results: default 10, at most 500; anything else is clamped into 1..500. */
export function clampMaxResults(maxResults: number): number {
  if (Number.isNaN(maxResults)) return 10
  return Math.min(500, Math.max(1, Math.floor(maxResults)))
}
