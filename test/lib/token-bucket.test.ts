import { describe, expect, test } from 'bun:test'
import { TokenBuckets } from '../../src/lib/token-bucket.ts'

const T0 = 1_000_000

describe('TokenBuckets', () => {
  test('a new client may spend its burst at once, then waits for the rate', () => {
    const buckets = new TokenBuckets({ perMinute: 60, burst: 3, maxClients: 10 })
    expect([buckets.take('a', T0), buckets.take('a', T0), buckets.take('a', T0)]).toEqual([0, 0, 0])
    // One token a second: the fourth is a whole second away.
    expect(buckets.take('a', T0)).toBe(1000)
    expect(buckets.take('a', T0 + 400)).toBe(600)
    expect(buckets.take('a', T0 + 1000)).toBe(0)
    expect(buckets.take('a', T0 + 1000)).toBe(1000)
  })

  test('a refused request costs nothing: the wait does not grow by asking', () => {
    const buckets = new TokenBuckets({ perMinute: 60, burst: 1, maxClients: 10 })
    expect(buckets.take('a', T0)).toBe(0)
    for (let i = 0; i < 50; i++) expect(buckets.take('a', T0 + 10 * i)).toBe(1000 - 10 * i)
    expect(buckets.take('a', T0 + 1000)).toBe(0)
  })

  test('saved-up tokens never exceed the burst', () => {
    const buckets = new TokenBuckets({ perMinute: 120, burst: 2, maxClients: 10 })
    expect(buckets.take('a', T0)).toBe(0)
    const later = T0 + 3_600_000
    expect([buckets.take('a', later), buckets.take('a', later)]).toEqual([0, 0])
    expect(buckets.take('a', later)).toBe(500)
  })

  test('clients have buckets of their own', () => {
    const buckets = new TokenBuckets({ perMinute: 60, burst: 1, maxClients: 10 })
    expect(buckets.take('a', T0)).toBe(0)
    expect(buckets.take('a', T0)).toBeGreaterThan(0)
    expect(buckets.take('b', T0)).toBe(0)
  })

  test('memory is bounded: a spray of addresses keeps at most maxClients buckets', () => {
    const buckets = new TokenBuckets({ perMinute: 60, burst: 1, maxClients: 100 })
    for (let i = 0; i < 10_000; i++) {
      buckets.take(`10.0.${i >> 8}.${i & 255}`, T0)
      expect(buckets.size).toBeLessThanOrEqual(100)
    }
    expect(buckets.size).toBeGreaterThanOrEqual(50)
  })

  test('the least recently charged client is forgotten first; a busy one keeps its bucket', () => {
    const buckets = new TokenBuckets({ perMinute: 1, burst: 1, maxClients: 4 })
    expect(buckets.take('busy', T0)).toBe(0)
    for (let i = 0; i < 20; i++) {
      buckets.take(`sprayed-${i}`, T0)
      // Still asking between the others: still the same, empty bucket.
      expect(buckets.take('busy', T0)).toBeGreaterThan(0)
    }
    // A client that stopped asking was forgotten, and starts again with a full bucket.
    expect(buckets.take('sprayed-0', T0)).toBe(0)
  })

  test('refuses settings that would never refill', () => {
    expect(() => new TokenBuckets({ perMinute: 0, burst: 1, maxClients: 1 })).toThrow()
    expect(() => new TokenBuckets({ perMinute: 1, burst: 0, maxClients: 1 })).toThrow()
  })
})
