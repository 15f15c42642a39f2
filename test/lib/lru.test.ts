import { describe, expect, test } from 'bun:test'
import { keyBytes, LruCache } from '../../src/lib/lru.ts'

describe('LruCache', () => {
  test('evicts the least recently used entries once the weight limit is passed', () => {
    const cache = new LruCache<string>(10, (v) => v.length)
    cache.set('a', 'aaaa')
    cache.set('b', 'bbbb')
    expect(cache.get('a')).toBe('aaaa') // a is now the most recent
    cache.set('c', 'cccc') // 12 > 10: b goes
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe('aaaa')
    expect(cache.get('c')).toBe('cccc')
    expect(cache.weight).toBe(8)
  })

  test('ignores values heavier than the whole cache and replaces existing keys', () => {
    const cache = new LruCache<string>(4, (v) => v.length)
    cache.set('big', 'xxxxx')
    expect(cache.size).toBe(0)
    cache.set('k', 'ab')
    cache.set('k', 'abc')
    expect(cache.weight).toBe(3)
    cache.delete('k')
    expect(cache.get('k')).toBeUndefined()
    expect(cache.weight).toBe(0)
  })

  test('a hit, an update and an insert each make the key the most recent; eviction takes the oldest first', () => {
    const cache = new LruCache<number>(100)
    for (const key of ['a', 'b', 'c', 'd']) cache.set(key, 1)
    expect([...cache.keys()]).toEqual(['a', 'b', 'c', 'd'])
    cache.get('b')
    expect([...cache.keys()]).toEqual(['a', 'c', 'd', 'b'])
    cache.get('b') // already the newest
    cache.get('a')
    expect([...cache.keys()]).toEqual(['c', 'd', 'b', 'a'])
    cache.set('d', 2) // an update moves it too
    expect([...cache.keys()]).toEqual(['c', 'b', 'a', 'd'])
    expect(cache.peek('c')).toBe(1) // peek leaves the order alone
    expect([...cache.keys()]).toEqual(['c', 'b', 'a', 'd'])
    cache.get('missing')
    expect(cache.size).toBe(4)
  })

  test('evicts by weight, as many of the oldest as it takes, and never the entry just set', () => {
    const cache = new LruCache<number>(10, (v) => v)
    cache.set('a', 3)
    cache.set('b', 3)
    cache.set('c', 3)
    expect(cache.weight).toBe(9)
    cache.set('d', 7) // 16 > 10: a and b go (c + d = 10)
    expect([...cache.keys()]).toEqual(['c', 'd'])
    expect(cache.weight).toBe(10)
    cache.set('e', 10) // only e fits
    expect([...cache.keys()]).toEqual(['e'])
    expect(cache.weight).toBe(10)
    expect(cache.get('c')).toBeUndefined()
  })

  test('an update re-weighs the entry, and a value too heavy removes the old one rather than keeping it', () => {
    const cache = new LruCache<string>(10, (v) => v.length)
    cache.set('a', 'aa')
    cache.set('b', 'bb')
    cache.set('a', 'aaaaaa') // 2 → 6: total 8
    expect(cache.weight).toBe(8)
    cache.set('b', 'bbbbbb') // total 12: a (now the oldest) goes
    expect([...cache.keys()]).toEqual(['b'])
    expect(cache.weight).toBe(6)
    cache.set('b', 'x'.repeat(11))
    expect(cache.get('b')).toBeUndefined()
    expect(cache.size).toBe(0)
    expect(cache.weight).toBe(0)
  })

  test('delete and clear unlink entries: the order and weight stay consistent afterwards', () => {
    const cache = new LruCache<number>(100, (v) => v)
    for (const [key, weight] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ] as const)
      cache.set(key, weight)
    expect(cache.delete('a')).toBe(true) // the oldest
    expect(cache.delete('d')).toBe(true) // the newest
    expect(cache.delete('x')).toBe(false)
    expect([...cache.keys()]).toEqual(['b', 'c'])
    expect(cache.weight).toBe(5)
    cache.set('e', 5)
    expect([...cache.keys()]).toEqual(['b', 'c', 'e'])
    cache.delete('c') // the middle
    expect([...cache.keys()]).toEqual(['b', 'e'])
    cache.clear()
    expect(cache.size).toBe(0)
    expect(cache.weight).toBe(0)
    expect([...cache.keys()]).toEqual([])
    cache.set('f', 1)
    expect([...cache.keys()]).toEqual(['f'])
    expect(cache.has('f')).toBe(true)
  })

  test('key bytes count towards the bound when the weight says so', () => {
    const cache = new LruCache<Uint8Array>(1000, (bytes, key) => bytes.byteLength + keyBytes(key))
    cache.set('k'.repeat(100), new Uint8Array(100)) // 100 + 200
    expect(cache.weight).toBe(300)
    cache.set('j'.repeat(300), new Uint8Array(100)) // 100 + 600: 1000 in all
    expect(cache.size).toBe(2)
    cache.set('i'.repeat(10), new Uint8Array(1)) // 21 more: the oldest goes
    expect(cache.size).toBe(2)
    expect(cache.has('k'.repeat(100))).toBe(false)
    // A key alone heavier than the bound is not kept, however small its value.
    cache.set('h'.repeat(600), new Uint8Array(0))
    expect(cache.has('h'.repeat(600))).toBe(false)
  })

  test('many hits and inserts on a churned cache stay consistent (size, weight, order)', () => {
    const cache = new LruCache<number>(500, (v) => v)
    const model = new Map<string, number>() // insertion-ordered reference LRU
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(random() * 200)}`
      if (random() < 0.5) {
        const value = model.get(key)
        if (value !== undefined) {
          model.delete(key)
          model.set(key, value)
        }
        expect(cache.get(key)).toBe(value)
      } else {
        const value = 1 + Math.floor(random() * 20)
        model.delete(key)
        model.set(key, value)
        let total = [...model.values()].reduce((a, b) => a + b, 0)
        for (const [oldest, weight] of model) {
          if (total <= 500) break
          model.delete(oldest)
          total -= weight
        }
        cache.set(key, value)
      }
    }
    expect([...cache.keys()]).toEqual([...model.keys()])
    expect(cache.weight).toBe([...model.values()].reduce((a, b) => a + b, 0))
  })
})
