import { describe, expect, test } from 'bun:test'
import { HttpError } from '../../src/lib/http-error.ts'
import { clampMaxResults, decodeCursor, encodeCursor, type ListScope } from '../../src/store/cursor.ts'

const FACEBOOK: ListScope = { type: 'facebook', direction: 'desc', sortBy: 'created_at', prefix: '' }

describe('list cursors', () => {
  test('round-trip a position, including awkward public ids', () => {
    for (const publicId of ['65646572251', 'folder/sub/ü name', '', '"quoted"\\', '🙂']) {
      const position = { sortValue: 1_700_000_000_123, type: 'facebook', publicId }
      const cursor = encodeCursor(FACEBOOK, position)
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/) // safe in a query string without escaping
      expect(decodeCursor(cursor, FACEBOOK)).toEqual(position)
    }
  })

  test('are bound to the list they came from', () => {
    const cursor = encodeCursor(FACEBOOK, { sortValue: 1, type: 'facebook', publicId: 'a' })
    expect(() => decodeCursor(cursor, { ...FACEBOOK, type: 'twitter' })).toThrow(/another type/)
    expect(() => decodeCursor(cursor, { ...FACEBOOK, type: undefined })).toThrow(/another type/)
    expect(() => decodeCursor(cursor, { ...FACEBOOK, direction: 'asc' })).toThrow(/another sort direction/)
    expect(() => decodeCursor(cursor, { ...FACEBOOK, sortBy: 'checked_at' })).toThrow(/another sort order/)
    expect(() => decodeCursor(cursor, { ...FACEBOOK, prefix: 'a' })).toThrow(/another prefix/)
    expect(() => decodeCursor(cursor, { ...FACEBOOK, status: 'ok' })).toThrow(/another status filter/)
  })

  test('a cursor of the all-networks list carries the row type', () => {
    const all: ListScope = { ...FACEBOOK, type: undefined }
    const cursor = encodeCursor(all, { sortValue: 5, type: 'gravatar', publicId: 'x' })
    expect(decodeCursor(cursor, all)).toEqual({ sortValue: 5, type: 'gravatar', publicId: 'x' })
  })

  test('reject anything that is not exactly what encodeCursor produced', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const good = [2, 'facebook', 'desc', 'created_at', '', '', 1, 'facebook', 'a']
    const bad = [
      '',
      '%%%',
      'a.b',
      'x'.repeat(5000),
      b64(null),
      b64({}),
      b64(good.slice(0, 5)), // wrong shape
      b64([1, ...good.slice(1)]), // unknown version
      b64(good.map((v, i) => (i === 6 ? '1' : v))), // sort value not a number
      b64(good.map((v, i) => (i === 6 ? 1.5 : v))), // nor a fraction
      b64(good.map((v, i) => (i === 6 ? 1e300 : v))), // nor beyond exact integers
      b64(good.map((v, i) => (i === 8 ? 7 : v))), // publicId not a string
      b64(good.map((v, i) => (i === 7 ? 'twitter' : v))), // a row of another type
      b64([...good, 'extra']),
    ]
    expect(decodeCursor(b64(good), FACEBOOK)).toEqual({ sortValue: 1, type: 'facebook', publicId: 'a' })
    for (const cursor of bad) expect(() => decodeCursor(cursor, FACEBOOK)).toThrow(HttpError)
  })

  test("maxResults is clamped into Cloudinary's 1..500, NaN meaning the default 10", () => {
    expect([0, -3, 1, 2.9, 500, 501, Infinity, NaN].map(clampMaxResults)).toEqual([1, 1, 1, 2, 500, 500, 500, 10])
  })
})
