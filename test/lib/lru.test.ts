import { describe, expect, test } from 'bun:test'
import { LruCache } from '../../src/lib/lru.ts'

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
})
