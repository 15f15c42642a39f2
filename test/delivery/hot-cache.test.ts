import { expect, test } from 'bun:test'
import { createHotCache } from '../../src/delivery/hot-cache.ts'
import type { ImageResponse } from '../../src/delivery/respond.ts'

const tiny: ImageResponse = {
  bytes: new Uint8Array(1),
  format: 'png',
  hash: 'h',
  cacheControl: 'public, max-age=60',
  varyAccept: false,
}

test('keys count against the memory bound: long distinct paths cannot grow the cache past it', () => {
  // 4 KB-ish keys and 1-byte answers: without counting keys, 100 entries would fit in 10 KB.
  const hot = createHotCache({ ttlMs: 60_000, maxBytes: 10_000 })
  const keys = Array.from({ length: 100 }, (_, i) => `/image/gravatar/${'x'.repeat(2000)}/${i}`)
  for (const key of keys) {
    hot.offer(key, tiny)
    hot.offer(key, tiny)
  }
  const kept = keys.filter((key) => hot.get(key) !== undefined).length
  expect(kept).toBeGreaterThan(0)
  expect(kept).toBeLessThanOrEqual(2) // each entry ≈ 4 KB of key + 512 of overhead
})

test('a URL answered once is not kept; asked for again, it is', () => {
  const hot = createHotCache({ ttlMs: 60_000 })
  hot.offer('/image/gravatar/once.jpg\u0000', tiny)
  expect(hot.get('/image/gravatar/once.jpg\u0000')).toBeUndefined()
  hot.offer('/image/gravatar/once.jpg\u0000', tiny)
  expect(hot.get('/image/gravatar/once.jpg\u0000')).toBe(tiny)
  // Another URL's first answer does not count as this one's second.
  hot.offer('/image/gravatar/other.jpg\u0000', tiny)
  expect(hot.get('/image/gravatar/other.jpg\u0000')).toBeUndefined()
})

test('a cache turned off (ttl 0) keeps nothing, however often a URL is offered', () => {
  const hot = createHotCache({ ttlMs: 0 })
  for (let i = 0; i < 3; i++) hot.offer('/image/gravatar/x.jpg\u0000', tiny)
  expect(hot.get('/image/gravatar/x.jpg\u0000')).toBeUndefined()
})
