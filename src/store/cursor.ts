/**
 * Opaque paging cursors for listPictures(), shared by every Repository backend so a cursor means
 * the same thing whichever database is behind it.
 *
 * A cursor is base64url(JSON) of the last row's sort key plus the list it belongs to (type filter,
 * prefix, sort column and direction). It is handed to API clients, so decoding treats it as
 * hostile input: size-capped, strictly shaped, and bound to its list. Anything else is a
 * 400 HttpError; a well-formed but edited cursor can only move the starting
 * point of the same list.
 */
import { HttpError } from '../lib/http-error.ts'
import type { ListOptions, ListPage, Picture } from './types.ts'

export type ListDirection = 'asc' | 'desc'
/** `created_at`: when we first stored the picture; `checked_at`: when upstream was last asked. */
export type ListSortBy = 'created_at' | 'checked_at'

/** Which list a cursor belongs to. `type` undefined = every network. */
export interface ListScope {
  type: string | undefined
  direction: ListDirection
  sortBy: ListSortBy
  prefix: string
  /** Status filter ('' = every status). */
  status?: string
}

/** A cursor that is not one of ours, or not for this list: the client's mistake. */
export function invalidCursor(reason: string): HttpError {
  return new HttpError(400, `Invalid next_cursor: ${reason}`)
}

/** The sort key of a row: the sort column, then (type, public id) to make it unique. */
export interface CursorPosition {
  sortValue: number
  type: string
  publicId: string
}

const VERSION = 2
const MAX_CURSOR_LENGTH = 4096
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/

const scopeKey = (scope: ListScope) => [
  scope.type ?? '*',
  scope.direction,
  scope.sortBy,
  scope.prefix,
  scope.status ?? '',
]

export function encodeCursor(scope: ListScope, position: CursorPosition): string {
  const payload = [VERSION, ...scopeKey(scope), position.sortValue, position.type, position.publicId]
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')
}

export function decodeCursor(cursor: string, scope: ListScope): CursorPosition {
  if (typeof cursor !== 'string' || cursor.length === 0) throw invalidCursor('empty')
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalidCursor('too long')
  if (!BASE64URL_RE.test(cursor)) throw invalidCursor('not base64url')
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalidCursor('malformed')
  }
  if (!Array.isArray(payload) || payload.length !== 9 || payload[0] !== VERSION) throw invalidCursor('malformed')
  const [, type, direction, sortBy, prefix, status, sortValue, rowType, publicId] = payload as unknown[]
  const strings = [type, direction, sortBy, prefix, status, rowType, publicId]
  if (!strings.every((s) => typeof s === 'string') || !Number.isSafeInteger(sortValue)) throw invalidCursor('malformed')
  const expected = scopeKey(scope)
  if (type !== expected[0]) throw invalidCursor('it belongs to another type')
  if (direction !== expected[1]) throw invalidCursor('it belongs to another sort direction')
  if (sortBy !== expected[2]) throw invalidCursor('it belongs to another sort order')
  if (prefix !== expected[3]) throw invalidCursor('it belongs to another prefix')
  if (status !== expected[4]) throw invalidCursor('it belongs to another status filter')
  if (scope.type !== undefined && rowType !== scope.type) throw invalidCursor('malformed')
  return { sortValue: sortValue as number, type: rowType as string, publicId: publicId as string }
}

/** Cloudinary's max_results: default 10, at most 500; anything else is clamped into 1..500. */
export function clampMaxResults(maxResults: number): number {
  if (Number.isNaN(maxResults)) return 10
  return Math.min(500, Math.max(1, Math.floor(maxResults)))
}

/** A listPictures call as every backend reads it: which list, how many rows, from where. */
export function readListRequest(options: ListOptions): {
  scope: ListScope
  limit: number
  after: CursorPosition | undefined
} {
  const scope: ListScope = {
    type: options.type,
    direction: options.direction ?? 'desc',
    sortBy: options.sortBy ?? 'created_at',
    prefix: options.prefix ?? '',
    status: options.status ?? '',
  }
  return {
    scope,
    limit: clampMaxResults(options.maxResults),
    after: options.cursor === undefined ? undefined : decodeCursor(options.cursor, scope),
  }
}

/**
 * The page a backend answers from the `limit + 1` rows it read (the extra row only says that
 * another page exists), with the cursor that continues after its last picture.
 */
export function pageOf(rows: readonly Picture[], limit: number, scope: ListScope): ListPage {
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  if (rows.length <= limit || last === undefined) return { pictures: page }
  const sortValue = scope.sortBy === 'checked_at' ? last.checkedAt : last.createdAt
  return { pictures: page, nextCursor: encodeCursor(scope, { sortValue, type: last.type, publicId: last.publicId }) }
}
