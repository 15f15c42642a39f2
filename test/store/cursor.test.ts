import { describe, expect, test } from 'bun:test'
import { clampMaxResults, decodeCursor, encodeCursor, InvalidCursorError } from '../../src/store/cursor.ts'

describe('list cursors', () => {
  test('round-trip a position, including awkward public ids', () => {
    for (const publicId of ['65646572251', 'folder/sub/ü name', '', '"quoted"\\', '🙂']) {
      const cursor = encodeCursor('facebook', 'desc', { createdAt: 1_700_000_000_123, publicId })
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/) // safe in a query string without escaping
      expect(decodeCursor(cursor, 'facebook', 'desc')).toEqual({ createdAt: 1_700_000_000_123, publicId })
    }
  })

  test('are bound to the list they came from', () => {
    const cursor = encodeCursor('facebook', 'desc', { createdAt: 1, publicId: 'a' })
    expect(() => decodeCursor(cursor, 'twitter', 'desc')).toThrow(InvalidCursorError)
    expect(() => decodeCursor(cursor, 'facebook', 'asc')).toThrow(InvalidCursorError)
  })

  test('reject anything that is not exactly what encodeCursor produced', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const bad = [
      '', '%%%', 'a.b', 'x'.repeat(5000),
      b64(null), b64({}), b64([1, 'facebook', 'desc', 1]),               // wrong shape
      b64([2, 'facebook', 'desc', 1, 'a']),                              // unknown version
      b64([1, 'facebook', 'desc', '1', 'a']),                            // createdAt not a number
      b64([1, 'facebook', 'desc', 1.5, 'a']),                            // nor a fraction
      b64([1, 'facebook', 'desc', 1e300, 'a']),                          // nor beyond exact integers
      b64([1, 'facebook', 'desc', 1, 7]),                                // publicId not a string
      b64([1, 'facebook', 'desc', 1, 'a', 'extra']),
    ]
    for (const cursor of bad) expect(() => decodeCursor(cursor, 'facebook', 'desc')).toThrow(InvalidCursorError)
  })

  test('maxResults is clamped into Cloudinary\'s 1..500, NaN meaning the default 10', () => {
    expect([0, -3, 1, 2.9, 500, 501, Infinity, NaN].map(clampMaxResults)).toEqual([1, 1, 1, 2, 500, 500, 500, 10])
  })
})
