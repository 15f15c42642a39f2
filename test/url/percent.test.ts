import { describe, expect, test } from 'bun:test'
import { decodePercentStrict, fullyUnescapeBytes } from '../../src/url/percent.ts'

const unescaped = (text: string): string =>
  Buffer.from(fullyUnescapeBytes(new TextEncoder().encode(text))).toString('latin1')

describe('decodePercentStrict (public ids, parameter values)', () => {
  test('decodes UTF-8 escapes and leaves + alone', () => {
    expect(decodePercentStrict('J%C3%BCrgen')).toBe('Jürgen')
    expect(decodePercentStrict('a+b%2Bc')).toBe('a+b+c')
    expect(decodePercentStrict('plain')).toBe('plain')
  })

  test.each(['%', '%2', '%zz', '%C3', '%FF', '%C0%AF'])('refuses %s', (text) => {
    expect(decodePercentStrict(text)).toBeUndefined()
  })
})

describe("fullyUnescapeBytes (the Ruby SDK's signed text)", () => {
  test('repeats until nothing changes', () => {
    expect(unescaped('a%2520b')).toBe('a b')
    expect(unescaped('%252525252541')).toBe('A')
  })

  test('keeps invalid escapes and + as they are', () => {
    expect(unescaped('100%')).toBe('100%')
    expect(unescaped('%zz%2')).toBe('%zz%2')
    expect(unescaped('a+b')).toBe('a+b')
  })

  test('works on bytes: the result need not be UTF-8', () => {
    expect([...fullyUnescapeBytes(new TextEncoder().encode('%FF%C3'))]).toEqual([0xff, 0xc3])
  })

  test('stops after 10 rounds, like the Ruby SDK', () => {
    const elevenTimes = `%${'25'.repeat(10)}41` // needs 11 rounds to reach "A"
    expect(unescaped(elevenTimes)).toBe('%41')
  })
})
