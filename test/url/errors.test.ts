import { describe, expect, test } from 'bun:test'
import { shown } from '../../src/url/errors.ts'

describe('shown: request text made safe for the X-Cld-Error header', () => {
  test('printable ASCII is unchanged', () => expect(shown('c_fill,w_80 ok!')).toBe('c_fill,w_80 ok!'))
  test('control and non-ASCII characters are percent-encoded', () => {
    expect(shown('a\r\nb\u0000')).toBe('a%0D%0Ab%00')
    expect(shown('Jürgen')).toBe('J%C3%BCrgen')
  })
  test('a lone surrogate becomes ? instead of throwing', () => expect(shown('a\uD800b')).toBe('a?b'))
  test('long text is cut at 100 characters', () => expect(shown('x'.repeat(101))).toBe(`${'x'.repeat(100)}...`))
})
